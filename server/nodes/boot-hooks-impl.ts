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
import { BoundedMap } from '../dhcp/bounded-map.ts';
import { MAX_TRACKED_CLIENTS } from '../dhcp/defaults.ts';

/** x86-64 UEFI firmware's own PXE and HTTP clients (RFC 4578 2.1): the ones Secure Boot stops at an unsigned iPXE. */
const X64_UEFI_FIRMWARE = new Set([7, 9, 16]);

/**
 * How long a U-Boot sighting (option 93 = 22) decides its MAC's first stage: the boot in progress. U-Boot's distro boot
 * sends its UEFI step's DHCP (93 = 11, which then gets GRUB without shim) seconds after its own; a later boot starts
 * with U-Boot's DHCP again. Not written to the record (docs/identity.md 5).
 */
export const UBOOT_SIGHTING_MS = 10 * 60_000;

/**
 * `boot_chain: auto`: an iPXE EFI loader this node fetched completely never ran (no iPXE DHCP, no /boot
 * since), and its firmware is back asking: the firmware refused it, which is what Secure Boot does to an
 * unsigned loader. From now on the node gets the signed shim chain. Returns true when it switched.
 */
export function learnRefusedIpxe(ctx: CoreContext, node: NodeDoc, s: BootSighting): boolean {
  if (s.ipxe || s.arch === null || s.arch === undefined || !X64_UEFI_FIRMWARE.has(s.arch)) return false;
  // docs/identity.md 5: DHCP evidence (a packet anyone can forge for any MAC) switches only a record that has not
  // registered; after that, the chain is the operator's (or a tag's on the agent's `secure_boot` fact).
  if (node.registered_at !== null) return false;
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
  // MAC -> when it last showed itself as U-Boot: in memory, per boot, bounded like every per-client memory the rack feeds.
  const ubootSeen = new BoundedMap<string, number>(MAX_TRACKED_CLIENTS);
  const ubootThisBoot = (mac: string): boolean => ctx.now().getTime() - (ubootSeen.get(mac) ?? -Infinity) < UBOOT_SIGHTING_MS;
  return {
    async sawBoot(s: BootSighting) {
      const mac = canonicalMac(s.mac);
      if (!mac) return null;
      return ctx.lock.run(async () => {
        const found = await recordBoot(ctx, mac, DHCP_SOURCE);
        if (!found) return null; // over the DHCP creation limit: DHCP still answers, /boot records it later
        const { node, created } = found;
        // docs/identity.md 5: a DHCP packet fills the firmware mode in, never overwrites it (iPXE's /boot and the
        // agent's registration say it too, and a forged packet must not move a machine's BMC boot override).
        if (s.arch !== undefined && s.arch !== null && !node.boot_mode) node.boot_mode = s.arch === 0 ? 'bios' : 'uefi';
        const now = ctx.now().toISOString();
        node.last_seen = now;
        const changed = learnRefusedIpxe(ctx, node, s);
        // The iPXE we served ran and asks DHCP again: the chain works (boot_chain auto keeps it). Compared only with
        // the loader fetch before it, so a forged one holds back what `auto` learns from that fetch alone.
        if (s.ipxe) node.ipxe_ran_at = now;
        if (s.arch === UBOOT_ARM64_ARCH) ubootSeen.set(mac, ctx.now().getTime());
        // A MAC the manifest lists claims its record at the first DHCP packet (a MAC is all DHCP knows for sure).
        if (isUnclaimed(node)) {
          node.boot_mac = mac;
          await claimManifest(ctx, node, { macs: [mac], uuid: null, serial: null }, 'dhcp');
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
      const m = canonicalMac(mac) ?? '';
      // U-Boot is what this boot showed (above), not the record's `firmware`, which a forged packet once set for good.
      return loaderPrefs(ctx, ctx.repo.byMacAddress(m), ubootThisBoot(m));
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
