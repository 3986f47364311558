/**
 * The master boot record in LBA 0: 440 bytes of boot code, a 4-byte disk signature, 2 reserved
 * bytes, four 16-byte partition entries at 446 and the 0x55 0xAA signature at 510 (the classic
 * IBM PC layout; UEFI 2.10 section 5.2.1 describes the same fields as "legacy MBR" and 5.2.3 the
 * protective MBR of a GPT disk: one entry of type 0xEE covering the disk). Pure and byte-exact:
 * a decoded sector re-encodes to the same 512 bytes.
 */
import { MalformedPacket } from '../../net/malformed.ts';

/** The MBR is one 512-byte sector whatever the disk's logical sector size (UEFI 2.10 5.2.1). */
export const MBR_LEN = 512;
/** Bytes of boot code before the disk signature. */
export const BOOT_CODE_LEN = 440;
/** UEFI 2.10 5.2.3: partition type of the protective MBR entry. */
export const MBR_TYPE_GPT_PROTECTIVE = 0xee;
/** UEFI 2.10 5.2.1: partition type of an EFI system partition on an MBR disk. */
export const MBR_TYPE_ESP = 0xef;
/** Boot indicator of the partition a BIOS boot loader hands control to. */
export const MBR_ACTIVE = 0x80;

/** One of the four primary entries, every byte kept. */
export interface MbrEntry {
  /** 0x80 active (bootable), 0x00 inactive; anything else is kept as read. */
  status: number;
  /** CHS address of the first sector (3 raw bytes; unused by LBA-aware software). */
  chsFirst: Uint8Array;
  /** Partition type byte; 0 means the entry is unused. */
  type: number;
  /** CHS address of the last sector (3 raw bytes). */
  chsLast: Uint8Array;
  /** First sector (LBA, unsigned 32-bit). */
  lbaStart: number;
  /** Number of sectors (unsigned 32-bit). */
  sectors: number;
}

/** A decoded MBR sector. */
export interface Mbr {
  bootCode: Uint8Array;
  diskSignature: number;
  /** Two bytes after the signature (0x0000, or 0x5A5A for a copy-protected disk). */
  reserved: number;
  entries: [MbrEntry, MbrEntry, MbrEntry, MbrEntry];
}

const ENTRY_AT = 446;

/** Decode LBA 0. Throws MalformedPacket when the 0x55AA signature is missing. */
export function decodeMbr(b: Uint8Array): Mbr {
  if (b.length < MBR_LEN) throw new MalformedPacket('mbr', b.length, `need ${MBR_LEN} bytes, have ${b.length}`);
  if (b[510] !== 0x55 || b[511] !== 0xaa) throw new MalformedPacket('mbr', 510, 'no 0x55AA boot signature');
  const v = new DataView(b.buffer, b.byteOffset, MBR_LEN);
  const entry = (i: number): MbrEntry => {
    const o = ENTRY_AT + i * 16;
    return {
      status: b[o]!,
      chsFirst: b.slice(o + 1, o + 4),
      type: b[o + 4]!,
      chsLast: b.slice(o + 5, o + 8),
      lbaStart: v.getUint32(o + 8, true),
      sectors: v.getUint32(o + 12, true),
    };
  };
  return {
    bootCode: b.slice(0, BOOT_CODE_LEN),
    diskSignature: v.getUint32(440, true),
    reserved: v.getUint16(444, true),
    entries: [entry(0), entry(1), entry(2), entry(3)],
  };
}

/** Encoded length of an MBR (always one 512-byte sector). */
export function mbrEncodedLength(): number {
  return MBR_LEN;
}

/** Encode an MBR into 512 bytes. */
export function encodeMbr(m: Mbr): Uint8Array {
  const b = new Uint8Array(MBR_LEN);
  const v = new DataView(b.buffer);
  if (m.bootCode.length !== BOOT_CODE_LEN) throw new MalformedPacket('mbr', 0, `boot code must be ${BOOT_CODE_LEN} bytes`);
  b.set(m.bootCode, 0);
  v.setUint32(440, m.diskSignature >>> 0, true);
  v.setUint16(444, m.reserved & 0xffff, true);
  m.entries.forEach((e, i) => {
    const o = ENTRY_AT + i * 16;
    if (e.chsFirst.length !== 3 || e.chsLast.length !== 3) throw new MalformedPacket('mbr', o, 'CHS fields are 3 bytes');
    b[o] = e.status & 0xff;
    b.set(e.chsFirst, o + 1);
    b[o + 4] = e.type & 0xff;
    b.set(e.chsLast, o + 5);
    v.setUint32(o + 8, e.lbaStart >>> 0, true);
    v.setUint32(o + 12, e.sectors >>> 0, true);
  });
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** An unused entry. */
export function emptyMbrEntry(): MbrEntry {
  return { status: 0, chsFirst: new Uint8Array(3), type: 0, chsLast: new Uint8Array(3), lbaStart: 0, sectors: 0 };
}

/**
 * The protective MBR of a GPT disk (UEFI 2.10 5.2.3): one 0xEE entry from LBA 1 to the end of the
 * disk (or 0xFFFFFFFF when larger), CHS 0x000200 .. 0xFFFFFF, status 0 (a legacy BIOS must not boot
 * it as a partition); other entries zero. `bootCode` is kept so a BIOS boot loader can live there.
 */
export function protectiveMbr(diskSectors: number, bootCode: Uint8Array = new Uint8Array(BOOT_CODE_LEN)): Mbr {
  const size = Math.min(diskSectors - 1, 0xffffffff);
  const e: MbrEntry = {
    status: 0,
    chsFirst: Uint8Array.of(0x00, 0x02, 0x00),
    type: MBR_TYPE_GPT_PROTECTIVE,
    chsLast: Uint8Array.of(0xff, 0xff, 0xff),
    lbaStart: 1,
    sectors: size,
  };
  return { bootCode, diskSignature: 0, reserved: 0, entries: [e, emptyMbrEntry(), emptyMbrEntry(), emptyMbrEntry()] };
}
