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
}

/** Core services for the boot-time servers. */
export interface BootHooks {
  /** Record that a MAC was seen booting; creates a `discovered` node when new. Returns its id. */
  sawBoot(s: BootSighting): Promise<number | null>;
  /** The UEFI x86 loader for this MAC (per-node override, else global setting). */
  efiLoaderFor(mac: string): Promise<'ipxe.efi' | 'snponly.efi'>;
  /** Node id for a MAC, if known (for events). */
  nodeIdForMac(mac: string): Promise<number | null>;
}

/** What TFTP asks: which file to serve this client for the name it asked for. */
export interface TftpHooks {
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
