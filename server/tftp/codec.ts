/**
 * Pure TFTP packet codec: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR) and RFC 2347
 * (OACK). No sockets, clocks or files. Request options keep their original
 * spelling and order so a decoded packet re-encodes to the same bytes.
 */
import { MalformedPacket } from './malformed-packet.ts';

/** RFC 1350 section 5 / RFC 2347 opcodes. */
export const Opcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 appendix / RFC 2347 error codes. */
export const ErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  /** RFC 2347: option negotiation refused (also sent by PXE ROMs ending a tsize probe). */
  OPTION_REFUSED: 8,
} as const;

/** One option as it appeared on the wire (name case preserved). */
export type TftpOption = readonly [name: string, value: string];

/** A read or write request (RFC 1350 section 5, options RFC 2347). */
export interface RequestPacket {
  op: 1 | 2;
  filename: string;
  mode: string;
  options: TftpOption[];
}
/** A data block (block numbers are 16-bit and roll over). */
export interface DataPacket {
  op: 3;
  block: number;
  data: Uint8Array;
}
/** An acknowledgement of a block (0 acknowledges an OACK). */
export interface AckPacket {
  op: 4;
  block: number;
}
/** An error packet; ends the transfer. */
export interface ErrorPacket {
  op: 5;
  code: number;
  message: string;
}
/** Option acknowledgement (RFC 2347). */
export interface OackPacket {
  op: 6;
  options: TftpOption[];
}
/** Any TFTP packet. */
export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** RFC 1350: filenames and modes are netascii; we allow any byte but NUL, decoded as latin1 so bytes map 1:1. */
const TEXT = 'latin1';

/** Read a NUL-terminated string; checks the terminator exists before reading. */
function cstring(buf: Uint8Array, off: number, what: string): [string, number] {
  const end = buf.indexOf(0, off);
  if (end < 0) throw new MalformedPacket(off, `${what} is not NUL-terminated`);
  return [Buffer.from(buf.buffer, buf.byteOffset + off, end - off).toString(TEXT), end + 1];
}

/** Decode NUL-terminated name/value pairs up to the end of the datagram (bounded by bytes left). */
function optionList(buf: Uint8Array, off: number): TftpOption[] {
  const out: TftpOption[] = [];
  while (off < buf.length) {
    const [name, a] = cstring(buf, off, 'option name');
    if (name.length === 0) throw new MalformedPacket(off, 'empty option name');
    if (a >= buf.length) throw new MalformedPacket(a, `option "${name}" has no value`);
    const [value, b] = cstring(buf, a, `value of option "${name}"`);
    out.push([name, value]);
    off = b;
  }
  return out;
}

/** Decode one datagram; throws MalformedPacket on anything invalid. */
export function decode(buf: Uint8Array): TftpPacket {
  if (buf.length < 4) throw new MalformedPacket(0, `datagram of ${buf.length} bytes is shorter than any TFTP packet`);
  const op = (buf[0]! << 8) | buf[1]!;
  switch (op) {
    case Opcode.RRQ:
    case Opcode.WRQ: {
      const [filename, a] = cstring(buf, 2, 'filename');
      const [mode, b] = cstring(buf, a, 'mode');
      // RFC 1350 section 5: the mode is "netascii", "octet" or "mail"; an empty one is garbage.
      if (mode.length === 0) throw new MalformedPacket(a, 'empty transfer mode');
      return { op, filename, mode, options: optionList(buf, b) };
    }
    case Opcode.DATA:
      return { op, block: (buf[2]! << 8) | buf[3]!, data: buf.subarray(4) };
    case Opcode.ACK:
      // RFC 1350: an ACK is exactly 4 bytes; trailing bytes mean a broken sender.
      if (buf.length !== 4) throw new MalformedPacket(4, `ACK of ${buf.length} bytes, expected 4`);
      return { op, block: (buf[2]! << 8) | buf[3]! };
    case Opcode.ERROR: {
      // Lenient on purpose: an ERROR ends the transfer whatever its tail looks like. EDK2 (OVMF and
      // most UEFI firmware) pads its ERROR after the NUL (it sizes the packet from a C struct), and
      // dropping that padded ERROR as malformed keeps a dead transfer retransmitting for 30 s.
      const nul = buf.indexOf(0, 4);
      const message = Buffer.from(buf.buffer, buf.byteOffset + 4, (nul < 0 ? buf.length : nul) - 4).toString('latin1');
      return { op, code: (buf[2]! << 8) | buf[3]!, message };
    }
    case Opcode.OACK:
      return { op, options: optionList(buf, 2) };
    default:
      throw new MalformedPacket(0, `unknown opcode ${op}`);
  }
}

const strLen = (s: string) => Buffer.byteLength(s, TEXT) + 1;
const optsLen = (o: readonly TftpOption[]) => o.reduce((n, [k, v]) => n + strLen(k) + strLen(v), 0);

/** Bytes `encode(p)` will produce. */
export function encodedLength(p: TftpPacket): number {
  switch (p.op) {
    case 1:
    case 2:
      return 2 + strLen(p.filename) + strLen(p.mode) + optsLen(p.options);
    case 3:
      return 4 + p.data.length;
    case 4:
      return 4;
    case 5:
      return 4 + strLen(p.message);
    case 6:
      return 2 + optsLen(p.options);
  }
}

function putStr(out: Buffer, off: number, s: string): number {
  off += out.write(s, off, TEXT);
  out[off] = 0;
  return off + 1;
}

/** Encode a packet to a fresh buffer. */
export function encode(p: TftpPacket): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(p));
  out.writeUInt16BE(p.op, 0);
  let off = 2;
  switch (p.op) {
    case 1:
    case 2:
      off = putStr(out, off, p.filename);
      off = putStr(out, off, p.mode);
      for (const [k, v] of p.options) off = putStr(out, putStr(out, off, k), v);
      break;
    case 3:
      out.writeUInt16BE(p.block & 0xffff, 2);
      out.set(p.data, 4);
      break;
    case 4:
      out.writeUInt16BE(p.block & 0xffff, 2);
      break;
    case 5:
      out.writeUInt16BE(p.code & 0xffff, 2);
      putStr(out, 4, p.message);
      break;
    case 6:
      for (const [k, v] of p.options) off = putStr(out, putStr(out, off, k), v);
      break;
  }
  return out;
}

/** Encode a DATA packet header + payload without an intermediate object (hot path). */
export function encodeData(block: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out[0] = 0;
  out[1] = Opcode.DATA;
  out[2] = (block >>> 8) & 0xff;
  out[3] = block & 0xff;
  out.set(payload, 4);
  return out;
}
