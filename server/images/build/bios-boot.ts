/**
 * GRUB's BIOS boot code on a GPT disk without grub-install (which wants a block device): boot.img goes
 * in the MBR's 440 bytes of boot code and core.img in the BIOS boot partition; two block addresses
 * tie them together. Facts from GRUB 2.06's i386-pc layout (include/grub/i386/pc/boot.h and
 * diskboot.S): boot.img reads its "kernel sector" (the first sector of core.img, a u64 LBA at
 * 0x5C) and core.img's first sector (diskboot) reads the rest from the blocklist at the end of that
 * sector (start LBA u64 at 0x1F4, sector count u16 at 0x1FC, load segment u16 at 0x1FE). The jump at
 * 0x66 that retries the boot drive number is replaced by two NOPs for hard disks, as grub-setup
 * does; the BIOS parameter block area (0x03..0x5A) is left as on the target (zero on a new disk).
 * Pure: images and an LBA in, patched bytes out.
 */
import { BOOT_CODE_LEN } from '../codec/mbr.ts';

/** boot.img: LBA of core.img's first sector. */
const KERNEL_SECTOR_AT = 0x5c;
/** boot.img: the "boot drive check" jump, NOP-ed for hard disks. */
const DRIVE_CHECK_AT = 0x66;
/** boot.img: BIOS parameter block, kept from the target. */
const BPB_START = 0x03;
const BPB_END = 0x5a;
/** diskboot.img (core.img sector 0): the first blocklist entry. */
const BLOCKLIST_START_AT = 0x1f4;
const BLOCKLIST_LEN_AT = 0x1fc;

/** The patched boot code and core image for a core.img placed at `coreLba`. */
export function grubBiosBoot(
  bootImg: Uint8Array,
  coreImg: Uint8Array,
  coreLba: number,
  targetBootCode?: Uint8Array,
): { bootCode: Uint8Array; core: Uint8Array } {
  if (bootImg.length !== 512) throw new RangeError(`boot.img is ${bootImg.length} bytes, not 512`);
  if (coreImg.length < 1024) throw new RangeError(`core.img is ${coreImg.length} bytes: too small to be GRUB's`);
  const sectors = Math.ceil(coreImg.length / 512);
  const core = new Uint8Array(sectors * 512);
  core.set(coreImg);
  const cv = new DataView(core.buffer);
  // grub-mkimage already wrote the count of sectors after the first; a mismatch means this is not the layout we know.
  const len = cv.getUint16(BLOCKLIST_LEN_AT, true);
  if (len !== sectors - 1) throw new RangeError(`core.img blocklist says ${len} sectors, the file has ${sectors - 1} after the first`);
  cv.setBigUint64(BLOCKLIST_START_AT, BigInt(coreLba + 1), true);
  const code = bootImg.slice(0, BOOT_CODE_LEN);
  const bv = new DataView(code.buffer);
  bv.setBigUint64(KERNEL_SECTOR_AT, BigInt(coreLba), true);
  code[DRIVE_CHECK_AT] = 0x90;
  code[DRIVE_CHECK_AT + 1] = 0x90;
  code.set((targetBootCode ?? new Uint8Array(BOOT_CODE_LEN)).subarray(BPB_START, BPB_END), BPB_START);
  return { bootCode: code, core };
}
