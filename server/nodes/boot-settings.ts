/**
 * A node's boot settings, each resolved node > tag > appliance (server/settings/scoped.ts): the UEFI chain
 * (`boot_chain`: ipxe, shim, auto) and the UEFI x86 iPXE build (`efi_loader`). What DHCP, TFTP and the
 * UI ask; docs/boot.md "Which chain a node gets".
 */
import type { BootChainSetting } from '../../contract/boot-chain.ts';
import type { LoaderPrefs } from '../core/boot-hooks.ts';
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import { describeResolved, resolveScoped, type Resolved } from '../settings/scoped.ts';
import { bootsFromDisk } from '../deploy/task-flow.ts';

/** The UEFI x86 iPXE build. */
export type EfiLoader = 'ipxe.efi' | 'snponly.efi';

/**
 * Two tags disagreeing on the chain: the one that boots more machines wins. shim runs with Secure Boot
 * on or off; auto reaches shim after one refused try; ipxe never boots a Secure Boot machine.
 */
const CHAIN_RANK: Readonly<Record<BootChainSetting, number>> = { shim: 0, auto: 1, ipxe: 2 };

function tagLayer<K extends 'boot_chain' | 'efi_loader'>(ctx: CoreContext, node: NodeDoc | undefined, key: K) {
  return (node?.tags ?? []).map((tag) => ({ tag, value: ctx.tags.get(tag)?.[key] ?? null }));
}

/** The `boot_chain` that applies to a node (an unknown MAC gets the appliance's). */
export function bootChainFor(ctx: CoreContext, node: NodeDoc | undefined): Resolved<BootChainSetting> {
  return resolveScoped(
    { node: node?.boot_chain, tags: tagLayer(ctx, node, 'boot_chain'), appliance: ctx.settings.get().boot_chain },
    (v) => CHAIN_RANK[v],
  );
}

/** The UEFI x86 iPXE build that applies to a node. */
export function efiLoaderFor(ctx: CoreContext, node: NodeDoc | undefined): Resolved<EfiLoader> {
  return resolveScoped({
    node: node?.efi_loader,
    tags: tagLayer(ctx, node, 'efi_loader'),
    appliance: ctx.settings.get().default_efi_loader,
  });
}

/**
 * The UEFI x86 iPXE build DHCP and TFTP actually serve. A node whose next boot is its local disk (installed,
 * or its image is written) gets `snponly.efi` whatever is set: the local-disk script leaves iPXE so the
 * firmware boots its next entry, and only a build that never took the NIC from the firmware gets back
 * cleanly. ipxe.efi unloads the firmware's NIC driver, and Debian 12's build hangs reconnecting it on
 * `exit` in OVMF (docs/deploy.md "What boot the local disk does on real firmware").
 */
export function efiLoaderToServe(ctx: CoreContext, node: NodeDoc | undefined): EfiLoader {
  if (node && (node.state === 'installed' || bootsFromDisk(node))) return 'snponly.efi';
  return efiLoaderFor(ctx, node).value;
}

/** True when UEFI gets the signed shim -> GRUB chain: `shim`, or `auto` after it learned iPXE is refused. */
export function usesShim(ctx: CoreContext, node: NodeDoc | undefined): boolean {
  const chain = bootChainFor(ctx, node).value;
  return chain === 'shim' || (chain === 'auto' && node?.auto_chain === 'shim');
}

/**
 * What DHCP needs to choose a first stage for this node. `uboot`: this boot showed U-Boot (option 93 = 22), which the
 * DHCP sightings remember per boot, never on the record (docs/identity.md 5).
 */
export function loaderPrefs(ctx: CoreContext, node: NodeDoc | undefined, uboot: boolean): LoaderPrefs {
  return { efiLoader: efiLoaderToServe(ctx, node), secureChain: usesShim(ctx, node), uboot };
}

/** For the UI: `shim (tag secureboot)`, `auto -> shim (iPXE was refused)`, `ipxe (appliance)`. */
export function describeBootChain(ctx: CoreContext, node: NodeDoc): string {
  const r = bootChainFor(ctx, node);
  const text = describeResolved(r);
  if (r.value !== 'auto') return text;
  return node.auto_chain === 'shim' ? `${text} -> shim (iPXE was refused, or Secure Boot is on)` : `${text} -> ipxe until refused`;
}
