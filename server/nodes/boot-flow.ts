/**
 * What the node plane answers a boot loader (iPXE's `/boot`, GRUB's `/grub/node/...`): boot-time records
 * are created here (state `discovered`, within the node-guard limits) and the answer is decided by state;
 * the agent's registration later claims the identifiers no other record holds. Records are merged only by
 * the operator (docs/identity.md). The DHCP/TFTP side is boot-hooks-impl.ts.
 */
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { canonicalMac, canonicalSerial, canonicalUuid, decideClaims } from './identity.ts';
import { recordConflicts } from './conflicts.ts';
import { addressBelongsToNode, addressesAreKnown, plainIp } from './node-address.ts';
import { mintEnrolment, mintInstall } from './tokens.ts';
import { bootArch, findMicrokernelFor, microkernelUrlPath, type MkArch } from '../boot/microkernel-select.ts';
import type { IpxeKernel } from '../boot/microkernel-assets.ts';
import { taskContext } from '../tasks/task-service.ts';
import { ccError } from '../errors/cc-error.ts';
import { bootsFromDisk, microkernelPolicy } from '../deploy/task-flow.ts';
import { claimManifest } from '../manifest/claim.ts';
import { taskNetwork } from './static-ip.ts';

/** What a boot loader tells the node plane (iPXE: `/boot`'s query; GRUB: its path and query). */
export interface BootQuery {
  mac: string;
  uuid?: string;
  serial?: string;
  manufacturer?: string;
  product?: string;
  arch?: string;
  platform?: string;
}

/** iPXE's ${buildarch} and ${platform} are short lowercase words; anything else is not stored. */
const WORD = /^[a-z0-9_]{1,16}$/;

/**
 * The node holding `mac`, or a new `discovered` record for it when `source` may create one (docs/identity.md 1:
 * a new MAC is a new record, even when the UUID and serial match a known node). Null: refused by a limit.
 */
export async function recordBoot(ctx: CoreContext, mac: string, source: string): Promise<{ node: NodeDoc; created: boolean } | null> {
  const existing = ctx.repo.byMacAddress(mac);
  if (existing) return { node: existing, created: false };
  if (!ctx.guard.mayCreate(source)) return null;
  const node = ctx.repo.create({ macs: [mac], boot_mac: mac, approved: !ctx.settings.get().approval_required }, ctx.now());
  return { node, created: true };
}

/** Fill the UUID and serial a boot reported where the node has none, unless another record holds them (a conflict). */
function claimHardwareIds(ctx: CoreContext, node: NodeDoc, uuid: string | null, serial: string | null): void {
  if (uuid === null && serial === null) return;
  const others = ctx.repo.candidates([], uuid, serial).filter((c) => c.id !== node.id);
  const claim = decideClaims({ macs: [], uuid, serial }, others);
  node.uuid = node.uuid ?? claim.uuid;
  node.serial = node.serial ?? claim.serial;
  recordConflicts(ctx, node, claim.overlaps);
}

/** What a boot request decided, before it is written in the boot loader's language (boot-render.ts). */
export type BootDecision =
  | { action: 'local-disk'; nodeId: number; hostname: string | null }
  | { action: 'error'; nodeId: number }
  | { action: 'task'; nodeId: number; task: string; ipxe: string }
  /** `task`: a task the agent carries out (image-deploy), the state stays as it is. */
  | {
      action: 'microkernel';
      nodeId: number;
      token: string;
      version: string;
      arch: MkArch;
      mkPath: string;
      /** The kernel file iPXE boots (microkernel-assets.ts); GRUB boots `vmlinuz`. */
      ipxeKernel: IpxeKernel;
      task?: string;
    }
  | { action: 'no-microkernel'; nodeId: number; token: string; arch: string };

/** The boot loader that asked: iPXE (`/boot`) or GRUB (`/grub/node/...`). */
export type BootLoader = 'ipxe' | 'grub';

/** The word a `node.boot` event records for a decision (`task:debian`, `microkernel`, `microkernel-task:image-deploy`, ...). */
export function actionName(d: BootDecision): string {
  if (d.action === 'task') return `task:${d.task}`;
  return d.action === 'microkernel' && d.task ? `microkernel-task:${d.task}` : d.action;
}

/**
 * Answer a boot loader's request: record the node, choose what it boots by state, and let `render` write it
 * in the loader's language. The token in the answer must survive a crash, so the node is saved durably.
 * `creator`: the node-guard source a new record is charged to. By default the request's address (HTTP: the TCP
 * handshake proves it); a request that came in a UDP datagram (TFTP) passes DHCP_SOURCE, the one bucket of what
 * the rack can send from any forged address (node-guard.ts).
 */
export function bootRequest<T>(
  ctx: CoreContext,
  q: BootQuery,
  ip: string,
  loader: BootLoader,
  render: (d: BootDecision, node: NodeDoc) => T,
  creator?: string,
): Promise<{ answer: T; node: NodeDoc; action: string }> {
  const mac = canonicalMac(q.mac);
  if (!mac) throw ccError('CC_ERR_BAD_REQUEST', `mac "${q.mac}" is not a MAC address (iPXE fills it from \${netX/mac})`);
  const source = plainIp(ip);
  const charged = creator ?? source;
  return durably(ctx, async () => {
    const found = await recordBoot(ctx, mac, charged);
    if (!found)
      throw ccError(
        'CC_ERR_RATE_LIMITED',
        charged === source
          ? `no new machine records from ${source} for now (node_create_per_source_per_min, unregistered_nodes_max)`
          : `no new machine records from DHCP and TFTP sightings for now (node_create_dhcp_per_min, unregistered_nodes_max)`,
      );
    const uuid = canonicalUuid(q.uuid);
    const serial = canonicalSerial(q.serial);
    // A machine the rack manifest expects takes its record (docs/manifest.md); the new record, if any, folds into it.
    const node = await claimManifest(ctx, found.node, { macs: [mac], uuid, serial }, 'boot');
    const created = found.created && node === found.node;
    const now = ctx.now().toISOString();
    node.boot_mac = mac;
    node.ip = source;
    if (q.arch && WORD.test(q.arch)) node.arch = q.arch;
    if (q.platform && WORD.test(q.platform)) node.platform = q.platform;
    node.boot_mode = q.platform === 'efi' ? 'uefi' : q.platform === 'pcbios' ? 'bios' : node.boot_mode;
    // The loader we served asked: an iPXE loader ran (boot_chain auto), or GRUB did.
    if (loader === 'ipxe') node.ipxe_ran_at = now;
    claimHardwareIds(ctx, node, uuid, serial);
    node.manufacturer = node.manufacturer ?? (q.manufacturer?.trim().slice(0, 256) || null);
    node.product = node.product ?? (q.product?.trim().slice(0, 256) || null);
    node.last_seen = now;
    if (created)
      ctx.guard.discovered({ node_id: node.id, mac, message: `New machine ${mac} asked what to boot`, data: { ...q, ip: source } });

    const decision = await decide(ctx, node, source, q.arch);
    const answer = render(decision, node);
    await ctx.repo.save(node);
    const action = actionName(decision);
    ctx.guard.sourceEvent(source, 'node.boot', {
      node_id: node.id,
      mac,
      message: `Boot request from ${source} (${loader === 'grub' ? 'GRUB' : 'iPXE'}): answered ${action}`,
      data: { action, loader, ...q, ip: source },
    });
    return { answer, node, action };
  });
}

/**
 * Choose by state: installed (or an image-deploy node whose disk is written) -> local disk, error, bound to a
 * task the agent carries out -> the microkernel with that task, bound -> its task, else the microkernel of its
 * architecture.
 */
async function decide(ctx: CoreContext, node: NodeDoc, source: string, archName: string | undefined): Promise<BootDecision> {
  const { publicUrl } = ctx.config;
  const mkPolicy = microkernelPolicy(ctx, node);
  if (node.state === 'installed' || (mkPolicy && node.state === 'installing' && bootsFromDisk(node))) {
    node.agent_active = false;
    return { action: 'local-disk', nodeId: node.id, hostname: node.hostname };
  }
  // The reason came from the node (a stage detail): it stays in the UI and events, never in the script.
  if (node.state === 'error') return { action: 'error', nodeId: node.id };
  if (mkPolicy && (node.state === 'bound' || node.state === 'installing')) {
    // The agent carries the task out (server/deploy/task-flow.ts): boot the microkernel, state unchanged.
    const token = mintEnrolment(ctx, node, addressesAreKnown(ctx) && (await addressBelongsToNode(ctx, node, source)));
    node.last_boot_at = ctx.now().toISOString();
    return microkernelDecision(ctx, node, token, archName, mkPolicy.task);
  }
  if (node.policy && (node.state === 'bound' || node.state === 'installing')) {
    const policy = ctx.policies.get(node.policy);
    const image = policy?.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
    if (!policy) throw ccError('CC_ERR_NOT_FOUND', `policy "${node.policy}" of node ${node.id} was deleted; unbind the node`);
    const token = mintInstall(ctx, node);
    const facts = (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts ?? {};
    node.agent_active = false;
    const network = taskNetwork(ctx, node);
    const ipxe = ctx.tasks.renderFor(policy.task, taskContext({ publicUrl, node, policy, image, facts, token, network })).ipxe;
    return { action: 'task', nodeId: node.id, task: policy.task, ipxe };
  }
  const token = mintEnrolment(ctx, node, addressesAreKnown(ctx) && (await addressBelongsToNode(ctx, node, source)));
  node.last_boot_at = ctx.now().toISOString();
  if (node.state !== 'registered' && node.state !== 'lost') node.state = 'booting-microkernel';
  return microkernelDecision(ctx, node, token, archName);
}

/** The microkernel of the machine's architecture, or why there is none; `task`: the agent's job once it runs. */
function microkernelDecision(ctx: CoreContext, node: NodeDoc, token: string, archName: string | undefined, task?: string): BootDecision {
  const arch = bootArch(archName);
  const mk = arch ? findMicrokernelFor(ctx.config.dataDir, ctx.config.microkernelDir, arch) : null;
  if (!arch || !mk) return { action: 'no-microkernel', nodeId: node.id, token, arch: arch ?? archWord(archName) };
  return {
    action: 'microkernel',
    nodeId: node.id,
    token,
    version: mk.version,
    arch,
    mkPath: microkernelUrlPath(arch),
    ipxeKernel: mk.ipxeKernel,
    ...(task ? { task } : {}),
  };
}

/** An architecture name for messages: the loader's word when it is one, else `unknown`. */
function archWord(name: string | undefined): string {
  return name && WORD.test(name) ? name : 'unknown';
}
