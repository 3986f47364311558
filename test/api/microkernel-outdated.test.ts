/**
 * `microkernel_outdated` per architecture (issue 15, "The microkernel version"): a node is compared with
 * the microkernel ITS architecture boots now, so an arm64 node that registered with the current arm64
 * image is current even though the amd64 image has another version, and the `outdated_microkernel`
 * filter finds exactly the nodes whose own architecture has a newer image. Real /boot and /register on
 * the node plane of an in-process appliance; the microkernels are folders with a manifest.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { kernelArgs } from '../support/protocol-node.ts';
import type { Node } from '../../contract/node.ts';

let a: InProcessAppliance;
let mkBase: string;

/** A microkernel folder of `version` (what findMicrokernel reads: vmlinuz, initrd.img, manifest.json). */
function microkernel(dir: string, version: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['vmlinuz', 'initrd.img']) writeFileSync(path.join(dir, f), `${version} ${f}`);
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version }));
}

const admin = async <T>(url: string): Promise<T> => {
  const r = await a.admin.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await a.token()}` } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as T;
};

/** A machine of `arch` boots (iPXE's ${buildarch}) and its agent registers with `mk`; resolves with its node id. */
async function machine(mac: string, arch: string, mk: string): Promise<number> {
  const remoteAddress = '10.66.0.130';
  const boot = await a.node.inject({ method: 'GET', url: `/boot?mac=${mac}&arch=${arch}&platform=efi`, remoteAddress });
  expect(boot.statusCode, boot.body).toBe(200);
  const ka = kernelArgs(boot.body);
  expect(ka.token, boot.body).toBeTruthy();
  const reg = await a.node.inject({
    method: 'POST',
    url: '/api/v1/register',
    remoteAddress,
    payload: { hw_id: mac, node_id: ka.node, macs: [mac], token: ka.token, facts: {}, agent_version: '0.1.0', microkernel_version: mk },
  });
  expect(reg.statusCode, reg.body).toBe(200);
  return ka.node!;
}

beforeAll(async () => {
  mkBase = path.join(os.tmpdir(), `cc-mk-outdated-${process.pid}`);
  microkernel(path.join(mkBase, 'microkernel'), 'mk-amd64-2');
  microkernel(path.join(mkBase, 'microkernel-arm64'), 'mk-arm64-7');
  a = await startInProcess(['--microkernel', path.join(mkBase, 'microkernel')]);
});
afterAll(async () => {
  await a?.stop();
  rmSync(mkBase, { recursive: true, force: true });
});

describe('microkernel_outdated compares each node with its own architecture', () => {
  it('current on both architectures, outdated on each, and the filter finds exactly the outdated', async () => {
    const ids = {
      amd64Current: await machine('52:54:00:cc:0d:01', 'x86_64', 'mk-amd64-2'),
      arm64Current: await machine('52:54:00:cc:0d:02', 'arm64', 'mk-arm64-7'),
      amd64Old: await machine('52:54:00:cc:0d:03', 'x86_64', 'mk-amd64-1'),
      // The arm64 image's version on an amd64 machine (or the other way round) is not the image it boots now.
      arm64Old: await machine('52:54:00:cc:0d:04', 'arm64', 'mk-amd64-2'),
    };
    const view = async (id: number) => admin<Node>(`/api/v1/nodes/${id}`);
    expect(await view(ids.amd64Current)).toMatchObject({ arch: 'x86_64', microkernel_version: 'mk-amd64-2', microkernel_outdated: false });
    expect(await view(ids.arm64Current)).toMatchObject({ arch: 'arm64', microkernel_version: 'mk-arm64-7', microkernel_outdated: false });
    expect(await view(ids.amd64Old)).toMatchObject({ microkernel_outdated: true });
    expect(await view(ids.arm64Old)).toMatchObject({ microkernel_outdated: true });
    const outdated = await admin<{ nodes: Node[] }>('/api/v1/nodes?outdated_microkernel=true');
    expect(outdated.nodes.map((n) => n.id).sort()).toEqual([ids.amd64Old, ids.arm64Old].sort());
    const current = await admin<{ nodes: Node[] }>('/api/v1/nodes?outdated_microkernel=false');
    expect(current.nodes.map((n) => n.id)).toEqual(expect.arrayContaining([ids.amd64Current, ids.arm64Current]));

    // A new arm64 image: the arm64 node that was current is now outdated; the amd64 ones are unchanged.
    microkernel(path.join(mkBase, 'microkernel-arm64'), 'mk-arm64-8');
    expect((await view(ids.arm64Current)).microkernel_outdated).toBe(true);
    expect((await view(ids.amd64Current)).microkernel_outdated).toBe(false);
    // No arm64 image at all: nothing newer to boot, so no arm64 node is outdated.
    rmSync(path.join(mkBase, 'microkernel-arm64'), { recursive: true });
    expect((await view(ids.arm64Current)).microkernel_outdated).toBe(false);
    expect((await view(ids.arm64Old)).microkernel_outdated).toBe(false);
  });
});
