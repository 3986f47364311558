/**
 * What kind of file an uploaded disk image is, from its first bytes, never from its name: zstd
 * (RFC 8878 3.1.1 frame magic 28 B5 2F FD), xz (xz file format 2.1.1.1: FD 37 7A 58 5A 00), gzip
 * (RFC 1952 2.3.1: 1F 8B), qcow2 (QEMU's qcow2 spec: "QFI\xFB"), and formats we name in the error
 * rather than guess at (bzip2, VMDK, VHDX, VDI, VHD, ISO 9660). Anything else is taken as raw and
 * must then show a partition table. Pure.
 */

/** Compression wrapped around an image. */
export type Compression = 'zstd' | 'xz' | 'gzip' | 'none';
/** The container format after decompression. */
export type ContainerFormat = 'raw' | 'qcow2';
/** Formats we recognise but do not import, with what to do instead. */
export type Unsupported = 'bzip2' | 'vmdk' | 'vhdx' | 'vdi' | 'vhd' | 'iso9660';

/** First bytes `detectContainer` looks at (ISO 9660's descriptor is at 32769). */
export const CONTAINER_PROBE_BYTES = 32774;

const starts = (b: Uint8Array, sig: number[], o = 0) => b.length >= o + sig.length && sig.every((x, i) => b[o + i] === x);
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** Detected outer layer of a file. */
export type Detected = { compression: Exclude<Compression, 'none'> } | { format: ContainerFormat } | { unsupported: Unsupported };

/** Classify the first bytes of a file (pass at least CONTAINER_PROBE_BYTES when the file is that long). */
export function detectContainer(b: Uint8Array): Detected {
  if (starts(b, [0x28, 0xb5, 0x2f, 0xfd])) return { compression: 'zstd' };
  if (starts(b, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return { compression: 'xz' };
  if (starts(b, [0x1f, 0x8b])) return { compression: 'gzip' };
  if (starts(b, [0x51, 0x46, 0x49, 0xfb])) return { format: 'qcow2' };
  if (starts(b, ascii('BZh'))) return { unsupported: 'bzip2' };
  if (starts(b, ascii('KDMV')) || starts(b, ascii('# Disk DescriptorFile'))) return { unsupported: 'vmdk' };
  if (starts(b, ascii('vhdxfile'))) return { unsupported: 'vhdx' };
  if (starts(b, [0x7f, 0x10, 0xda, 0xbe], 0x40)) return { unsupported: 'vdi' };
  if (starts(b, ascii('conectix'))) return { unsupported: 'vhd' };
  if (starts(b, ascii('CD001'), 32769) && !(b[510] === 0x55 && b[511] === 0xaa)) return { unsupported: 'iso9660' };
  return { format: 'raw' };
}

/** What to tell the operator for a format we do not import. */
export function unsupportedAdvice(u: Unsupported): string {
  switch (u) {
    case 'bzip2':
      return 'bzip2-compressed: decompress it (`bunzip2 FILE`) or recompress with zstd/xz/gzip';
    case 'iso9660':
      return 'an ISO 9660 image (an installer CD), not a disk image: import installers with `crashcart image import --iso FILE`';
    default:
      return `a ${u.toUpperCase()} virtual disk: convert it first with \`qemu-img convert -O raw FILE disk.raw\` (Debian package qemu-utils)`;
  }
}
