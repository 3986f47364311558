/**
 * The job a node bound to an `image-deploy` policy gets in its check-in answer: the image's location and
 * checksums (from the image record), the root device hints (policy metadata `root_device`), the seed and
 * the tools overlay of the served microkernel.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Value } from 'typebox/value';
import { RootDeviceHintsSchema, type DeployJob, type RootDeviceHints, type ToolsRef } from '../../contract/agent-tasks.ts';
import type { ImageDoc, NodeDoc } from '../store/docs.ts';
import type { PolicyDoc } from '../store/docs.ts';
import { findMicrokernel } from '../boot/microkernel-assets.ts';
import { renderSeed, type SeedNetwork } from './nocloud-seed.ts';
import { TaskError } from './task-failure.ts';

/** A new job id (URL-safe, 16 characters). */
export function newJobId(): string {
  return crypto.randomBytes(12).toString('base64url');
}

/** The tools overlay of the microkernel the appliance serves, from its manifest. */
export function toolsRef(dataDir: string, microkernelDir: string | null): ToolsRef {
  const mk = findMicrokernel(dataDir, microkernelDir);
  if (!mk) throw new TaskError('tools-failed', 'no microkernel is installed');
  try {
    const m = JSON.parse(fs.readFileSync(path.join(mk.dir, 'manifest.json'), 'utf8')) as { tools?: { bytes?: number; sha256?: string } };
    if (m.tools?.sha256 && m.tools.bytes && fs.existsSync(path.join(mk.dir, 'tools.img')))
      return { url: '/mk/tools.img', sha256: m.tools.sha256, size: m.tools.bytes };
  } catch {
    /* below */
  }
  throw new TaskError('tools-failed', `the microkernel in ${mk.dir} has no task tools overlay (tools.img)`);
}

/** The hints a policy may give (Ironic's, without `by_path`: docs/deploy.md). */
const HINT_NAMES = Object.keys(RootDeviceHintsSchema.properties);

/** What is wrong with policy metadata `root_device` (absent is fine), or null. */
export function rootDeviceHintsProblem(h: unknown): string | null {
  if (h === undefined || h === null || Value.Check(RootDeviceHintsSchema, h)) return null;
  if (typeof h !== 'object' || Array.isArray(h)) return `metadata.root_device must be an object of hints (${HINT_NAMES.join(', ')})`;
  const unknown = Object.keys(h).filter((k) => !HINT_NAMES.includes(k));
  if (unknown.length)
    return `metadata.root_device: ${unknown.join(', ')} is not a root device hint here (the hints: ${HINT_NAMES.join(', ')})`;
  const first = [...Value.Errors(RootDeviceHintsSchema, h)].find((e) => e.instancePath !== '');
  return `metadata.root_device${(first?.instancePath ?? '').replace(/\//g, '.')}: ${first?.message ?? 'not a valid hint'}`;
}

/** Policy metadata `root_device`, checked against the hint schema. */
export function rootDeviceHints(policy: PolicyDoc): RootDeviceHints | null {
  const h = policy.metadata?.['root_device'];
  const problem = rootDeviceHintsProblem(h);
  if (problem) throw new TaskError('no-fitting-disk', `policy ${policy.name}: ${problem}`);
  return (h as RootDeviceHints | undefined) ?? null;
}

/** Build the deploy job; throws TaskError when the image cannot be deployed. */
export function deployJob(o: {
  node: NodeDoc;
  policy: PolicyDoc;
  image: ImageDoc | null;
  tools: ToolsRef;
  publicUrl: string;
  installToken: string;
  jobId: string;
  /** The node's static address (server/nodes/static-ip.ts taskNetwork); null: the seed says DHCP. */
  network?: SeedNetwork | null;
}): DeployJob {
  const { node, policy, image } = o;
  const d = image?.disk;
  if (!image || !d) throw new TaskError('internal', `policy ${policy.name} has no disk image (choose an image of kind disk)`);
  const part = d.partition_table.partitions.find((p) => p.number === d.root_partition);
  return {
    kind: 'image-deploy',
    job_id: o.jobId,
    image: {
      name: image.name,
      url: `/images/${encodeURIComponent(image.name)}/${encodeURIComponent(d.file)}`,
      compression: 'zstd',
      stored_size: d.stored_size,
      stored_sha256: d.stored_sha256,
      size: d.size,
      sha256: d.sha256,
      partition_table: d.partition_table.type,
      root_partition: part ? { number: part.number, start: part.start, size: part.size, filesystem: part.filesystem } : null,
      firmware: d.firmware,
      first_boot: d.first_boot,
    },
    root_device: rootDeviceHints(policy),
    seed:
      d.first_boot === 'nocloud'
        ? renderSeed({
            nodeId: node.id,
            jobId: o.jobId,
            hostname: node.hostname,
            bootMac: node.boot_mac,
            sshKeys: policy.ssh_keys ?? [],
            rootPasswordHash: policy.root_password_hash ?? null,
            stageUrl: `${o.publicUrl}/api/v1/nodes/${node.id}/stage?token=${o.installToken}`,
            network: o.network ?? null,
          })
        : null,
    tools: o.tools,
  };
}
