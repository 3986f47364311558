/**
 * What the DHCP and TFTP servers may ask of the core. They receive an object
 * of this shape; the core implements it (`bootHooks` in server/nodes/boot-flow.ts).
 */

/** Firmware facts DHCP decoded from a client's packet. */
export interface BootSighting {
  mac: string;
  /** Option 93 first entry (0 BIOS, 7 EFI x64, ...). */
  arch?: number | null;
  vendorClass?: string | null;
  userClass?: string | null;
  /** Option 97 GUID as a lowercase UUID string. */
  guid?: string | null;
  ip?: string | null;
  /** The client already runs iPXE (option 175 / user class): the loader it was given ran. */
  ipxe?: boolean;
}

/** How the core wants this machine's first stage chosen (its settings, node > tag > appliance). */
export interface LoaderPrefs {
  /** The UEFI x86 iPXE build. */
  efiLoader: 'ipxe.efi' | 'snponly.efi';
  /** UEFI gets the signed shim -> GRUB chain (setting `boot_chain` = shim, or `auto` that saw iPXE refused). */
  secureChain: boolean;
  /** The machine's firmware showed itself as U-Boot (option 93 = 22): its UEFI gets GRUB without shim. */
  uboot: boolean;
}

/** Core services for the boot-time servers. */
export interface BootHooks {
  /** Record that a MAC was seen booting; creates a `discovered` node when new. Returns its id. */
  sawBoot(s: BootSighting): Promise<number | null>;
  /** The loader settings for this MAC (docs/boot.md "Which chain a node gets"). */
  loaderPrefsFor(mac: string): Promise<LoaderPrefs>;
  /** Node id for a MAC, if known (for events). */
  nodeIdForMac(mac: string): Promise<number | null>;
}

/** A file the core supplies for a TFTP name instead of the roots: rendered bytes, or a file in a folder it chose. */
export type TftpVirtualFile = { data: Uint8Array } | { dir: string; name: string };

/** What TFTP asks: which file to serve this client for the name it asked for. */
export interface TftpHooks {
  /**
   * Names the core answers itself (GRUB's per-node configuration, the microkernel of an architecture:
   * server/nodes/tftp-virtual.ts), or null to serve the name from the roots.
   */
  tftpVirtual?(clientIp: string, name: string): Promise<TftpVirtualFile | null>;
  /**
   * Per-node override decided by the core: e.g. a node marked `snponly.efi`
   * asking for `ipxe.efi` gets `snponly.efi`. Returns the name to serve.
   */
  tftpFileFor(clientIp: string, requested: string): Promise<string>;
  /** Node id for a client IP (from the DHCP lease), if known (for events). */
  nodeIdForIp(ip: string): Promise<number | null>;
  /** A client asked for `requested` and no root has it (the core names a missing loader and its fix). */
  fileMissing?(clientIp: string, requested: string, nodeId: number | null): void;
}
