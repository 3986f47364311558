/**
 * Which filesystem a partition holds, from the superblock signatures each one documents (ext2/3/4:
 * s_magic 0xEF53 at byte 1080; XFS: "XFSB" at 0; Btrfs: "_BHRfS_M" at 65600; FAT: the boot sector's
 * file-system type string; swap: "SWAPSPACE2" before the end of the first 4 KiB page; LVM2:
 * "LABELONE" in sector 1; LUKS: "LUKS\xBA\xBE" at 0; ISO 9660: "CD001" at 32769). Pure: bytes in.
 */

import type { FILESYSTEMS } from '../../../contract/disk-image.ts';

/** Filesystem (or container) types we recognise. */
export type FsType = (typeof FILESYSTEMS)[number];

/** Bytes of a partition's start that `probeFs` needs. */
export const FS_PROBE_BYTES = 65600 + 8;

const at = (b: Uint8Array, o: number, s: string) =>
  b.length >= o + s.length && new TextDecoder('latin1').decode(b.subarray(o, o + s.length)) === s;

/** Identify the filesystem from the first FS_PROBE_BYTES of a partition (fewer for a small one). */
export function probeFs(b: Uint8Array): FsType {
  if (b.length >= 1082 && b[1080] === 0x53 && b[1081] === 0xef) return 'ext4';
  if (at(b, 0, 'XFSB')) return 'xfs';
  if (at(b, 65600, '_BHRfS_M')) return 'btrfs';
  if (at(b, 0, 'LUKS\xba\xbe')) return 'luks';
  if (at(b, 512 + 0, 'LABELONE')) return 'lvm2';
  if (at(b, 4096 - 10, 'SWAPSPACE2') || at(b, 4096 - 10, 'SWAP-SPACE')) return 'swap';
  if (b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa && (at(b, 82, 'FAT32') || at(b, 54, 'FAT1') || at(b, 54, 'FAT'))) return 'vfat';
  if (at(b, 32769, 'CD001')) return 'iso9660';
  return 'unknown';
}
