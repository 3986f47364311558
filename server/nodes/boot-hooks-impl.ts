/**
 * The core side of the DHCP and TFTP hooks (server/core/boot-hooks.ts): boot-time records, the loader
 * settings of a MAC, and what `boot_chain: auto` learns from the firmware (docs/boot.md "Which chain a
 * node gets").
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { BootHooks, BootSighting, TftpHooks } from '../core/boot-hooks.ts';
import { UBOOT_ARM64_ARCH } from '../../contract/boot-chain.ts';
import { canonicalMac } from './identity.ts';
import { DHCP_SOURCE } from './node-guard.ts';
import { recordBoot } from './boot-flow.ts';
import { bootChainFor, efiLoaderToServe, loaderPrefs } from './boot-settings.ts';
import { tftpVirtual } from './tftp-virtual.ts';
import { isUnclaimed } from './operator-fields.ts';
import { claimManifest } from '../manifest/claim.ts';

/** x86-64 UEFI firmware's own PXE and HTTP clients (RFC 4578 2.1): the ones Secure Boot stops at an unsigned iPXE. */
const X64_UEFI_FIRMWARE = new Set([7, 9, 16]);

/**
 * `boot_chain: auto`: an iPXE EFI loader this node fetched completely never ran (no iPXE DHCP, no /boot
 * since), and its firmware is back asking: the firmware refused it, which is what Secure Boot does to an
 * unsigned loader. From now on the node gets the signed shim chain. Returns true when it switched.
 */
export function learnRefusedIpxe(ctx: CoreContext, node: NodeDoc, s: BootSighting): boolean {
  if (s.ipxe || s.arch === null || s.arch === undefined || !X64_UEFI_FIRMWARE.has(s.arch)) return false;
  if (node.auto_chain === 'shim' || bootChainFor(ctx, node).value !== 'auto') return false;
  const fetched = node.ipxe_fetched_at ? Date.parse(node.ipxe_fetched_at) : NaN;
  const ran = node.ipxe_ran_at ? Date.parse(node.ipxe_ran_at) : -Infinity;
  if (!Number.isFinite(fetched) || ran >= fetched) return false;
  node.auto_chain = 'shim';
  ctx.events.emit('node.chain', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `Node ${node.id} fetched iPXE at ${node.ipxe_fetched_at} but never ran it: its firmware refuses unsigned loaders (Secure Boot). It gets the signed shim/GRUB chain from now on (boot_chain auto).`,
    data: { chain: 'shim', reason: 'ipxe-refused', ipxe_fetched_at: node.ipxe_fetched_at ?? null, ipxe_ran_at: node.ipxe_ran_at ?? null },
  });
  return true;
}

/** The core side of DHCP/TFTP hooks. */
export function bootHooks(ctx: CoreContext): BootHooks & TftpHooks {
  const nodeByIp = async (ip: string): Promise<NodeDoc | undefined> => {
    const lease = await ctx.store.leases.findOne({ ip });
    const byLease = lease ? ctx.repo.byMacAddress(lease.mac) : undefined;
    return byLease ?? ctx.repo.byIp(ip);
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
        const now = ctx.now().toISOString();
        node.last_seen = now;
        let changed = learnRefusedIpxe(ctx, node, s);
        // The iPXE we served ran and asks DHCP again: the chain works (boot_chain auto keeps it).
        if (s.ipxe) node.ipxe_ran_at = now;
        if (s.arch === UBOOT_ARM64_ARCH && node.firmware !== 'u-boot') {
          node.firmware = 'u-boot';
          changed = true;
        }
        // A MAC the manifest lists claims its record at the first DHCP packet (a MAC is all DHCP knows for sure).
        if (isUnclaimed(node)) {
          node.boot_mac = mac;
          await claimManifest(ctx, node, { macs: [mac], uuid: null, serial: null });
          await ctx.repo.save(node);
        } else if (created) {
          await ctx.repo.save(node);
          ctx.guard.discovered({ node_id: node.id, mac, message: `New machine ${mac} seen by DHCP`, data: { ...s } });
        } else if (changed) await ctx.repo.save(node);
        else ctx.repo.touch(node);
        return node.id;
      });
    },
    async loaderPrefsFor(mac: string) {
      return loaderPrefs(ctx, ctx.repo.byMacAddress(canonicalMac(mac) ?? ''));
    },
    async nodeIdForMac(mac: string) {
      return ctx.repo.byMacAddress(canonicalMac(mac) ?? '')?.id ?? null;
    },
    async tftpFileFor(ip: string, requested: string) {
      if (requested !== 'ipxe.efi' && requested !== 'snponly.efi') return requested;
      const node = await nodeByIp(ip);
      return node ? efiLoaderToServe(ctx, node) : requested;
    },
    async nodeIdForIp(ip: string) {
      return (await nodeByIp(ip))?.id ?? null;
    },
    tftpVirtual: (ip: string, name: string) => tftpVirtual(ctx, ip, name),
  };
}
