/**
 * ISO 9660 on-disc structures (ECMA-119 4th ed.): the volume descriptor (8.4, 8.5) and the directory record
 * (9.1). Numbers are stored "both-byte orders" (7.2.3, 7.3.3): the little-endian half is read (as Linux
 * does) and both halves are written. Pure: bytes in, typed value out, and back.
 */
import { MalformedPacket } from '../../net/malformed.ts';

const PROTO = 'iso9660';
/** The sector size of every CD and of ISO 9660 images (ECMA-119 6.1.2); descriptors start at sector 16. */
export const ISO_SECTOR = 2048;
/** Sector of the first volume descriptor (ECMA-119 6.2.1: the system area is sectors 0-15). */
export const FIRST_DESCRIPTOR_SECTOR = 16;

/** Directory record flags (ECMA-119 9.1.6). */
export const DIR_FLAG = { hidden: 0x01, directory: 0x02, associated: 0x04, record: 0x08, protection: 0x10, multiExtent: 0x80 } as const;

/** One directory record. `name` is the raw identifier (0x00 = ".", 0x01 = ".."). */
export interface DirRecord {
  extAttrLength: number;
  extent: number;
  size: number;
  /** Recording date and time, 7 bytes (9.1.5), kept as they are. */
  recorded: Uint8Array;
  flags: number;
  unitSize: number;
  gapSize: number;
  volumeSequence: number;
  name: Uint8Array;
  /** The system use area (Rock Ridge lives here, IEEE P1281). */
  systemUse: Uint8Array;
}

/** A primary (type 1) or supplementary (type 2, Joliet) volume descriptor; other types carry only `type`. */
export interface VolumeDescriptor {
  type: number;
  version: number;
  volumeId: string;
  volumeSpaceSize: number;
  /** The escape sequences field (8.5.6): Joliet's `%/@`, `%/C`, `%/E` live here. */
  escapes: Uint8Array;
  logicalBlockSize: number;
  root: DirRecord | null;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

function put723(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
  b[o + 2] = (v >> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function put733(b: Uint8Array, o: number, v: number): void {
  for (let i = 0; i < 4; i++) {
    b[o + i] = (v >>> (8 * i)) & 0xff;
    b[o + 7 - i] = (v >>> (8 * i)) & 0xff;
  }
}

/** Bytes a directory record takes: 33 + identifier + a pad byte when the identifier length is even (9.1.12). */
export function dirRecordLength(r: Pick<DirRecord, 'name' | 'systemUse'>): number {
  return 33 + r.name.length + (r.name.length % 2 === 0 ? 1 : 0) + r.systemUse.length;
}

/** Decode the directory record at `off` of `b`; `base` is its offset in the image (for errors). */
export function decodeDirRecord(b: Uint8Array, off: number, base = 0): DirRecord {
  const len = b[off];
  if (len === undefined || off + 1 > b.length) throw new MalformedPacket(PROTO, base + off, 'directory record past the end');
  if (len < 34) throw new MalformedPacket(PROTO, base + off, `directory record length ${len} is below 34`);
  if (off + len > b.length) throw new MalformedPacket(PROTO, base + off, `directory record of ${len} bytes passes the end of its sector`);
  const nameLen = b[off + 32]!;
  const suStart = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
  if (nameLen === 0 || suStart > len)
    throw new MalformedPacket(PROTO, base + off + 32, `identifier length ${nameLen} does not fit a ${len}-byte record`);
  return {
    extAttrLength: b[off + 1]!,
    extent: u32(b, off + 2),
    size: u32(b, off + 10),
    recorded: b.slice(off + 18, off + 25),
    flags: b[off + 25]!,
    unitSize: b[off + 26]!,
    gapSize: b[off + 27]!,
    volumeSequence: u16(b, off + 28),
    name: b.slice(off + 33, off + 33 + nameLen),
    systemUse: b.slice(off + suStart, off + len),
  };
}

/** Encode a directory record. */
export function encodeDirRecord(r: DirRecord): Uint8Array {
  const len = dirRecordLength(r);
  if (len > 255 || r.recorded.length !== 7 || r.name.length === 0) throw new RangeError('directory record does not fit 255 bytes');
  const b = new Uint8Array(len);
  b[0] = len;
  b[1] = r.extAttrLength;
  put733(b, 2, r.extent);
  put733(b, 10, r.size);
  b.set(r.recorded, 18);
  b[25] = r.flags;
  b[26] = r.unitSize;
  b[27] = r.gapSize;
  put723(b, 28, r.volumeSequence);
  b[32] = r.name.length;
  b.set(r.name, 33);
  b.set(r.systemUse, len - r.systemUse.length);
  return b;
}

/** Decode one 2048-byte volume descriptor (ECMA-119 8.1: type, "CD001", version). */
export function decodeVolumeDescriptor(b: Uint8Array, base = 0): VolumeDescriptor {
  if (b.length < ISO_SECTOR) throw new MalformedPacket(PROTO, base, `volume descriptor of ${b.length} bytes`);
  if (String.fromCharCode(...b.subarray(1, 6)) !== 'CD001') throw new MalformedPacket(PROTO, base + 1, 'no CD001 standard identifier');
  const type = b[0]!;
  const head = { type, version: b[6]!, volumeId: '', volumeSpaceSize: 0, escapes: new Uint8Array(32), logicalBlockSize: 0, root: null };
  if (type !== 1 && type !== 2) return head;
  const bs = u16(b, 128);
  // ECMA-119 6.1.2: a logical block is 2^(n+9) bytes and never more than a sector.
  if (![512, 1024, 2048].includes(bs)) throw new MalformedPacket(PROTO, base + 128, `logical block size ${bs}`);
  const volumeId =
    type === 2 && isJoliet(b.subarray(88, 120))
      ? ucs2(b.subarray(40, 72))
      : String.fromCharCode(...b.subarray(40, 72))
          .replace(/[^\x20-\x7e]/g, '?')
          .trimEnd();
  return {
    ...head,
    volumeId: volumeId.trimEnd(),
    volumeSpaceSize: u32(b, 80),
    escapes: b.slice(88, 120),
    logicalBlockSize: bs,
    root: decodeDirRecord(b.subarray(156, 190), 0, base + 156),
  };
}

/** True when a descriptor's escape sequences name UCS-2 level 1, 2 or 3 (Joliet: `%/@`, `%/C`, `%/E`). */
export function isJoliet(escapes: Uint8Array): boolean {
  for (let i = 0; i + 2 < escapes.length; i++)
    if (escapes[i] === 0x25 && escapes[i + 1] === 0x2f && [0x40, 0x43, 0x45].includes(escapes[i + 2]!)) return true;
  return false;
}

/** UCS-2 big-endian text (Joliet identifiers); an odd last byte is dropped. */
export function ucs2(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s;
}
