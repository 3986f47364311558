/**
 * The typed view of DHCP options (RFC 2132, RFC 3396, RFC 4578, PXE 2.1,
 * RFC 3046, RFC 3004, RFC 3397, RFC 3442) and the option encoders replies use.
 * Pure functions; every decode failure is a MalformedPacket.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { parseOptionList, type DhcpPacket, type DhcpOption } from './codec.ts';

/** Option codes used by Crashcart. */
export const OPT = {
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE: 57,
  RENEWAL_T1: 58,
  REBINDING_T2: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER: 66,
  BOOTFILE: 67,
  USER_CLASS: 77,
  RELAY_AGENT: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_GUID: 97,
  DOMAIN_SEARCH: 119,
  CLASSLESS_ROUTES: 121,
  IPXE_ENCAP: 175,
} as const;

/** RFC 2132 9.6 message types. */
export const MSG = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;
/** Message type names for events and logs. */
export const MSG_NAME: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
};

/** PXE 2.1 option 43 sub-option 6: discovery control. */
export const PXE_DISCOVERY_CONTROL = 6;
/** Discovery control bit 3: "boot the file in the DHCP offer, skip boot-server discovery". */
export const PXE_SKIP_DISCOVERY = 8;
/** iPXE encapsulated option 176 (no-pxedhcp): do not wait for ProxyDHCP offers. */
export const IPXE_NO_PXEDHCP = 176;

const PROTO = 'dhcp';

/**
 * All options of a message keyed by code, with option overload (52) applied
 * and repeated codes concatenated (RFC 2131 4.1 order: options, file, sname;
 * RFC 3396 concatenation). Throws MalformedPacket.
 */
export function collectOptions(pkt: DhcpPacket): Map<number, Uint8Array> {
  const parts = new Map<number, Uint8Array[]>();
  const add = (list: DhcpOption[]) => {
    for (const o of list) {
      if (o.code === 0) continue;
      const l = parts.get(o.code);
      if (l) l.push(o.data);
      else parts.set(o.code, [o.data]);
    }
  };
  add(pkt.options);
  const ov = parts.get(OPT.OVERLOAD);
  if (ov) {
    const v = ov[0];
    if (ov.length !== 1 || !v || v.length !== 1 || (v[0] as number) < 1 || (v[0] as number) > 3)
      throw new MalformedPacket(PROTO, 240, 'option 52 (overload) must be one byte 1, 2 or 3');
    const flag = v[0] as number;
    // Offsets reported relative to the message start: file at 108, sname at 44.
    if (flag & 1) add(parseOptionList(pkt.file, 0, pkt.file.length).options);
    if (flag & 2) add(parseOptionList(pkt.sname, 0, pkt.sname.length).options);
  }
  const out = new Map<number, Uint8Array>();
  for (const [code, list] of parts) out.set(code, list.length === 1 ? (list[0] as Uint8Array) : Buffer.concat(list));
  return out;
}

/** Option 53, or null when absent (plain BOOTP). */
export function messageType(opts: Map<number, Uint8Array>): number | null {
  const v = opts.get(OPT.MESSAGE_TYPE);
  if (!v) return null;
  if (v.length !== 1 || (v[0] as number) < 1 || (v[0] as number) > 8)
    throw new MalformedPacket(PROTO, 240, 'option 53 must be one byte 1..8');
  return v[0] as number;
}

/** An option holding exactly one IPv4 address (50, 54, 1, 28), or null. */
export function ipOption(opts: Map<number, Uint8Array>, code: number): string | null {
  const v = opts.get(code);
  if (!v) return null;
  if (v.length !== 4) throw new MalformedPacket(PROTO, 240, `option ${code} must be 4 bytes, got ${v.length}`);
  return `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
}

/** An option holding a list of IPv4 addresses (3, 6), or null. */
export function ipListOption(opts: Map<number, Uint8Array>, code: number): string[] | null {
  const v = opts.get(code);
  if (!v) return null;
  if (v.length === 0 || v.length % 4 !== 0) throw new MalformedPacket(PROTO, 240, `option ${code} must be a non-empty multiple of 4 bytes`);
  const out: string[] = [];
  for (let i = 0; i + 3 < v.length; i += 4) out.push(`${v[i]}.${v[i + 1]}.${v[i + 2]}.${v[i + 3]}`);
  return out;
}

/** An unsigned 32-bit option (51, 58, 59), or null. */
export function u32Option(opts: Map<number, Uint8Array>, code: number): number | null {
  const v = opts.get(code);
  if (!v) return null;
  if (v.length !== 4) throw new MalformedPacket(PROTO, 240, `option ${code} must be 4 bytes`);
  return Buffer.from(v).readUInt32BE(0);
}

/** Option 57 (max DHCP message size; RFC 2132 9.10: at least 576). */
export function maxMessageSize(opts: Map<number, Uint8Array>): number | null {
  const v = opts.get(OPT.MAX_MESSAGE);
  if (!v) return null;
  if (v.length !== 2) throw new MalformedPacket(PROTO, 240, 'option 57 must be 2 bytes');
  return Buffer.from(v).readUInt16BE(0);
}

/** A text option (12, 15, 60, 66, 67) decoded as latin1, trailing NULs cut. */
export function textOption(opts: Map<number, Uint8Array>, code: number): string | null {
  const v = opts.get(code);
  if (!v) return null;
  let n = v.length;
  while (n > 0 && v[n - 1] === 0) n--;
  return Buffer.from(v.subarray(0, n)).toString('latin1');
}

/**
 * Option 77. RFC 3004 says a list of length-prefixed classes, but iPXE and
 * most firmware send one bare string: take the RFC form only when it parses exactly.
 */
export function userClasses(opts: Map<number, Uint8Array>): string[] | null {
  const v = opts.get(OPT.USER_CLASS);
  if (!v || v.length === 0) return null;
  const list: string[] = [];
  let o = 0;
  while (o < v.length) {
    const len = v[o] as number;
    if (len === 0 || o + 1 + len > v.length) return [Buffer.from(v).toString('latin1')];
    list.push(Buffer.from(v.subarray(o + 1, o + 1 + len)).toString('latin1'));
    o += 1 + len;
  }
  return list;
}

/** Option 93 (RFC 4578 2.1): list of uint16 architecture types. */
export function clientArch(opts: Map<number, Uint8Array>): number[] | null {
  const v = opts.get(OPT.CLIENT_ARCH);
  if (!v) return null;
  if (v.length === 0 || v.length % 2 !== 0)
    throw new MalformedPacket(PROTO, 240, `option 93 must be a non-empty even length, got ${v.length}`);
  const out: number[] = [];
  for (let i = 0; i + 1 < v.length; i += 2) out.push(((v[i] as number) << 8) | (v[i + 1] as number));
  return out;
}

/** Option 94 (RFC 4578 2.2): network interface identifier, type 1 = UNDI. */
export function clientNdi(opts: Map<number, Uint8Array>): { type: number; major: number; minor: number } | null {
  const v = opts.get(OPT.CLIENT_NDI);
  if (!v) return null;
  if (v.length !== 3) throw new MalformedPacket(PROTO, 240, 'option 94 must be 3 bytes');
  return { type: v[0] as number, major: v[1] as number, minor: v[2] as number };
}

/**
 * Option 97 (RFC 4578 2.3): type 0 + 16-byte GUID, the first three fields
 * little-endian (SMBIOS). ROMs send garbage too: null then, and the raw bytes are still echoed.
 */
export function clientGuid(opts: Map<number, Uint8Array>): string | null {
  const v = opts.get(OPT.CLIENT_GUID);
  if (!v || v.length !== 17 || v[0] !== 0) return null;
  const g = v.subarray(1);
  const h = (i: number) => (g[i] as number).toString(16).padStart(2, '0');
  const order = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];
  return order.map((i) => (i < 0 ? '-' : h(i))).join('');
}

/** A TLV sub-option list (43, 82, 175), pads and end allowed. */
export function subOptions(data: Uint8Array, code: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  try {
    for (const o of parseOptionList(data, 0, data.length).options) if (o.code !== 0) out.set(o.code, o.data);
  } catch (e) {
    if (e instanceof MalformedPacket) throw new MalformedPacket(PROTO, 240 + e.offset, `option ${code}: ${e.reason}`);
    throw e;
  }
  return out;
}

/** Encode sub-options as TLV (43, 175, 82). */
export function encodeSubOptions(subs: [number, Uint8Array][]): Uint8Array {
  return Buffer.concat(subs.map(([c, d]) => Buffer.concat([Buffer.from([c, d.length]), d])));
}

/** Encode one IPv4 address. */
export function ipBytes(ip: string): Uint8Array {
  const p = ip.split('.');
  return Uint8Array.from([0, 1, 2, 3].map((i) => Number(p[i] ?? 0) & 255));
}

/** Encode an unsigned 32-bit value. */
export function u32Bytes(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Encode text as latin1. */
export function textBytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** Option 119 (RFC 3397): domain search list in DNS wire format (no compression). */
export function domainSearchBytes(domains: string[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const d of domains) {
    for (const label of d.split('.').filter((l) => l.length > 0)) {
      const b = Buffer.from(label.slice(0, 63), 'ascii');
      parts.push(Buffer.from([b.length]), b);
    }
    parts.push(Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

/** Option 121 (RFC 3442): classless static routes as destination/prefix via router. */
export function classlessRoutesBytes(routes: { dest: string; prefix: number; router: string }[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const r of routes) {
    const sig = Math.ceil(r.prefix / 8);
    parts.push(Buffer.from([r.prefix]), Buffer.from(ipBytes(r.dest).subarray(0, sig)), Buffer.from(ipBytes(r.router)));
  }
  return Buffer.concat(parts);
}

/** Decode option 121 (RFC 3442 3), or null when absent. */
export function classlessRoutes(opts: Map<number, Uint8Array>): { dest: string; prefix: number; router: string }[] | null {
  const v = opts.get(OPT.CLASSLESS_ROUTES);
  if (!v) return null;
  const out: { dest: string; prefix: number; router: string }[] = [];
  let o = 0;
  while (o < v.length) {
    const prefix = v[o] as number;
    if (prefix > 32) throw new MalformedPacket(PROTO, 240, `option 121 prefix ${prefix} > 32`);
    const sig = Math.ceil(prefix / 8);
    if (o + 1 + sig + 4 > v.length) throw new MalformedPacket(PROTO, 240, 'option 121 route runs past the option');
    const d = [0, 0, 0, 0];
    for (let i = 0; i < sig; i++) d[i] = v[o + 1 + i] as number;
    const r = v.subarray(o + 1 + sig, o + 5 + sig);
    out.push({ dest: d.join('.'), prefix, router: `${r[0]}.${r[1]}.${r[2]}.${r[3]}` });
    o += 5 + sig;
  }
  return out;
}
