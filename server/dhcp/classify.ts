/**
 * Firmware detection and first-stage boot file choice (RFC 4578, PXE 2.1,
 * iPXE's own options). Pure functions over the collected options.
 */
import { OPTIONS, readOption, type OptionMap } from './options.ts';

/** Our iPXE user class: an embedded-script iPXE build sends it (docs/dhcp.md). */
export const CRASHCART_USER_CLASS = 'crashcart';

/** What a client told us about its firmware. */
export interface ClientFacts {
  /** First option 93 entry (RFC 4578 2.1), or null. */
  arch: number | null;
  vendorClass: string | null;
  userClass: string | null;
  guid: string | null;
  /** Option 60 starts with PXEClient. */
  pxe: boolean;
  /** Option 60 starts with HTTPClient or arch is a UEFI HTTP boot type. */
  http: boolean;
  /** Option 175 present: the client already runs iPXE. */
  ipxe: boolean;
  /** Our own iPXE (user class `crashcart`, or 175 + user class `iPXE`): gets the boot script URL. */
  ours: boolean;
}

/** Read the firmware facts from a request's options. */
export function classifyClient(opts: OptionMap): ClientFacts {
  const archList = readOption(opts, OPTIONS.CLIENT_ARCH);
  const arch = archList?.[0] ?? null;
  const vendorClass = readOption(opts, OPTIONS.VENDOR_CLASS);
  const found = readOption(opts, OPTIONS.USER_CLASS);
  const classes = found && found.length > 0 ? found : null;
  const userClass = classes ? classes.join(',') : null;
  const ipxe = opts.has(OPTIONS.IPXE_ENCAP.code);
  if (ipxe) readOption(opts, OPTIONS.IPXE_ENCAP); // validate: a broken 175 is a malformed packet
  const ours = (classes ?? []).includes(CRASHCART_USER_CLASS) || (ipxe && (classes ?? []).includes('iPXE'));
  const http = (vendorClass?.startsWith('HTTPClient') ?? false) || arch === 15 || arch === 16 || arch === 18 || arch === 19;
  return {
    arch,
    vendorClass,
    userClass,
    guid: readOption(opts, OPTIONS.CLIENT_GUID),
    pxe: vendorClass?.startsWith('PXEClient') ?? false,
    http,
    ipxe,
    ours,
  };
}

/** True for clients that are network booting (anything a boot file is chosen for). */
export function isBootClient(c: ClientFacts): boolean {
  return c.pxe || c.http || c.ipxe || c.ours;
}

/** The boot answer for a client. */
export interface BootChoice {
  /** TFTP name or full http:// URL for the `file` field. */
  file: string;
  /** Vendor class to answer with (option 60): PXEClient or HTTPClient. */
  vendorClass: 'PXEClient' | 'HTTPClient' | null;
  /** Which stage: first-stage loader via TFTP, loader via HTTP, or the boot script. */
  kind: 'tftp' | 'http-loader' | 'script';
}

/** Inputs besides the client facts. */
export interface BootFileContext {
  publicUrl: string;
  /** The UEFI x86 loader for this MAC (per node, else global). */
  efiLoader: 'ipxe.efi' | 'snponly.efi';
}

/** RFC 4578 2.1 types: 0 BIOS, 6 EFI IA32, 7 EFI x86-64, 9 (VMware x86-64), 11 EFI arm64. */
function tftpLoaderFor(arch: number, efiLoader: string): string | null {
  if (arch === 0) return 'undionly.kpxe';
  if (arch === 6 || arch === 7 || arch === 9) return efiLoader;
  if (arch === 11) return 'ipxe-arm64.efi';
  return null;
}

/**
 * Which file this client boots. Our own iPXE gets the boot script URL (breaks
 * the chainload loop); UEFI HTTP boot (16/19) gets a full URL of a loader;
 * PXE firmware gets a TFTP loader by architecture. Null: not a boot client we can serve.
 */
export function bootFileFor(c: ClientFacts, ctx: BootFileContext): BootChoice | null {
  const base = ctx.publicUrl.replace(/\/+$/, '');
  if (c.ours) return { file: `${base}/boot.ipxe`, vendorClass: c.pxe ? 'PXEClient' : null, kind: 'script' };
  if (c.http) {
    const loader = c.arch === 19 || c.arch === 18 ? 'ipxe-arm64.efi' : ctx.efiLoader;
    return { file: `${base}/ipxe/${loader}`, vendorClass: 'HTTPClient', kind: 'http-loader' };
  }
  if (!c.pxe && !c.ipxe) return null;
  // No option 93 (old BIOS ROMs, some iPXE builds): BIOS is the safe guess.
  const file = tftpLoaderFor(c.arch ?? 0, ctx.efiLoader);
  if (!file) return null;
  return { file, vendorClass: c.pxe ? 'PXEClient' : null, kind: 'tftp' };
}

/** True when the architecture is UEFI (the two proxyDHCP strategies apply). */
export function isUefi(arch: number | null): boolean {
  return arch !== null && arch !== 0;
}
