/**
 * Typed building blocks for DHCP option values (RFC 2132 2: every option is
 * code, length, data). Each codec turns option data into a typed value and back,
 * prints it for golden dumps and, where an operator may set it, parses its text
 * form (`--dhcp-option 42=ips:10.0.0.1`). Pure: no socket, clock, file or logger.
 * Decode failures are MalformedPacket at offset 0 of the option data; the option
 * reader (options.ts) re-throws them with the option's code and name.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { ipToInt } from '../net/ipv4.ts';

/** One option value type. */
export interface ValueCodec<T> {
  /** Type name used in `--dhcp-option CODE=TYPE:VALUE` and in golden dumps. */
  readonly type: string;
  decode(data: Uint8Array): T;
  encode(v: T): Uint8Array;
  /** Human-readable form for dumps and events. */
  format(v: T): string;
  /** Parse the operator's text form; throws Error naming what is wrong. Absent: not settable by an operator. */
  parse?(text: string): T;
}

const bad = (reason: string) => new MalformedPacket('dhcp', 0, reason);
const quad = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

function parseIp(s: string): string {
  const t = s.trim();
  if (ipToInt(t) === null) throw new Error(`"${t}" is not an IPv4 address`);
  return t;
}

/** Write a dotted quad at `o`; a hand-rolled scan because every reply encodes several addresses (hot path). */
function putIp(out: Uint8Array, o: number, ip: string): void {
  let idx = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 && digits > 0 && idx < 3) {
      out[o + idx++] = n;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && (n = n * 10 + c - 48) <= 255) {
      digits++;
    } else {
      throw new RangeError(`"${ip}" is not an IPv4 address`);
    }
  }
  if (digits === 0 || idx !== 3) throw new RangeError(`"${ip}" is not an IPv4 address`);
  out[o + 3] = n;
}

function parseUint(s: string, max: number): number {
  const t = s.trim();
  if (!/^\d{1,10}$/.test(t) || Number(t) > max) throw new Error(`"${t}" is not a whole number from 0 to ${max}`);
  return Number(t);
}

function uint(bytes: 1 | 2 | 4): ValueCodec<number> {
  const max = 2 ** (8 * bytes) - 1;
  return {
    type: `u${8 * bytes}`,
    decode(d) {
      if (d.length !== bytes) throw bad(`must be ${bytes} byte${bytes > 1 ? 's' : ''}, got ${d.length}`);
      let n = 0;
      for (const x of d) n = n * 256 + x;
      return n;
    },
    encode(v) {
      const out = new Uint8Array(bytes);
      for (let i = bytes - 1, n = v; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n & 255;
      return out;
    },
    format: (v) => String(v),
    parse: (s) => parseUint(s, max),
  };
}

/** One unsigned byte. */
export const u8 = uint(1);
/** Unsigned 16-bit, network order. */
export const u16 = uint(2);
/** Unsigned 32-bit, network order (lease times, RFC 2132 9.2). */
export const u32 = uint(4);

/** One IPv4 address (options 1, 28, 50, 54). */
export const ipv4: ValueCodec<string> = {
  type: 'ip',
  decode(d) {
    if (d.length !== 4) throw bad(`must be 4 bytes, got ${d.length}`);
    return quad(d, 0);
  },
  encode(v) {
    const out = new Uint8Array(4);
    putIp(out, 0, v);
    return out;
  },
  format: (v) => v,
  parse: parseIp,
};

/** A non-empty list of IPv4 addresses (options 3, 6, 42). */
export const ipv4List: ValueCodec<string[]> = {
  type: 'ips',
  decode(d) {
    if (d.length === 0 || d.length % 4 !== 0) throw bad(`must be a non-empty multiple of 4 bytes, got ${d.length}`);
    const out: string[] = [];
    for (let i = 0; i + 3 < d.length; i += 4) out.push(quad(d, i));
    return out;
  },
  encode(v) {
    const out = new Uint8Array(4 * v.length);
    v.forEach((ip, i) => putIp(out, 4 * i, ip));
    return out;
  },
  format: (v) => v.join(','),
  parse: (s) => s.split(',').map(parseIp),
};

/** A flag byte, 0 or 1 (RFC 2132 2). */
export const bool: ValueCodec<boolean> = {
  type: 'bool',
  decode(d) {
    if (d.length !== 1 || (d[0] as number) > 1) throw bad('must be one byte 0 or 1');
    return d[0] === 1;
  },
  encode: (v) => Uint8Array.of(v ? 1 : 0),
  format: (v) => (v ? 'true' : 'false'),
  parse(s) {
    const t = s.trim().toLowerCase();
    if (['1', 'true', 'on', 'yes'].includes(t)) return true;
    if (['0', 'false', 'off', 'no'].includes(t)) return false;
    throw new Error(`"${s}" is not true/false`);
  },
};

/** NVT ASCII text, latin1 here; trailing NULs cut (RFC 2132 2: no NUL terminator, but some senders add one). */
export const text: ValueCodec<string> = {
  type: 'text',
  decode(d) {
    let n = d.length;
    while (n > 0 && d[n - 1] === 0) n--;
    return Buffer.from(d.subarray(0, n)).toString('latin1');
  },
  encode: (v) => new Uint8Array(Buffer.from(v, 'latin1')),
  format: (v) => JSON.stringify(v),
  parse(s) {
    if (!/^[\x20-\x7e]+$/.test(s)) throw new Error('text must be printable ASCII');
    return s;
  },
};

/** Opaque bytes, written as hex (colons allowed). */
export const hex: ValueCodec<Uint8Array> = {
  type: 'hex',
  decode: (d) => new Uint8Array(d),
  encode: (v) => new Uint8Array(v),
  format: (v) => Buffer.from(v).toString('hex'),
  parse(s) {
    const t = s.replace(/:/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(t)) throw new Error(`"${s}" is not hex bytes like 0a:1b or 0a1b`);
    return new Uint8Array(Buffer.from(t, 'hex'));
  },
};

/** A list of bytes (option 55, the parameter request list). */
export const u8List: ValueCodec<number[]> = {
  type: 'u8s',
  decode: (d) => [...d],
  encode: (v) => Uint8Array.from(v),
  format: (v) => v.join(','),
  parse: (s) => s.split(',').map((x) => parseUint(x, 255)),
};

/** A non-empty list of uint16 (option 93, RFC 4578 2.1). */
export const u16List: ValueCodec<number[]> = {
  type: 'u16s',
  decode(d) {
    if (d.length === 0 || d.length % 2 !== 0) throw bad(`must be a non-empty even length, got ${d.length}`);
    const out: number[] = [];
    for (let i = 0; i + 1 < d.length; i += 2) out.push(((d[i] as number) << 8) | (d[i + 1] as number));
    return out;
  },
  encode(v) {
    const out = new Uint8Array(2 * v.length);
    v.forEach((n, i) => {
      out[2 * i] = (n >>> 8) & 255;
      out[2 * i + 1] = n & 255;
    });
    return out;
  },
  format: (v) => v.join(','),
  parse: (s) => s.split(',').map((x) => parseUint(x, 65535)),
};
