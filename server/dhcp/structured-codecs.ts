/**
 * Option value codecs with inner structure: sub-option lists (43, 82, 175),
 * user classes (77, RFC 3004), the client GUID (97, RFC 4578 2.3), the UNDI
 * identifier (94), classless routes (121, RFC 3442) and domain search lists
 * (119, RFC 3397). Pure; loops bounded by bytes left.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { ipToInt } from '../net/ipv4.ts';
import { parseOptionList } from './codec.ts';
import { ipv4, type ValueCodec } from './value-codecs.ts';

const bad = (offset: number, reason: string) => new MalformedPacket('dhcp', offset, reason);

/** A sub-option list in wire order (pads dropped, END stops it). */
export type SubOptions = [number, Uint8Array][];

/** TLV sub-options (PXE 2.1 option 43, RFC 3046 option 82, iPXE's 175). */
export const tlv: ValueCodec<SubOptions> = {
  type: 'tlv',
  decode(d) {
    return parseOptionList(d, 0, d.length)
      .options.filter((o) => o.code !== 0)
      .map((o) => [o.code, o.data] as [number, Uint8Array]);
  },
  encode(v) {
    return new Uint8Array(Buffer.concat(v.map(([c, d]) => Buffer.concat([Buffer.from([c, d.length]), d]))));
  },
  format: (v) => v.map(([c, d]) => `${c}=${Buffer.from(d).toString('hex')}`).join(' '),
};

/**
 * Option 77. RFC 3004 says a list of length-prefixed classes, but iPXE and
 * most firmware send one bare string: take the RFC form only when it parses
 * exactly, else the whole option is one class. Never throws.
 */
export const userClass: ValueCodec<string[]> = {
  type: 'user-class',
  decode(d) {
    const list: string[] = [];
    let o = 0;
    while (o < d.length) {
      const len = d[o] as number;
      if (len === 0 || o + 1 + len > d.length) return [Buffer.from(d).toString('latin1')];
      list.push(Buffer.from(d.subarray(o + 1, o + 1 + len)).toString('latin1'));
      o += 1 + len;
    }
    return list;
  },
  encode: (v) => new Uint8Array(Buffer.concat(v.map((c) => Buffer.concat([Buffer.from([c.length]), Buffer.from(c, 'latin1')])))),
  format: (v) => v.map((c) => JSON.stringify(c)).join(','),
};

/** GUID field order: the first three fields are little-endian (SMBIOS), -1 marks a dash. */
const GUID_ORDER = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];

/**
 * Option 97 (RFC 4578 2.3): type 0 + 16-byte GUID. ROMs send garbage too:
 * that decodes to null (never throws) and the raw bytes are still echoed.
 */
export const clientGuid: ValueCodec<string | null> = {
  type: 'guid',
  decode(d) {
    if (d.length !== 17 || d[0] !== 0) return null;
    const g = d.subarray(1);
    return GUID_ORDER.map((i) => (i < 0 ? '-' : (g[i] as number).toString(16).padStart(2, '0'))).join('');
  },
  encode(v) {
    const hexDigits = (v ?? '').replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hexDigits)) throw new RangeError(`"${String(v)}" is not a GUID`);
    const out = new Uint8Array(17);
    const bytes = Buffer.from(hexDigits, 'hex');
    GUID_ORDER.filter((i) => i >= 0).forEach((i, k) => (out[1 + i] = bytes[k] as number));
    return out;
  },
  format: (v) => v ?? '(not a type-0 GUID)',
};

/** Option 94 (RFC 4578 2.2): network interface identifier, type 1 = UNDI. */
export const clientNdi: ValueCodec<{ type: number; major: number; minor: number }> = {
  type: 'ndi',
  decode(d) {
    if (d.length !== 3) throw bad(0, `must be 3 bytes, got ${d.length}`);
    return { type: d[0] as number, major: d[1] as number, minor: d[2] as number };
  },
  encode: (v) => Uint8Array.of(v.type, v.major, v.minor),
  format: (v) => `type ${v.type} v${v.major}.${v.minor}`,
};

/** One classless static route. */
export interface Route {
  dest: string;
  prefix: number;
  router: string;
}

/** Option 121 (RFC 3442): destination (significant octets only) / prefix via router. */
export const classlessRoutes: ValueCodec<Route[]> = {
  type: 'routes',
  decode(v) {
    const out: Route[] = [];
    let o = 0;
    while (o < v.length) {
      const prefix = v[o] as number;
      if (prefix > 32) throw bad(o, `prefix ${prefix} > 32`);
      const sig = Math.ceil(prefix / 8);
      if (o + 1 + sig + 4 > v.length) throw bad(o, 'route runs past the option');
      const d = [0, 0, 0, 0];
      for (let i = 0; i < sig; i++) d[i] = v[o + 1 + i] as number;
      out.push({ dest: d.join('.'), prefix, router: ipv4.decode(v.subarray(o + 1 + sig, o + 5 + sig)) });
      o += 5 + sig;
    }
    return out;
  },
  encode(routes) {
    const parts: Buffer[] = [];
    for (const r of routes) {
      const sig = Math.ceil(r.prefix / 8);
      parts.push(Buffer.from([r.prefix]), Buffer.from(ipv4.encode(r.dest).subarray(0, sig)), Buffer.from(ipv4.encode(r.router)));
    }
    return new Uint8Array(Buffer.concat(parts));
  },
  format: (v) => v.map((r) => `${r.dest}/${r.prefix}@${r.router}`).join(','),
  parse(s) {
    return s.split(',').map((item) => {
      const m = /^\s*([\d.]+)\/(\d{1,2})@([\d.]+)\s*$/.exec(item);
      if (!m || ipToInt(m[1]!) === null || ipToInt(m[3]!) === null || Number(m[2]) > 32)
        throw new Error(`"${item}" is not DEST/PREFIX@ROUTER like 10.0.0.0/8@10.9.0.254`);
      return { dest: m[1]!, prefix: Number(m[2]), router: m[3]! };
    });
  },
};

/** DNS labels of a name (RFC 1035 2.3.1), for the search list. */
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Option 119 (RFC 3397): domain search list in DNS wire format. Compression
 * pointers (RFC 1035 4.1.4) may only refer to earlier names; each followed pointer
 * must land before the last one's target, so a hostile loop ends.
 */
export const domainSearch: ValueCodec<string[]> = {
  type: 'domains',
  decode(d) {
    const names: string[] = [];
    let o = 0;
    while (o < d.length) {
      const labels: string[] = [];
      let p = o;
      let floor = o; // every pointer must land before this; it moves down with each jump
      let next = -1; // where the next name starts once a pointer was followed
      for (;;) {
        if (p >= d.length) throw bad(p, 'name runs past the option');
        const len = d[p] as number;
        if (len === 0) {
          if (next < 0) next = p + 1;
          break;
        }
        if ((len & 0xc0) === 0xc0) {
          if (p + 1 >= d.length) throw bad(p, 'pointer runs past the option');
          const target = ((len & 0x3f) << 8) | (d[p + 1] as number);
          if (target >= floor) throw bad(p, 'compression pointer does not point to an earlier name');
          if (next < 0) next = p + 2;
          p = floor = target;
          continue;
        }
        if (len > 63) throw bad(p, `label length ${len} > 63`);
        if (p + 1 + len > d.length) throw bad(p, 'label runs past the option');
        labels.push(Buffer.from(d.subarray(p + 1, p + 1 + len)).toString('latin1'));
        p += 1 + len;
      }
      names.push(labels.join('.'));
      o = next;
    }
    return names;
  },
  encode(domains) {
    const parts: Buffer[] = [];
    for (const dn of domains) {
      for (const label of dn.split('.').filter((l) => l.length > 0)) {
        const b = Buffer.from(label.slice(0, 63), 'ascii');
        parts.push(Buffer.from([b.length]), b);
      }
      parts.push(Buffer.from([0]));
    }
    return new Uint8Array(Buffer.concat(parts));
  },
  format: (v) => v.join(','),
  parse(s) {
    return s.split(',').map((dn) => {
      const t = dn.trim().replace(/\.$/, '');
      if (!t || !t.split('.').every((l) => LABEL.test(l))) throw new Error(`"${dn}" is not a domain name`);
      return t;
    });
  },
};
