/**
 * Firmware detection and first-stage boot file choice (RFC 4578, PXE 2.1,
 * iPXE's own options). Pure functions over the collected options.
 */
import { OPTIONS, readOption, type OptionMap } from './options.ts';
import { HTTP_BOOT_ARCHES, UBOOT_ARM64_ARCH } from '../../contract/boot-chain.ts';

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
  /** U-Boot's own DHCP client (option 93 = 21/22, or vendor class `U-Boot.<arch>`), not its UEFI PXE client. */
  uboot: boolean;
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
  const http = (vendorClass?.startsWith('HTTPClient') ?? false) || HTTP_BOOT_ARCHES.includes(arch ?? -1);
  const uboot = !http && (arch === UBOOT_ARM64_ARCH || arch === UBOOT_ARM32_ARCH || (vendorClass?.startsWith('U-Boot') ?? false));
  return {
    arch,
    vendorClass,
    userClass,
    guid: readOption(opts, OPTIONS.CLIENT_GUID),
    pxe: vendorClass?.startsWith('PXEClient') ?? false,
    http,
    ipxe,
    ours,
    uboot,
  };
}

/** True for clients that are network booting (anything a boot file is chosen for). */
export function isBootClient(c: ClientFacts): boolean {
  return c.pxe || c.http || c.ipxe || c.ours || c.uboot;
}

/** The boot answer for a client. */
export interface BootChoice {
  /** TFTP name or full http:// URL for the `file` field. */
  file: string;
  /** Vendor class to answer with (option 60): PXEClient or HTTPClient. */
  vendorClass: 'PXEClient' | 'HTTPClient' | null;
  /** Which stage: first-stage loader via TFTP, loader via HTTP, or the boot script. */
  kind: 'tftp' | 'http-loader' | 'script';
  /** Only a full DHCP server may answer: U-Boot's DHCP client takes the first OFFER and knows no proxyDHCP. */
  fullOnly?: true;
}

/** Inputs besides the client facts: the node's loader settings, decided by the core (node > tag > appliance). */
export interface BootFileContext {
  publicUrl: string;
  /** The UEFI x86 iPXE build for this node. */
  efiLoader: 'ipxe.efi' | 'snponly.efi';
  /** UEFI gets the signed shim -> GRUB chain instead of iPXE (setting `boot_chain`, docs/boot.md). */
  secureChain: boolean;
  /** This MAC's firmware is U-Boot (it sent option 93 = 22): its UEFI runs GRUB without shim. */
  uboot: boolean;
  /** The client's MAC (chaddr): Raspberry Pi boot ROMs are known only by their OUI. */
  mac: string;
}

/**
 * OUIs of the Raspberry Pi Foundation / Raspberry Pi Ltd (IEEE registry). Their boot ROMs send option 93
 * = 0 (Pi 4/5) or 41 and want the Pi's own firmware files, never an x86 loader (PXE-NOTES).
 */
const RASPBERRY_PI_OUIS = new Set(['b8:27:eb', 'dc:a6:32', 'e4:5f:01', '28:cd:c1', 'd8:3a:dd', '2c:cf:67']);

/** Option 93 type 21: 32-bit ARM U-Boot (IANA registry). */
const UBOOT_ARM32_ARCH = 21;

/** U-Boot on arm64: option 93 = 22, or no option 93 and U-Boot's default vendor class for armv8. */
function isArm64Uboot(c: ClientFacts): boolean {
  return c.arch === UBOOT_ARM64_ARCH || (c.arch === null && c.vendorClass === 'U-Boot.armv8');
}

/** True when a PXE request with this arch comes from a Raspberry Pi boot ROM. */
export function isRaspberryPiRom(c: ClientFacts, mac: string): boolean {
  return c.arch === 41 || (c.arch === 0 && c.pxe && RASPBERRY_PI_OUIS.has(mac.slice(0, 8)));
}

/** RFC 4578 2.1 (and the IANA registry) types we have a loader for: 0 BIOS, 7/9 EFI x86-64, 11 EFI arm64, 22 arm64 U-Boot. */
function tftpLoaderFor(arch: number, ctx: BootFileContext): string | null {
  if (arch === 0) return 'undionly.kpxe';
  if (arch === 7 || arch === 9) return ctx.secureChain ? 'shimx64.efi' : ctx.efiLoader;
  // U-Boot's UEFI has no PXE base code TFTP for shim to fetch GRUB with; GRUB brings its own network stack.
  if (arch === 11 && ctx.uboot) return 'grubaa64.efi';
  if (arch === 11) return 'shimaa64.efi';
  return null;
}

/**
 * UEFI HTTP boot: only iPXE (x86-64, 16) can continue from a loader fetched by HTTP. Debian's signed GRUB
 * reads files over TFTP only (its image has no http module, and Secure Boot forbids loading one), so the
 * signed chain over HTTP stops at a GRUB prompt; unanswered, the firmware falls back to PXE, where it runs
 * (docs/boot.md). 15 and 18 are 32-bit: nothing to serve.
 */
function httpLoaderFor(arch: number | null, ctx: BootFileContext): string | null {
  // A vendor class HTTPClient without option 93 is an x86-64 machine in every capture we have.
  if (arch === null || arch === 16 || arch === 7 || arch === 9) return ctx.secureChain ? null : ctx.efiLoader;
  return null;
}

/**
 * Which file this client boots. Our own iPXE gets the boot script URL (breaks the chainload loop); UEFI
 * HTTP boot gets a full URL of a loader (shim fetches GRUB from the same folder); PXE firmware and U-Boot
 * get a TFTP loader by architecture. Null: not a boot client, or one we have no loader for (the handler
 * says why in a `dhcp.unsupported` event, see `unservedReason`).
 */
export function bootFileFor(c: ClientFacts, ctx: BootFileContext): BootChoice | null {
  const base = ctx.publicUrl.replace(/\/+$/, '');
  if (c.ours) return { file: `${base}/boot.ipxe`, vendorClass: c.pxe ? 'PXEClient' : null, kind: 'script' };
  if (c.http) {
    const loader = httpLoaderFor(c.arch, ctx);
    return loader ? { file: `${base}/ipxe/${loader}`, vendorClass: 'HTTPClient', kind: 'http-loader' } : null;
  }
  if (c.uboot) return isArm64Uboot(c) ? { file: 'grubaa64.efi', vendorClass: null, kind: 'tftp', fullOnly: true } : null;
  if (!c.pxe && !c.ipxe) return null;
  if (isRaspberryPiRom(c, ctx.mac)) return null;
  // No option 93 (old BIOS ROMs, some iPXE builds): BIOS is the safe guess.
  const file = tftpLoaderFor(c.arch ?? 0, ctx);
  if (!file) return null;
  const choice: BootChoice = { file, vendorClass: c.pxe ? 'PXEClient' : null, kind: 'tftp' };
  if (c.arch === 11 && ctx.uboot) choice.fullOnly = true;
  return choice;
}

/** Why a boot client gets no boot file, in the words of the `dhcp.unsupported` event (with the fix). */
export function unservedReason(c: ClientFacts, ctx: Pick<BootFileContext, 'mac' | 'secureChain'>): string {
  const mac = ctx.mac;
  if (c.http && (c.arch === 19 || c.arch === 11))
    return "arm64 UEFI HTTP boot: the arm64 chain (Debian's signed shim and GRUB) reads its files over TFTP only; let the firmware fall back to PXE (it then boots shimaa64.efi)";
  if (c.http && ctx.secureChain && c.arch !== 15 && c.arch !== 18)
    return "UEFI HTTP boot on the signed chain: Debian's signed GRUB reads files over TFTP only; let the firmware fall back to PXE (it then boots shimx64.efi), or set boot_chain ipxe for a machine without Secure Boot";
  if (isRaspberryPiRom(c, mac))
    return 'a Raspberry Pi boot ROM: it needs the Pi firmware files, which Crashcart does not serve; put U-Boot with UEFI on the SD card (it then PXE-boots GRUB) or boot it from local media';
  if (c.uboot) return 'U-Boot on 32-bit ARM: no 32-bit ARM loader or microkernel is served; boot it another way';
  switch (c.arch) {
    case 6:
    case 15:
      return 'EFI IA32 firmware: no 32-bit x86 UEFI loader exists in the Debian packages Crashcart serves; switch the firmware to legacy BIOS PXE or x86-64 UEFI';
    case 10:
    case 18:
      return 'EFI ARM32 firmware: no 32-bit ARM loader or microkernel is served; boot it another way';
    default:
      return `client architecture ${c.arch ?? 'unknown'} (option 93) has no loader here; docs/boot.md lists the supported firmware`;
  }
}

/** True when the architecture is UEFI (the two proxyDHCP strategies apply). */
export function isUefi(arch: number | null): boolean {
  return arch !== null && arch !== 0;
}
