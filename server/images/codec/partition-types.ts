/**
 * Well-known partition types and the role each plays in booting. GPT type GUIDs are from UEFI 2.10
 * 5.3.3 (ESP), GRUB's documentation (BIOS boot partition) and the UAPI Group's Discoverable
 * Partitions Specification (Linux root, /usr, swap, XBOOTLDR); MBR type bytes are the customary
 * IBM PC ones (0xEF is the ESP on MBR per UEFI 2.10 5.2.1). Pure lookups.
 */
import type { PARTITION_ROLES } from '../../../contract/disk-image.ts';

/** UEFI 2.10 5.3.3: EFI system partition. */
export const GUID_ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
/** GRUB: BIOS boot partition ("Hah!IdontNeedEFI"), where i386-pc core.img is embedded on GPT disks. */
export const GUID_BIOS_BOOT = '21686148-6449-6e6f-744e-656564454649';
/** Discoverable Partitions: root partition for x86-64. */
export const GUID_LINUX_ROOT_X86_64 = '4f68bce3-e8cd-4db1-96e7-fbcaf984b709';
/** Linux filesystem data (generic). */
export const GUID_LINUX_DATA = '0fc63daf-8483-4772-8e79-3d69d8477de4';

/** What a partition is for, as far as deploying and booting an image goes. */
export type PartitionRole = (typeof PARTITION_ROLES)[number];

const GPT_ROLES: Record<string, [PartitionRole, string]> = {
  [GUID_ESP]: ['esp', 'EFI system partition'],
  [GUID_BIOS_BOOT]: ['bios-boot', 'BIOS boot partition'],
  [GUID_LINUX_ROOT_X86_64]: ['linux-root', 'Linux root (x86-64)'],
  '44479540-f297-41b2-9af7-d131d5f0458a': ['linux-root', 'Linux root (x86)'],
  'b921b045-1df0-41c3-af44-4c6f280d3fae': ['linux-root', 'Linux root (ARM64)'],
  [GUID_LINUX_DATA]: ['linux', 'Linux filesystem'],
  'bc13c2ff-59e6-4262-a352-b275fd6f7172': ['xbootldr', 'Linux extended boot (/boot)'],
  '8484680c-9521-48c6-9c11-b0720656f69e': ['linux', 'Linux /usr (x86-64)'],
  '933ac7e1-2eb4-4f13-b844-0e14e2aef915': ['linux', 'Linux /home'],
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': ['swap', 'Linux swap'],
  'e6d6d379-f507-44c2-a23c-238f2a3df928': ['lvm', 'Linux LVM'],
  'a19d880f-05fc-4d3b-a006-743f0f84911e': ['raid', 'Linux RAID'],
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7': ['windows', 'Microsoft basic data'],
  'e3c9e316-0b5c-4db8-817d-f92df00215ae': ['windows', 'Microsoft reserved'],
  'de94bba4-06d1-4d40-a16a-bfd50179d6ac': ['windows', 'Windows recovery'],
};

const MBR_ROLES: Record<number, [PartitionRole, string]> = {
  0x83: ['linux', 'Linux'],
  0x82: ['swap', 'Linux swap'],
  0x8e: ['lvm', 'Linux LVM'],
  0xfd: ['raid', 'Linux RAID autodetect'],
  0xef: ['esp', 'EFI system partition'],
  0x05: ['extended', 'Extended'],
  0x0f: ['extended', 'Extended (LBA)'],
  0x85: ['extended', 'Linux extended'],
  0x07: ['windows', 'NTFS/exFAT'],
  0x0b: ['other', 'FAT32'],
  0x0c: ['other', 'FAT32 (LBA)'],
  0x0e: ['other', 'FAT16 (LBA)'],
};

/** Role and description of a GPT type GUID. */
export function gptRole(typeGuid: string): { role: PartitionRole; description: string } {
  const r = GPT_ROLES[typeGuid.toLowerCase()];
  return r ? { role: r[0], description: r[1] } : { role: 'other', description: 'unknown type' };
}

/** Role and description of an MBR type byte. */
export function mbrRole(type: number): { role: PartitionRole; description: string } {
  const r = MBR_ROLES[type];
  return r ? { role: r[0], description: r[1] } : { role: 'other', description: `type 0x${type.toString(16).padStart(2, '0')}` };
}
