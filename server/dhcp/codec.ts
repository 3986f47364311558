/**
 * DHCPv4 / BOOTP wire codec (RFC 951, RFC 2131 section 2, RFC 2132 section 2-3).
 * Pure: bytes in, a typed value out and back. The decoded value keeps every
 * byte (pads, trailing padding, raw sname/file) so captured packets re-encode
 * to the same bytes; `options.ts` gives the typed view.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { ipToInt } from '../net/ipv4.ts';

/** RFC 2131 2: the fixed BOOTP header is 236 bytes, then the magic cookie. */
export const HEADER_LEN = 236;
/** RFC 2131 3: 99.130.83.99 starts the options field. */
export const MAGIC_COOKIE = 0x63825363;
/** RFC 1542 2.1 / BOOTP: some ROMs drop replies shorter than a BOOTP message (300 bytes). */
export const MIN_REPLY_LEN = 300;
/** RFC 2131 2: every client accepts 576-byte IP datagrams, i.e. 548 bytes of DHCP. */
export const DEFAULT_MAX_MESSAGE = 548;

/** Option codes with special wire meaning (RFC 2132 3.1, 3.2). */
export const OPT_PAD = 0;
/** End of options. */
export const OPT_END = 255;

/** One option as it was on the wire; code 0 (pad) has empty data. */
export interface DhcpOption {
  code: number;
  data: Uint8Array;
}

/** A decoded BOOTP/DHCP message, byte-exact. */
export interface DhcpPacket {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** 16 raw bytes; the MAC is the first `hlen` of them. */
  chaddr: Uint8Array;
  /** 64 raw bytes (a C string, or options when overloaded). */
  sname: Uint8Array;
  /** 128 raw bytes (a C string, or options when overloaded). */
  file: Uint8Array;
  /** False for plain BOOTP without the magic cookie: then `options` is empty. */
  cookie: boolean;
  /** The options field in wire order, pads included. */
  options: DhcpOption[];
  /** Whether an END option closed the options field. */
  end: boolean;
  /** Bytes after END (usually zero padding), or the vend area of cookie-less BOOTP. */
  trailer: Uint8Array;
}

const PROTO = 'dhcp';

/**
 * `decode` copies the datagram once and hands out views into that copy: the fields never alias the
 * caller's (socket's) buffer, and a packet costs one allocation instead of one per field and option
 * (typed arrays each had their own backing store: a fifth of a DHCP exchange went to allocating and
 * collecting them). The copy comes from Node's buffer pool, as `encode`'s output does.
 */
function own(b: Uint8Array): Uint8Array {
  const slab = Buffer.allocUnsafe(b.length);
  const c = new Uint8Array(slab.buffer, slab.byteOffset, b.length);
  c.set(b);
  return c;
}

function ipAt(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Write an IPv4 dotted quad as 4 bytes at `o` (not a dotted quad: 0.0.0.0). */
function putIp(b: Uint8Array, o: number, ip: string): void {
  const n = ipToInt(ip) ?? 0;
  b[o] = n >>> 24;
  b[o + 1] = (n >>> 16) & 255;
  b[o + 2] = (n >>> 8) & 255;
  b[o + 3] = n & 255;
}

/**
 * Parse a TLV option list (RFC 2132 2) from `buf[start, end)`.
 * Loops are bounded by bytes left; lengths are checked before reading.
 */
export function parseOptionList(
  buf: Uint8Array,
  start: number,
  end: number,
  protocol = PROTO,
): { options: DhcpOption[]; endAt: number | null } {
  const options: DhcpOption[] = [];
  let o = start;
  while (o < end) {
    const code = buf[o] as number;
    if (code === OPT_PAD) {
      options.push({ code, data: new Uint8Array(0) });
      o++;
      continue;
    }
    if (code === OPT_END) return { options, endAt: o };
    if (o + 1 >= end) throw new MalformedPacket(protocol, o, `option ${code} has no length byte`);
    const len = buf[o + 1] as number;
    if (o + 2 + len > end)
      throw new MalformedPacket(protocol, o, `option ${code} length ${len} runs past the end (${end - o - 2} bytes left)`);
    options.push({ code, data: buf.subarray(o + 2, o + 2 + len) });
    o += 2 + len;
  }
  return { options, endAt: null };
}

/** Decode one UDP payload as a BOOTP/DHCP message (fields are views into one private copy). Throws only MalformedPacket. */
export function decode(input: Uint8Array): DhcpPacket {
  if (input.length < HEADER_LEN)
    throw new MalformedPacket(PROTO, input.length, `message is ${input.length} bytes, the BOOTP header needs ${HEADER_LEN}`);
  const buf = own(input);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const op = buf[0] as number;
  if (op !== 1 && op !== 2) throw new MalformedPacket(PROTO, 0, `op ${op} is neither BOOTREQUEST (1) nor BOOTREPLY (2)`);
  const hlen = buf[2] as number;
  if (hlen > 16) throw new MalformedPacket(PROTO, 2, `hlen ${hlen} exceeds the 16-byte chaddr field`);
  const pkt: DhcpPacket = {
    op,
    htype: buf[1] as number,
    hlen,
    hops: buf[3] as number,
    xid: dv.getUint32(4),
    secs: dv.getUint16(8),
    flags: dv.getUint16(10),
    ciaddr: ipAt(buf, 12),
    yiaddr: ipAt(buf, 16),
    siaddr: ipAt(buf, 20),
    giaddr: ipAt(buf, 24),
    chaddr: buf.subarray(28, 44),
    sname: buf.subarray(44, 108),
    file: buf.subarray(108, 236),
    cookie: false,
    options: [],
    end: false,
    trailer: new Uint8Array(0),
  };
  if (buf.length >= HEADER_LEN + 4 && dv.getUint32(HEADER_LEN) === MAGIC_COOKIE) {
    pkt.cookie = true;
    const { options, endAt } = parseOptionList(buf, HEADER_LEN + 4, buf.length);
    pkt.options = options;
    pkt.end = endAt !== null;
    pkt.trailer = endAt !== null ? buf.subarray(endAt + 1) : new Uint8Array(0);
  } else {
    pkt.trailer = buf.subarray(HEADER_LEN);
  }
  return pkt;
}

/** Bytes `encode(pkt)` will produce. */
export function encodedLength(pkt: DhcpPacket): number {
  let n = HEADER_LEN + pkt.trailer.length;
  if (!pkt.cookie) return n;
  n += 4 + (pkt.end ? 1 : 0);
  for (const opt of pkt.options) n += opt.code === OPT_PAD ? 1 : 2 + opt.data.length;
  return n;
}

/** Encode a message; the exact inverse of `decode`. Option data over 255 bytes is a programming error. */
export function encode(pkt: DhcpPacket): Uint8Array {
  // From Node's buffer pool (one slab for many replies, not a backing store each); every byte is written below.
  const slab = Buffer.allocUnsafe(encodedLength(pkt));
  const out = new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = pkt.op;
  out[1] = pkt.htype;
  out[2] = pkt.hlen;
  out[3] = pkt.hops;
  dv.setUint32(4, pkt.xid >>> 0);
  dv.setUint16(8, pkt.secs & 0xffff);
  dv.setUint16(10, pkt.flags & 0xffff);
  putIp(out, 12, pkt.ciaddr);
  putIp(out, 16, pkt.yiaddr);
  putIp(out, 20, pkt.siaddr);
  putIp(out, 24, pkt.giaddr);
  out.fill(0, 28, HEADER_LEN); // chaddr/sname/file shorter than their fields are zero-padded
  out.set(pkt.chaddr.subarray(0, 16), 28);
  out.set(pkt.sname.subarray(0, 64), 44);
  out.set(pkt.file.subarray(0, 128), 108);
  let o = HEADER_LEN;
  if (pkt.cookie) {
    dv.setUint32(o, MAGIC_COOKIE);
    o += 4;
    for (const opt of pkt.options) {
      out[o++] = opt.code;
      if (opt.code === OPT_PAD) continue;
      if (opt.data.length > 255) throw new RangeError(`option ${opt.code} data is ${opt.data.length} bytes; split it (RFC 3396)`);
      out[o++] = opt.data.length;
      out.set(opt.data, o);
      o += opt.data.length;
    }
    if (pkt.end) out[o++] = OPT_END;
  }
  out.set(pkt.trailer, o);
  return out;
}

/** Read a NUL-terminated string out of a fixed field (sname/file). */
export function cString(field: Uint8Array): string {
  const z = field.indexOf(0);
  return Buffer.from(field.subarray(0, z === -1 ? field.length : z)).toString('latin1');
}

/** A fixed-size, NUL-padded field holding `s` (truncated to leave one NUL). */
export function fixedField(s: string, size: number): Uint8Array {
  const f = new Uint8Array(size);
  const b = Buffer.from(s, 'latin1');
  f.set(b.subarray(0, size - 1));
  return f;
}

/** Two lowercase hex digits per byte value (macOf runs for every datagram). */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** The char code of each lowercase hex digit. */
const HEX_CODE = Array.from({ length: 16 }, (_, n) => n.toString(16).charCodeAt(0));
const COLON = 0x3a;
const hi = (b: number) => HEX_CODE[b >> 4]!;
const lo = (b: number) => HEX_CODE[b & 15]!;

/**
 * The hardware address as lowercase `aa:bb:..`, from the first `hlen` bytes of chaddr. An Ethernet MAC (hlen 6,
 * every PXE client) is made in one allocation: joined with `+`, V8 builds a tree of string pieces, and the MAC a
 * lease keeps (its table key and document fields) held that tree as well as the flat copy a Map lookup makes of it,
 * about 100 bytes more per lease for the young generation to copy on its way to the old one (docs/perf/changes.md).
 */
export function macOf(pkt: DhcpPacket): string {
  const c = pkt.chaddr;
  if (pkt.hlen === 6) {
    const a = c[0] ?? 0;
    const b = c[1] ?? 0;
    const d = c[2] ?? 0;
    const e = c[3] ?? 0;
    const f = c[4] ?? 0;
    const g = c[5] ?? 0;
    // prettier-ignore
    return String.fromCharCode(
      hi(a), lo(a), COLON, hi(b), lo(b), COLON, hi(d), lo(d), COLON, hi(e), lo(e), COLON, hi(f), lo(f), COLON, hi(g), lo(g),
    );
  }
  let s = '';
  for (let i = 0; i < pkt.hlen; i++) s += (i === 0 ? '' : ':') + HEX_BYTE[c[i] ?? 0]!;
  return s;
}
