/**
 * The partition table at the head of a disk image: LBA 0 (MBR or protective MBR), and for GPT the
 * primary header at LBA 1 and its entry array (UEFI 2.10 5.3.1: "the primary GPT header must be
 * at LBA 1"). Pure: `decodeDiskHead` takes the first bytes of an image and returns the table with
 * every check made (signatures, CRCs, bounds); `encodeDiskHead` writes the same bytes back.
 * Logical sector sizes of 512 and 4096 are recognised (4Kn disks put the GPT header at byte 4096).
 */
import { MalformedPacket } from '../../net/malformed.ts';
import { crc32 } from './crc32.ts';
import { decodeMbr, encodeMbr, MBR_LEN, MBR_TYPE_GPT_PROTECTIVE, type Mbr } from './mbr.ts';
import {
  decodeGptEntries,
  decodeGptHeader,
  encodeGptEntries,
  encodeGptHeader,
  gptEntriesEncodedLength,
  gptHeaderCrc,
  GPT_SIGNATURE,
  type GptEntry,
  type GptHeader,
} from './gpt.ts';

/** Logical block sizes we look for a GPT header at. */
export const SECTOR_SIZES = [512, 4096] as const;

/** A GPT disk head: protective MBR, primary header, entries. */
export interface GptDiskHead {
  kind: 'gpt';
  sectorSize: number;
  mbr: Mbr;
  /** The rest of LBA 0 after the 512-byte MBR (4Kn disks only; zero on every sane disk). */
  lba0Tail: Uint8Array;
  header: GptHeader;
  /** Bytes between the header block and the entry array (normally none: entries start at LBA 2). */
  gap: Uint8Array;
  entries: GptEntry[];
}

/** An MBR-only disk head. */
export interface MbrDiskHead {
  kind: 'mbr';
  sectorSize: 512;
  mbr: Mbr;
}

/** What the head of a disk image holds. */
export type DiskHead = GptDiskHead | MbrDiskHead;

/** Bytes of the head to read so every supported table fits (4Kn: LBA 0..5 = 24 KiB; plus a bounded array). */
export const DISK_HEAD_READ = 2 * 1024 * 1024;

const isProtective = (m: Mbr) => m.entries.some((e) => e.type === MBR_TYPE_GPT_PROTECTIVE);
const latin1 = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

/** Decode the partition table from the first bytes of an image. Throws MalformedPacket on any inconsistency. */
export function decodeDiskHead(b: Uint8Array): DiskHead {
  const mbr = decodeMbr(b);
  if (!isProtective(mbr)) return { kind: 'mbr', sectorSize: 512, mbr };
  const sectorSize = SECTOR_SIZES.find((s) => b.length >= 2 * s && latin1(b.subarray(s, s + 8)) === GPT_SIGNATURE);
  if (!sectorSize) throw new MalformedPacket('gpt', 512, 'protective MBR but no GPT header at LBA 1 (512 or 4096-byte sectors)');
  const header = decodeGptHeader(b.subarray(sectorSize, 2 * sectorSize));
  if (header.myLba !== 1) throw new MalformedPacket('gpt', sectorSize + 24, `primary header says it is at LBA ${header.myLba}, not 1`);
  if (gptHeaderCrc(header) !== header.headerCrc) throw new MalformedPacket('gpt', sectorSize + 16, 'header CRC32 mismatch');
  if (header.entriesLba < 2)
    throw new MalformedPacket('gpt', sectorSize + 72, `entry array at LBA ${header.entriesLba} overlaps the header`);
  const at = header.entriesLba * sectorSize;
  const len = gptEntriesEncodedLength(header);
  if (at + len > b.length)
    throw new MalformedPacket('gpt', sectorSize + 72, `entry array ends at byte ${at + len}, past the ${b.length} bytes read`);
  const array = b.subarray(at, at + len);
  if (crc32(array) !== header.entriesCrc) throw new MalformedPacket('gpt', at, 'entry array CRC32 mismatch');
  if (header.firstUsableLba > header.lastUsableLba + 1)
    throw new MalformedPacket('gpt', sectorSize + 40, 'first usable LBA after last usable LBA');
  const entries = decodeGptEntries(array, header);
  for (const e of entries) {
    if (e.typeGuid === '00000000-0000-0000-0000-000000000000') continue;
    if (e.firstLba > e.lastLba || e.firstLba < header.firstUsableLba || e.lastLba > header.lastUsableLba)
      throw new MalformedPacket(
        'gpt',
        at + e.index * header.entrySize + 32,
        `partition ${e.index + 1} (LBA ${e.firstLba}..${e.lastLba}) lies outside the usable area`,
      );
  }
  return { kind: 'gpt', sectorSize, mbr, lba0Tail: b.slice(MBR_LEN, sectorSize), header, gap: b.slice(2 * sectorSize, at), entries };
}

/** Bytes `encodeDiskHead` writes: LBA 0 (one sector) up to the end of the entry array. */
export function diskHeadEncodedLength(d: DiskHead): number {
  if (d.kind === 'mbr') return MBR_LEN;
  return d.header.entriesLba * d.sectorSize + gptEntriesEncodedLength(d.header);
}

/** Encode the head; for GPT, LBA 0 is the MBR padded to a full logical block. */
export function encodeDiskHead(d: DiskHead): Uint8Array {
  const out = new Uint8Array(diskHeadEncodedLength(d));
  out.set(encodeMbr(d.mbr), 0);
  if (d.kind === 'mbr') return out;
  out.set(d.lba0Tail, MBR_LEN);
  out.set(encodeGptHeader(d.header), d.sectorSize);
  out.set(d.gap, 2 * d.sectorSize);
  out.set(encodeGptEntries(d.entries, d.header), d.header.entriesLba * d.sectorSize);
  return out;
}
