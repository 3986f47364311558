/**
 * System Use entries (SUSP, IEEE P1281 4.1: signature, length, version, data) and the Rock Ridge entries
 * read from them (IEEE P1282: PX mode, NM name, SL symbolic link, CE continuation, and RE/CL/PL for
 * relocated directories). Pure; every loop is bounded by the bytes left.
 */
import { MalformedPacket } from '../../net/malformed.ts';

const PROTO = 'rock-ridge';

/** One SUSP entry. */
export interface SuspEntry {
  sig: string;
  version: number;
  data: Uint8Array;
}

/** Decode the entries of a system use area (a trailing pad shorter than an entry header ends it, P1281 5.1). */
export function decodeSusp(b: Uint8Array, base = 0): SuspEntry[] {
  const out: SuspEntry[] = [];
  let off = 0;
  while (b.length - off >= 4) {
    const len = b[off + 2]!;
    if (b[off] === 0 && len === 0) break; // zero padding
    if (len < 4 || off + len > b.length)
      throw new MalformedPacket(PROTO, base + off, `entry length ${len} with ${b.length - off} bytes left`);
    const sig = String.fromCharCode(b[off]!, b[off + 1]!);
    out.push({ sig, version: b[off + 3]!, data: b.slice(off + 4, off + len) });
    if (sig === 'ST') break; // P1281 5.3: the terminator ends the area
    off += len;
  }
  return out;
}

/** Encode entries back into a system use area. */
export function encodeSusp(entries: readonly SuspEntry[]): Uint8Array {
  const b = new Uint8Array(suspLength(entries));
  let off = 0;
  for (const e of entries) {
    if (e.data.length + 4 > 255) throw new RangeError(`${e.sig} entry does not fit 255 bytes`);
    b[off] = e.sig.charCodeAt(0);
    b[off + 1] = e.sig.charCodeAt(1);
    b[off + 2] = e.data.length + 4;
    b[off + 3] = e.version;
    b.set(e.data, off + 4);
    off += e.data.length + 4;
  }
  return b;
}

/** Bytes the entries take. */
export function suspLength(entries: readonly SuspEntry[]): number {
  return entries.reduce((n, e) => n + 4 + e.data.length, 0);
}

const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** SP (P1281 5.3): present in the root's "." record when the volume uses SUSP; gives the bytes to skip. */
export function spSkip(entries: readonly SuspEntry[]): number | null {
  const sp = entries[0];
  if (sp?.sig !== 'SP' || sp.data.length < 3 || sp.data[0] !== 0xbe || sp.data[1] !== 0xef) return null;
  return sp.data[2]!;
}

/** Where a CE entry says the area continues (P1281 5.1): block, offset in it, length. */
export function continuation(e: SuspEntry): { block: number; offset: number; length: number } {
  if (e.data.length < 24) throw new MalformedPacket(PROTO, 0, `CE entry of ${e.data.length} data bytes`);
  return { block: u32(e.data, 0), offset: u32(e.data, 8), length: u32(e.data, 16) };
}

/** What the Rock Ridge entries of one record say (after the continuation areas are appended). */
export interface RockRidge {
  /** File mode from PX (POSIX st_mode), or null. */
  mode: number | null;
  /** Name from NM, or null; `.`/`..` when the CURRENT/PARENT flags are set (the caller refuses those). */
  name: string | null;
  /** Symbolic link target from SL, or null. */
  target: string | null;
  /** True when the record is part of a relocated directory (RE, CL or PL). */
  relocated: boolean;
}

const NM_CURRENT = 0x02;
const NM_PARENT = 0x04;
const SL_ROOT = 0x08;

/** Read PX, NM, SL, RE/CL/PL out of a record's entries (names and targets as UTF-8, P1282 leaves them bytes). */
export function readRockRidge(entries: readonly SuspEntry[]): RockRidge {
  let mode: number | null = null;
  const name: Uint8Array[] = [];
  let nameFlag = '';
  const link: string[] = [];
  let linkPart = '';
  let relocated = false;
  const text = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: false }).decode(b);
  for (const e of entries) {
    if (e.sig === 'PX' && e.data.length >= 8) mode = u32(e.data, 0);
    else if (e.sig === 'NM' && e.data.length >= 1) {
      const f = e.data[0]!;
      if (f & NM_CURRENT) nameFlag = '.';
      else if (f & NM_PARENT) nameFlag = '..';
      else name.push(e.data.subarray(1));
    } else if (e.sig === 'SL' && e.data.length >= 1) {
      // Component records: flags, length, content (P1282 4.1.3.1); a CONTINUE flag joins a component across
      // entries. NM's CONTINUE flag needs nothing: the parts are joined in order.
      let off = 1;
      while (e.data.length - off >= 2) {
        const cf = e.data[off]!;
        const cl = e.data[off + 1]!;
        if (off + 2 + cl > e.data.length) throw new MalformedPacket(PROTO, off, `SL component of ${cl} bytes passes its entry`);
        const part = cf & 0x02 ? '.' : cf & 0x04 ? '..' : cf & SL_ROOT ? '' : text(e.data.subarray(off + 2, off + 2 + cl));
        if (cf & SL_ROOT && link.length === 0 && linkPart === '') link.push('');
        linkPart += part;
        if (!(cf & 0x01)) {
          if (!(cf & SL_ROOT)) link.push(linkPart);
          linkPart = '';
        }
        off += 2 + cl;
      }
    } else if (e.sig === 'RE' || e.sig === 'CL' || e.sig === 'PL') relocated = true;
  }
  const joined = name.length ? text(concat(name)) : null;
  return {
    mode,
    name: nameFlag || joined,
    target: link.length ? (link.length === 1 && link[0] === '' ? '/' : link.join('/')) : null,
    relocated,
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
