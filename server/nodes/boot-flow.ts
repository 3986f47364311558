/**
 * What the node plane answers on `/boot`, and what DHCP/TFTP tell the core:
 * boot-time records are created here (state `discovered`, within the node-guard
 * limits); the agent's registration later claims the identifiers no other record
 * holds. Records are merged only by the operator (docs/identity.md).
 */
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { BootHooks, BootSighting, TftpHooks } from '../core/boot-hooks.ts';
import { canonicalMac, canonicalSerial, canonicalUuid, decideClaims } from './identity.ts';
import { recordConflicts } from './conflicts.ts';
import { addressBelongsToNode, addressesAreKnown, plainIp } from './node-address.ts';
import { mintEnrolment, mintInstall } from './tokens.ts';
import { DHCP_SOURCE } from './node-guard.ts';
import { isUnclaimed } from './operator-fields.ts';
import { microkernelScript, noMicrokernelScript, localDiskScript, errorStateScript } from '../boot/scripts.ts';
import { findMicrokernel } from '../boot/microkernel-assets.ts';
import { taskContext } from '../tasks/task-service.ts';
import { ccError } from '../errors/cc-error.ts';
import { bootsFromDisk, microkernelPolicy } from '../deploy/task-flow.ts';
import { claimManifest } from '../manifest/claim.ts';
import { taskNetwork } from './static-ip.ts';

/** What iPXE tells `/boot` (query string). */
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
async function recordBoot(ctx: CoreContext, mac: string, source: string): Promise<{ node: NodeDoc; created: boolean } | null> {
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

/** Answer `/boot`: record the node and choose its script by state. */
export function bootRequest(ctx: CoreContext, q: BootQuery, ip: string): Promise<{ script: string; node: NodeDoc; action: string }> {
  const mac = canonicalMac(q.mac);
  if (!mac) throw ccError('CC_ERR_BAD_REQUEST', `mac "${q.mac}" is not a MAC address (iPXE fills it from \${netX/mac})`);
  const source = plainIp(ip);
  return durably(ctx, async () => {
    const found = await recordBoot(ctx, mac, source);
    if (!found)
      throw ccError(
        'CC_ERR_RATE_LIMITED',
        `no new machine records from ${source} for now (node_create_per_source_per_min, unregistered_nodes_max)`,
      );
    const uuid = canonicalUuid(q.uuid);
    const serial = canonicalSerial(q.serial);
    // A machine the rack manifest expects takes its record (docs/manifest.md); the new record, if any, folds into it.
    const node = await claimManifest(ctx, found.node, { macs: [mac], uuid, serial });
    const created = found.created && node === found.node;
    const now = ctx.now().toISOString();
    node.boot_mac = mac;
    node.ip = source;
    if (q.arch && WORD.test(q.arch)) node.arch = q.arch;
    if (q.platform && WORD.test(q.platform)) node.platform = q.platform;
    node.boot_mode = q.platform === 'efi' ? 'uefi' : q.platform === 'pcbios' ? 'bios' : node.boot_mode;
    claimHardwareIds(ctx, node, uuid, serial);
    node.manufacturer = node.manufacturer ?? (q.manufacturer?.trim().slice(0, 256) || null);
    node.product = node.product ?? (q.product?.trim().slice(0, 256) || null);
    node.last_seen = now;
    if (created)
      ctx.guard.discovered({ node_id: node.id, mac, message: `New machine ${mac} asked what to boot`, data: { ...q, ip: source } });

    const { publicUrl } = ctx.config;
    let script: string;
    let action: string;
    const mkPolicy = microkernelPolicy(ctx, node);
    if (node.state === 'installed' || (mkPolicy && node.state === 'installing' && bootsFromDisk(node))) {
      action = 'local-disk';
      node.agent_active = false;
      script = localDiskScript({ publicUrl, nodeId: node.id, hostname: node.hostname });
    } else if (node.state === 'error') {
      // The reason came from the node (a stage detail): it stays in the UI and events, never in the script.
      action = 'error';
      script = errorStateScript({ publicUrl, nodeId: node.id });
    } else if (mkPolicy && (node.state === 'bound' || node.state === 'installing')) {
      // The agent carries the task out (server/deploy/task-flow.ts): boot the microkernel, state unchanged.
      const token = mintEnrolment(ctx, node, addressesAreKnown(ctx) && (await addressBelongsToNode(ctx, node, source)));
      node.last_boot_at = now;
      const mk = findMicrokernel(ctx.config.dataDir, ctx.config.microkernelDir);
      action = mk ? `microkernel-task:${mkPolicy.task}` : 'no-microkernel';
      script = mk
        ? microkernelScript({ publicUrl, nodeId: node.id, token, version: mk.version })
        : noMicrokernelScript({ publicUrl, nodeId: node.id, token });
    } else if (node.policy && (node.state === 'bound' || node.state === 'installing')) {
      const policy = ctx.policies.get(node.policy);
      const image = policy?.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
      if (!policy) throw ccError('CC_ERR_NOT_FOUND', `policy "${node.policy}" of node ${node.id} was deleted; unbind the node`);
      const token = mintInstall(ctx, node);
      const facts = (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts ?? {};
      action = `task:${policy.task}`;
      node.agent_active = false;
      const network = taskNetwork(ctx, node);
      script = ctx.tasks.renderFor(policy.task, taskContext({ publicUrl, node, policy, image, facts, token, network })).ipxe;
    } else {
      const token = mintEnrolment(ctx, node, addressesAreKnown(ctx) && (await addressBelongsToNode(ctx, node, source)));
      node.last_boot_at = now;
      if (node.state !== 'registered' && node.state !== 'lost') node.state = 'booting-microkernel';
      const mk = findMicrokernel(ctx.config.dataDir, ctx.config.microkernelDir);
      action = mk ? 'microkernel' : 'no-microkernel';
      script = mk
        ? microkernelScript({ publicUrl, nodeId: node.id, token, version: mk.version })
        : noMicrokernelScript({ publicUrl, nodeId: node.id, token });
    }
    // The token in the script must survive a crash, or the node cannot register: durable.
    await ctx.repo.save(node);
    ctx.guard.sourceEvent(source, 'node.boot', {
      node_id: node.id,
      mac,
      message: `Boot request from ${source}: answered ${action}`,
      data: { action, ...q, ip: source },
    });
    return { script, node, action };
  });
}

/** The core side of DHCP/TFTP hooks. */
export function bootHooks(ctx: CoreContext): BootHooks & TftpHooks {
  const nodeByIp = async (ip: string): Promise<NodeDoc | undefined> => {
    const lease = await ctx.store.leases.findOne({ ip });
    const byLease = lease ? ctx.repo.byMacAddress(lease.mac) : undefined;
    return byLease ?? ctx.repo.all().find((d) => d.ip === ip);
  };
  return {
    async sawBoot(s: BootSighting) {
      const mac = canonicalMac(s.mac);
      if (!mac) return null;
      return ctx.lock.run(async () => {
        const found = await recordBoot(ctx, mac, DHCP_SOURCE);
        if (!found) return null; // over the DHCP creation limit: DHCP still answers, /boot records it later
        const { node, created } = found;
        if (s.arch !== undefined && s.arch !== null) node.boot_mode = s.arch === 0 ? 'bios' : 'uefi';
        node.last_seen = ctx.now().toISOString();
        // A MAC the manifest lists claims its record at the first DHCP packet (a MAC is all DHCP knows for sure).
        if (isUnclaimed(node)) {
          node.boot_mac = mac;
          await claimManifest(ctx, node, { macs: [mac], uuid: null, serial: null });
          await ctx.repo.save(node);
        } else if (created) {
          await ctx.repo.save(node);
          ctx.guard.discovered({ node_id: node.id, mac, message: `New machine ${mac} seen by DHCP`, data: { ...s } });
        } else ctx.repo.touch(node);
        return node.id;
      });
    },
    async efiLoaderFor(mac: string) {
      const node = ctx.repo.byMacAddress(canonicalMac(mac) ?? '');
      return node?.efi_loader ?? ctx.settings.get().default_efi_loader;
    },
    async nodeIdForMac(mac: string) {
      return ctx.repo.byMacAddress(canonicalMac(mac) ?? '')?.id ?? null;
    },
    async tftpFileFor(ip: string, requested: string) {
      if (requested !== 'ipxe.efi' && requested !== 'snponly.efi') return requested;
      const node = await nodeByIp(ip);
      return node?.efi_loader ?? requested;
    },
    async nodeIdForIp(ip: string) {
      return (await nodeByIp(ip))?.id ?? null;
    },
  };
}
