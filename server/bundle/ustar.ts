/**
 * The POSIX ustar archive format (IEEE Std 1003.1-1988, "pax" chapter of POSIX.1-2001, header block
 * "ustar Interchange Format"), as a pure codec: a 512-byte header block <-> a typed header, and a
 * whole in-memory archive <-> its entries. No file, stream or clock here; the bundle's reader and
 * writer (tar-io.ts) stream members through these functions.
 *
 * Header block layout (offset, length): name 0/100, mode 100/8, uid 108/8, gid 116/8, size 124/12,
 * mtime 136/12, chksum 148/8, typeflag 156/1, linkname 157/100, magic 257/6 ("ustar\0"),
 * version 263/2 ("00"), uname 265/32, gname 297/32, devmajor 329/8, devminor 337/8, prefix 345/155.
 * Numbers are zero-padded octal ending in NUL; the checksum is the byte sum of the block with its own
 * field read as spaces, written as six octal digits, NUL, space. Sizes above 8 GiB - 1 (eleven octal
 * digits) use the base-256 form GNU tar and libarchive read: first byte 0x80, then big-endian bytes.
 * The archive ends with two zero blocks and is padded to a whole record (GNU tar: 20 blocks).
 *
 * Every read is bounded by the block; every failure is one typed MalformedPacket('ustar', offset, why).
 */
import { MalformedPacket } from '../net/malformed.ts';

/** Bytes per block. */
export const BLOCK = 512;
/** Bytes per record: tar writes whole records of 20 blocks (GNU tar's and POSIX's default blocking factor). */
export const RECORD = 20 * BLOCK;
/** Largest size the octal field holds (11 digits). */
export const MAX_OCTAL_SIZE = 0o77777777777;

/** Member types by typeflag (POSIX; `L`/`K` are GNU long names, `x`/`g` pax headers). */
const TYPES: Record<string, TarType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'directory',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char-device',
  '4': 'block-device',
  '6': 'fifo',
  x: 'pax-header',
  g: 'pax-global',
  L: 'gnu-longname',
  K: 'gnu-longlink',
};
/** What a member is. */
export type TarType =
  | 'file'
  | 'directory'
  | 'hardlink'
  | 'symlink'
  | 'char-device'
  | 'block-device'
  | 'fifo'
  | 'pax-header'
  | 'pax-global'
  | 'gnu-longname'
  | 'gnu-longlink'
  | 'unknown';

/** One decoded header. `devmajor`/`devminor` are null when the field is empty (some writers leave it NUL). */
export interface TarHeader {
  /** prefix + '/' + name when a prefix is present. */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** The raw typeflag character. */
  typeflag: string;
  type: TarType;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number | null;
  devminor: number | null;
}

/** A member: its header and (for files) its bytes. */
export interface TarEntry {
  header: TarHeader;
  data: Uint8Array;
}

const fail = (offset: number, reason: string): never => {
  throw new MalformedPacket('ustar', offset, reason);
};

/** A NUL-terminated (or field-filling) string of `len` bytes at `off`, as latin1. */
function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** An octal (or base-256) number field; `empty` when the field is all NUL. */
function num(b: Uint8Array, base: number, off: number, len: number, what: string): number | 'empty' {
  const first = b[base + off]!;
  if (first & 0x80) {
    if (first !== 0x80) fail(base + off, `${what}: negative or oversized base-256 number`);
    let v = 0;
    for (let i = 1; i < len; i++) {
      v = v * 256 + b[base + off + i]!;
      if (v > Number.MAX_SAFE_INTEGER) fail(base + off, `${what}: base-256 number too large`);
    }
    return v;
  }
  let i = 0;
  while (i < len && b[base + off + i] === 0x20) i++; // leading spaces (old writers)
  if (i === len || b[base + off + i] === 0) {
    for (let j = i; j < len; j++)
      if (b[base + off + j] !== 0 && b[base + off + j] !== 0x20) fail(base + off + j, `${what}: garbage after the end`);
    return 'empty';
  }
  let v = 0;
  let digits = 0;
  for (; i < len; i++) {
    const c = b[base + off + i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) fail(base + off + i, `${what}: not an octal digit (0x${c.toString(16)})`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  for (; i < len; i++) if (b[base + off + i] !== 0 && b[base + off + i] !== 0x20) fail(base + off + i, `${what}: garbage after the number`);
  if (digits === 0) fail(base + off, `${what}: no digits`);
  return v;
}

const req = (v: number | 'empty', off: number, what: string): number => (v === 'empty' ? fail(off, `${what}: empty field`) : v);

/** The checksum of a header block: its bytes summed, the checksum field counted as spaces. */
export function headerChecksum(block: Uint8Array, base = 0): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[base + i]!;
  return sum;
}

/** True when the 512 bytes at `base` are all zero (an end-of-archive block). */
export function isZeroBlock(b: Uint8Array, base = 0): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[base + i] !== 0) return false;
  return true;
}

/** Decode the header block at `base` of `b`; throws MalformedPacket. The caller handles zero blocks first. */
export function decodeHeader(b: Uint8Array, base = 0): TarHeader {
  if (b.length - base < BLOCK) fail(base, `truncated header: ${b.length - base} of ${BLOCK} bytes`);
  if (str(b, base + 257, 6) !== 'ustar' || b[base + 262] !== 0) fail(base + 257, 'not a POSIX ustar header (magic is not "ustar\\0")');
  if (b[base + 263] !== 0x30 || b[base + 264] !== 0x30) fail(base + 263, 'ustar version is not "00"');
  const stored = req(num(b, base, 148, 8, 'chksum'), base + 148, 'chksum');
  const sum = headerChecksum(b, base);
  if (stored !== sum) fail(base + 148, `checksum ${stored} does not match the header (${sum})`);
  const name = str(b, base, 100);
  const prefix = str(b, base + 345, 155);
  const typeflag = String.fromCharCode(b[base + 156]!);
  const dev = (off: number, what: string) => {
    const v = num(b, base, off, 8, what);
    return v === 'empty' ? null : v;
  };
  return {
    path: prefix ? `${prefix}/${name}` : name,
    mode: req(num(b, base, 100, 8, 'mode'), base + 100, 'mode'),
    uid: req(num(b, base, 108, 8, 'uid'), base + 108, 'uid'),
    gid: req(num(b, base, 116, 8, 'gid'), base + 116, 'gid'),
    size: req(num(b, base, 124, 12, 'size'), base + 124, 'size'),
    mtime: req(num(b, base, 136, 12, 'mtime'), base + 136, 'mtime'),
    typeflag,
    type: TYPES[typeflag] ?? 'unknown',
    linkname: str(b, base + 157, 100),
    uname: str(b, base + 265, 32),
    gname: str(b, base + 297, 32),
    devmajor: dev(329, 'devmajor'),
    devminor: dev(337, 'devminor'),
  };
}

/** Where to split a long path into prefix and name (the last '/' within the prefix's reach), or -1. */
export function splitPoint(path: string): number {
  if (path.length <= 100) return -1;
  const reach = Math.min(path.length - 1, 155);
  for (let i = reach; i > 0; i--) if (path[i] === '/' && path.length - i - 1 <= 100 && path.length - i - 1 > 0) return i;
  return -1;
}

function putStr(b: Uint8Array, off: number, len: number, s: string, what: string): void {
  if (s.length > len) throw new RangeError(`${what} "${s}" is longer than ${len} bytes`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || c === 0) throw new RangeError(`${what} "${s}" has a character tar cannot hold`);
    b[off + i] = c;
  }
}

function putOctal(b: Uint8Array, off: number, len: number, v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} ${v} is not a non-negative integer`);
  const s = v.toString(8);
  if (s.length <= len - 1) return putStr(b, off, len, s.padStart(len - 1, '0'), what); // the NUL is already there
  if (what !== 'size') throw new RangeError(`${what} ${v} does not fit ${len - 1} octal digits`);
  // Base-256: 0x80, then the value big-endian in the remaining bytes.
  b[off] = 0x80;
  let x = v;
  for (let i = len - 1; i >= 1; i--) {
    b[off + i] = x % 256;
    x = Math.floor(x / 256);
  }
}

/** Encode one header block. */
export function encodeHeader(h: TarHeader): Uint8Array {
  const b = new Uint8Array(BLOCK);
  const cut = splitPoint(h.path);
  putStr(b, 0, 100, cut < 0 ? h.path : h.path.slice(cut + 1), 'name');
  if (cut >= 0) putStr(b, 345, 155, h.path.slice(0, cut), 'prefix');
  putOctal(b, 100, 8, h.mode, 'mode');
  putOctal(b, 108, 8, h.uid, 'uid');
  putOctal(b, 116, 8, h.gid, 'gid');
  putOctal(b, 124, 12, h.size, 'size');
  putOctal(b, 136, 12, h.mtime, 'mtime');
  b[156] = h.typeflag.charCodeAt(0);
  putStr(b, 157, 100, h.linkname, 'linkname');
  putStr(b, 257, 6, 'ustar', 'magic');
  putStr(b, 263, 2, '00', 'version');
  putStr(b, 265, 32, h.uname, 'uname');
  putStr(b, 297, 32, h.gname, 'gname');
  if (h.devmajor !== null) putOctal(b, 329, 8, h.devmajor, 'devmajor');
  if (h.devminor !== null) putOctal(b, 337, 8, h.devminor, 'devminor');
  putStr(b, 148, 8, headerChecksum(b).toString(8).padStart(6, '0'), 'chksum');
  b[155] = 0x20; // six digits, NUL (already), space
  return b;
}

/** Zero bytes after `size` bytes of data up to the next block boundary. */
export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** Bytes of the end of an archive whose members took `used` bytes: two zero blocks, then up to a whole record. */
export function trailerLength(used: number): number {
  const withEnd = used + 2 * BLOCK;
  return 2 * BLOCK + ((RECORD - (withEnd % RECORD)) % RECORD);
}

/** Length of the archive `encodeArchive` makes of `entries`. */
export function encodedLength(entries: readonly TarEntry[]): number {
  const used = entries.reduce((n, e) => n + BLOCK + e.header.size + padding(e.header.size), 0);
  return used + trailerLength(used);
}

/** A whole archive in memory (tests, fixtures, small bundles). */
export function encodeArchive(entries: readonly TarEntry[]): Uint8Array {
  const out = new Uint8Array(encodedLength(entries));
  let at = 0;
  for (const e of entries) {
    if (e.data.length !== e.header.size) throw new RangeError(`${e.header.path}: ${e.data.length} bytes, header says ${e.header.size}`);
    out.set(encodeHeader(e.header), at);
    out.set(e.data, at + BLOCK);
    at += BLOCK + e.header.size + padding(e.header.size);
  }
  return out;
}

/** Decode a whole archive in memory, bounded by its length; the trailer must be zeros to the end. */
export function decodeArchive(b: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  for (;;) {
    if (b.length - at < BLOCK) fail(at, 'archive ends without its two zero blocks');
    if (isZeroBlock(b, at)) break;
    const header = decodeHeader(b, at);
    const start = at + BLOCK;
    if (header.size > b.length - start) fail(at + 124, `member "${header.path}" claims ${header.size} bytes, ${b.length - start} remain`);
    out.push({ header, data: b.slice(start, start + header.size) });
    at = start + header.size + padding(header.size);
  }
  if (b.length - at < 2 * BLOCK) fail(at, 'archive ends after one zero block');
  for (let i = at; i < b.length; i++) if (b[i] !== 0) fail(i, 'data after the end-of-archive blocks');
  return out;
}
