/**
 * Boot chains: which way a machine's firmware reaches the microkernel (docs/boot.md), and the setting
 * that picks the UEFI chain. Plain data and pure functions, no TypeBox, so the renderer imports them at
 * run time (the boot timeline names the chain) and the server records the same names on the node.
 */

/** The operator's choice for UEFI machines: iPXE, the signed shim -> GRUB chain, or decided per node. */
export const BOOT_CHAIN_SETTINGS = ['ipxe', 'shim', 'auto'] as const;
/** One value of the `boot_chain` setting. */
export type BootChainSetting = (typeof BOOT_CHAIN_SETTINGS)[number];

/** The chains a node can take, as recorded on the node and shown in the UI. */
export const BOOT_CHAINS = ['bios-ipxe', 'uefi-ipxe', 'shim-grub', 'http-boot', 'u-boot'] as const;
/** One boot chain. */
export type BootChain = (typeof BOOT_CHAINS)[number];

/** Names the UI shows. */
export const BOOT_CHAIN_LABELS: Readonly<Record<BootChain, string>> = Object.freeze({
  'bios-ipxe': 'BIOS iPXE',
  'uefi-ipxe': 'UEFI iPXE',
  'shim-grub': 'shim/GRUB (Secure Boot capable)',
  'http-boot': 'UEFI HTTP boot',
  'u-boot': 'U-Boot (UEFI GRUB)',
});

/** DHCP option 93 types of UEFI HTTP boot clients (RFC 4578 2.1 as extended by the IANA registry). */
export const HTTP_BOOT_ARCHES: readonly number[] = [15, 16, 18, 19];
/** Option 93 type 22: arm64 U-Boot (IANA "ARM 64 uboot"). */
export const UBOOT_ARM64_ARCH = 22;

/** The boot file names of the signed chain and of GRUB itself (server/prepare/loaders/registry.ts). */
const SHIM_GRUB_FILES = new Set(['shimx64.efi', 'shimaa64.efi', 'grubx64.efi']);

/**
 * The chain a DHCP answer started, from what the answer carried: the boot file (a TFTP name or an HTTP
 * URL), the client's option 93 and vendor class. Null for answers that continue a chain (the iPXE boot
 * script URL) or carry no file.
 */
export function chainOfBootFile(file: string | null, arch: number | null, vendorClass: string | null): BootChain | null {
  if (!file) return null;
  const name = file.slice(file.lastIndexOf('/') + 1);
  if (name === 'boot.ipxe') return null;
  if (/^https?:\/\//.test(file)) return vendorClass?.startsWith('HTTPClient') || HTTP_BOOT_ARCHES.includes(arch ?? -1) ? 'http-boot' : null;
  if (arch === UBOOT_ARM64_ARCH || name === 'grubaa64.efi') return 'u-boot';
  if (name === 'undionly.kpxe') return 'bios-ipxe';
  if (name === 'ipxe.efi' || name === 'snponly.efi') return 'uefi-ipxe';
  if (SHIM_GRUB_FILES.has(name)) return 'shim-grub';
  return null;
}
