/**
 * What the node plane answers on `/boot`, and what DHCP/TFTP tell the core:
 * boot-time records are created here (state `discovered`) and later merged
 * into the registered node by the agent's registration.
 */
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { BootHooks, BootSighting, TftpHooks } from '../core/boot-hooks.ts';
import { canonicalMac, canonicalSerial, canonicalUuid } from './identity.ts';
import { hashToken, newToken } from './node-repo.ts';
import { microkernelScript, noMicrokernelScript, localDiskScript, errorStateScript } from '../boot/scripts.ts';
import { findMicrokernel } from '../boot/microkernel-assets.ts';
import { taskContext } from '../tasks/task-service.ts';
import { ccError } from '../errors/cc-error.ts';

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

/** Find the node for a boot-time sighting, creating a `discovered` record when new. */
async function recordBoot(ctx: CoreContext, mac: string, extra: Partial<NodeDoc>): Promise<{ node: NodeDoc; created: boolean }> {
  const existing = ctx.repo.byMacAddress(mac);
  if (existing) return { node: existing, created: false };
  // A machine booting from another NIC: match on UUID + serial of a known node.
  if (extra.uuid && extra.serial) {
    const same = ctx.repo.byUuidAndSerial(extra.uuid, extra.serial)[0];
    if (same) {
      same.macs = [...same.macs, mac];
      return { node: same, created: false };
    }
  }
  const node = ctx.repo.create({ macs: [mac], boot_mac: mac, ...extra }, ctx.now());
  return { node, created: true };
}

/** Answer `/boot`: record the node and choose its script by state. */
export function bootRequest(ctx: CoreContext, q: BootQuery, ip: string | null): Promise<{ script: string; node: NodeDoc; action: string }> {
  const mac = canonicalMac(q.mac);
  if (!mac) throw ccError('CC_ERR_BAD_REQUEST', `mac "${q.mac}" is not a MAC address (iPXE fills it from \${netX/mac})`);
  return durably(ctx, async () => {
    const uuid = canonicalUuid(q.uuid);
    const serial = canonicalSerial(q.serial);
    const { node, created } = await recordBoot(ctx, mac, { uuid, serial });
    const now = ctx.now().toISOString();
    node.boot_mac = mac;
    node.ip = ip ?? node.ip;
    node.arch = q.arch || node.arch;
    node.platform = q.platform || node.platform;
    node.boot_mode = q.platform === 'efi' ? 'uefi' : q.platform === 'pcbios' ? 'bios' : node.boot_mode;
    node.uuid = node.uuid ?? uuid;
    node.serial = node.serial ?? serial;
    node.manufacturer = node.manufacturer ?? (q.manufacturer?.trim().slice(0, 256) || null);
    node.product = node.product ?? (q.product?.trim().slice(0, 256) || null);
    node.last_seen = now;
    if (created)
      ctx.events.emit('node.discovered', { node_id: node.id, mac, message: `New machine ${mac} asked what to boot`, data: { ...q, ip } });

    const { publicUrl } = ctx.config;
    let script: string;
    let action: string;
    if (node.state === 'installed') {
      action = 'local-disk';
      node.agent_active = false;
      script = localDiskScript({ publicUrl, nodeId: node.id, hostname: node.hostname });
    } else if (node.state === 'error') {
      action = 'error';
      script = errorStateScript({ publicUrl, nodeId: node.id, reason: node.error_reason ?? 'unknown' });
    } else if (node.policy && (node.state === 'bound' || node.state === 'installing')) {
      const policy = ctx.policies.get(node.policy);
      const image = policy?.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
      if (!policy) throw ccError('CC_ERR_NOT_FOUND', `policy "${node.policy}" of node ${node.id} was deleted; unbind the node`);
      if (!node.install_token) node.install_token = newToken();
      const facts = (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts ?? {};
      action = `task:${policy.task}`;
      node.agent_active = false;
      script = ctx.tasks.renderFor(policy.task, taskContext({ publicUrl, node, policy, image, facts })).ipxe;
    } else {
      const token = newToken();
      node.enrol_token_hash = hashToken(token);
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
    ctx.events.emit('node.boot', {
      node_id: node.id,
      mac,
      message: `Boot request from ${ip ?? 'unknown'}: answered ${action}`,
      data: { action, ...q, ip },
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
        const { node, created } = await recordBoot(ctx, mac, {});
        if (s.arch !== undefined && s.arch !== null) node.boot_mode = s.arch === 0 ? 'bios' : 'uefi';
        node.last_seen = ctx.now().toISOString();
        if (created) {
          await ctx.repo.save(node);
          ctx.events.emit('node.discovered', { node_id: node.id, mac, message: `New machine ${mac} seen by DHCP`, data: { ...s } });
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
