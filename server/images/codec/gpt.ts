/**
 * GUID Partition Table header and entry array (UEFI 2.10 section 5.3). Pure and byte-exact: every
 * field, the reserved bytes and entries that are not all zero are kept, so a decoded table
 * re-encodes to the same bytes. Every length and count read from the disk is bounded before use:
 * an image file is as hostile as a datagram.
 */
import { MalformedPacket } from '../../net/malformed.ts';
import { crc32 } from './crc32.ts';
import { decodeGuid, encodeGuid, ZERO_GUID } from './guid.ts';

/** UEFI 2.10 5.3.2: "EFI PART". */
export const GPT_SIGNATURE = 'EFI PART';
/** UEFI 2.10 5.3.2: revision 1.0. */
export const GPT_REVISION = 0x00010000;
/** UEFI 2.10 5.3.2: the header proper is 92 bytes; the rest of its block is reserved (zero). */
export const GPT_HEADER_SIZE = 92;
/** UEFI 2.10 5.3.3: entries are 128 x 2^n bytes; 128 is what every tool writes. */
export const GPT_ENTRY_SIZE = 128;
/** UEFI 2.10 5.3.2: at least 16,384 bytes are reserved for the array, i.e. 128 entries of 128 bytes. */
export const GPT_DEFAULT_ENTRIES = 128;
/** Our bound on the entry array (a hostile header could claim 4 GiB): 1 MiB is 8,192 entries. */
export const GPT_MAX_ARRAY_BYTES = 1024 * 1024;
/** UEFI 2.10 5.3.3 attribute bit 2: "Legacy BIOS bootable" (used by syslinux-style GPT MBR code). */
export const GPT_ATTR_LEGACY_BIOS_BOOTABLE = 1n << 2n;

/** A decoded GPT header (one logical block). */
export interface GptHeader {
  revision: number;
  headerSize: number;
  headerCrc: number;
  reserved: number;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  numEntries: number;
  entrySize: number;
  entriesCrc: number;
  /** Bytes from offset 92 to the end of the block (zero on every sane disk). */
  tail: Uint8Array;
}

/** One entry of the array that is not all zero (unused entries with a zero type GUID may appear if they hold junk). */
export interface GptEntry {
  /** Zero-based slot in the array (partition number - 1). */
  index: number;
  typeGuid: string;
  uniqueGuid: string;
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  /** UTF-16LE name up to the first NUL (36 code units at most). */
  name: string;
  /** Bytes of the name field after its terminating NUL, only when not all zero. */
  nameTail?: Uint8Array;
  /** Bytes 128..entrySize of a larger entry. */
  extra: Uint8Array;
}

const PROTO = 'gpt';

/** A u64 LBA as a safe JS number; a larger one is a hostile or corrupt field. */
function lba(v: DataView, o: number): number {
  const n = v.getBigUint64(o, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedPacket(PROTO, o, 'LBA beyond 2^53');
  return Number(n);
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0);

/** Decode a header from one logical block (`b.length` is the block size). CRC is checked by `headerCrcOk`. */
export function decodeGptHeader(b: Uint8Array): GptHeader {
  if (b.length < GPT_HEADER_SIZE) throw new MalformedPacket(PROTO, 0, `block of ${b.length} bytes is shorter than a header`);
  if (new TextDecoder('latin1').decode(b.subarray(0, 8)) !== GPT_SIGNATURE) throw new MalformedPacket(PROTO, 0, 'no "EFI PART" signature');
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const headerSize = v.getUint32(12, true);
  if (headerSize < GPT_HEADER_SIZE || headerSize > b.length)
    throw new MalformedPacket(PROTO, 12, `header size ${headerSize} outside 92..${b.length}`);
  const numEntries = v.getUint32(80, true);
  const entrySize = v.getUint32(84, true);
  // UEFI 2.10 5.3.2: SizeOfPartitionEntry is 128 x 2^n.
  if (entrySize < GPT_ENTRY_SIZE || (entrySize & (entrySize - 1)) !== 0)
    throw new MalformedPacket(PROTO, 84, `entry size ${entrySize} is not 128 x 2^n`);
  if (numEntries * entrySize > GPT_MAX_ARRAY_BYTES)
    throw new MalformedPacket(PROTO, 80, `${numEntries} entries of ${entrySize} bytes exceed ${GPT_MAX_ARRAY_BYTES} bytes`);
  return {
    revision: v.getUint32(8, true),
    headerSize,
    headerCrc: v.getUint32(16, true),
    reserved: v.getUint32(20, true),
    myLba: lba(v, 24),
    alternateLba: lba(v, 32),
    firstUsableLba: lba(v, 40),
    lastUsableLba: lba(v, 48),
    diskGuid: decodeGuid(b, 56),
    entriesLba: lba(v, 72),
    numEntries,
    entrySize,
    entriesCrc: v.getUint32(88, true),
    tail: b.slice(GPT_HEADER_SIZE),
  };
}

/** Encoded length of a header: one logical block. */
export function gptHeaderEncodedLength(h: GptHeader): number {
  return GPT_HEADER_SIZE + h.tail.length;
}

/** Encode a header with the CRC field as given (see `sealGptHeader` to compute it). */
export function encodeGptHeader(h: GptHeader): Uint8Array {
  const b = new Uint8Array(gptHeaderEncodedLength(h));
  const v = new DataView(b.buffer);
  b.set(new TextEncoder().encode(GPT_SIGNATURE), 0);
  v.setUint32(8, h.revision, true);
  v.setUint32(12, h.headerSize, true);
  v.setUint32(16, h.headerCrc >>> 0, true);
  v.setUint32(20, h.reserved, true);
  v.setBigUint64(24, BigInt(h.myLba), true);
  v.setBigUint64(32, BigInt(h.alternateLba), true);
  v.setBigUint64(40, BigInt(h.firstUsableLba), true);
  v.setBigUint64(48, BigInt(h.lastUsableLba), true);
  encodeGuid(h.diskGuid, b, 56);
  v.setBigUint64(72, BigInt(h.entriesLba), true);
  v.setUint32(80, h.numEntries, true);
  v.setUint32(84, h.entrySize, true);
  v.setUint32(88, h.entriesCrc >>> 0, true);
  b.set(h.tail, GPT_HEADER_SIZE);
  return b;
}

/** UEFI 2.10 5.3.2: the header CRC covers HeaderSize bytes with the CRC field itself zeroed. */
export function gptHeaderCrc(h: GptHeader): number {
  const b = encodeGptHeader({ ...h, headerCrc: 0 });
  return crc32(b.subarray(0, h.headerSize));
}

/** The header with its CRC field computed. */
export function sealGptHeader(h: GptHeader): GptHeader {
  return { ...h, headerCrc: gptHeaderCrc(h) };
}

/** Bytes of the entry array a header describes. */
export function gptEntriesEncodedLength(h: Pick<GptHeader, 'numEntries' | 'entrySize'>): number {
  return h.numEntries * h.entrySize;
}

/** Decode the entry array (`b` holds exactly numEntries x entrySize bytes). */
export function decodeGptEntries(b: Uint8Array, h: Pick<GptHeader, 'numEntries' | 'entrySize'>): GptEntry[] {
  const need = gptEntriesEncodedLength(h);
  if (b.length < need) throw new MalformedPacket(PROTO, b.length, `entry array needs ${need} bytes, have ${b.length}`);
  const out: GptEntry[] = [];
  for (let i = 0; i < h.numEntries; i++) {
    const o = i * h.entrySize;
    const e = b.subarray(o, o + h.entrySize);
    if (isZero(e)) continue;
    const v = new DataView(e.buffer, e.byteOffset, e.length);
    const nameField = e.subarray(56, 128);
    let end = 0;
    while (end < 72 && (nameField[end] !== 0 || nameField[end + 1] !== 0)) end += 2;
    const tail = nameField.subarray(Math.min(end + 2, 72));
    const entry: GptEntry = {
      index: i,
      typeGuid: decodeGuid(e, 0),
      uniqueGuid: decodeGuid(e, 16),
      firstLba: lba(v, 32),
      lastLba: lba(v, 40),
      attributes: v.getBigUint64(48, true),
      name: new TextDecoder('utf-16le').decode(nameField.subarray(0, end)),
      extra: e.slice(GPT_ENTRY_SIZE),
    };
    if (!isZero(tail)) entry.nameTail = tail.slice();
    out.push(entry);
  }
  return out;
}

/** Encode the entry array: listed entries in their slots, every other slot zero. */
export function encodeGptEntries(entries: GptEntry[], h: Pick<GptHeader, 'numEntries' | 'entrySize'>): Uint8Array {
  const b = new Uint8Array(gptEntriesEncodedLength(h));
  const v = new DataView(b.buffer);
  for (const e of entries) {
    if (e.index < 0 || e.index >= h.numEntries) throw new MalformedPacket(PROTO, 0, `entry slot ${e.index} outside 0..${h.numEntries - 1}`);
    const o = e.index * h.entrySize;
    encodeGuid(e.typeGuid, b, o);
    encodeGuid(e.uniqueGuid, b, o + 16);
    v.setBigUint64(o + 32, BigInt(e.firstLba), true);
    v.setBigUint64(o + 40, BigInt(e.lastLba), true);
    v.setBigUint64(o + 48, e.attributes, true);
    const name = new Uint8Array(72);
    const units = Math.min(e.name.length, 36);
    for (let i = 0; i < units; i++) {
      const c = e.name.charCodeAt(i);
      name[i * 2] = c & 0xff;
      name[i * 2 + 1] = c >> 8;
    }
    if (e.nameTail) name.set(e.nameTail, 72 - e.nameTail.length);
    b.set(name, o + 56);
    if (e.extra.length !== h.entrySize - GPT_ENTRY_SIZE)
      throw new MalformedPacket(PROTO, o + 128, 'extra bytes do not match the entry size');
    b.set(e.extra, o + GPT_ENTRY_SIZE);
  }
  return b;
}

/** Is this entry a partition (non-zero type GUID)? */
export function isUsedEntry(e: GptEntry): boolean {
  return e.typeGuid !== ZERO_GUID;
}
