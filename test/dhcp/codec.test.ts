/** The codec against real captured packets (four ways) and against hostile input. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode, encode, encodedLength, macOf } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, readOption, decodeWith, subOptions, OPT, OPTIONS } from '../../server/dhcp/options.ts';
import { OPTION_BY_CODE } from '../../server/dhcp/option-table.ts';
import { classifyClient } from '../../server/dhcp/classify.ts';
import { buildReply } from '../../server/dhcp/reply.ts';
import { MalformedPacket } from '../../server/net/malformed.ts';
import { dhcpFromHex, dhcpFromPcap, fixtureFiles } from './fixture-packets.ts';
import { clientPacket } from './helpers.ts';

const { pcaps, hexes } = fixtureFiles();
const all = [
  ...pcaps.flatMap((f) => dhcpFromPcap(f).map((d) => ({ name: `${f}#${d.index}`, bytes: d.payload }))),
  ...hexes.map((f) => ({ name: f, bytes: dhcpFromHex(f) })),
];

describe('captured packets', () => {
  it('found every fixture', () => {
    expect(pcaps.length).toBeGreaterThanOrEqual(13);
    expect(hexes.length).toBe(7);
    expect(all.length).toBeGreaterThan(60);
  });
  it.each(all)('$name decodes, re-encodes to the same bytes, has the computed length and round-trips', ({ bytes }) => {
    const p = decode(bytes);
    expect(p.cookie).toBe(true);
    expect(encodedLength(p)).toBe(bytes.length);
    expect(Buffer.from(encode(p)).equals(bytes)).toBe(true);
    expect(decode(encode(p))).toEqual(p);
    expect(messageType(collectOptions(p))).toBeGreaterThanOrEqual(1);
  });
});

describe('decoded values of key captures', () => {
  it('SeaBIOS + iPXE ROM: arch 0, PXEClient, user class iPXE, option 175, GUID', () => {
    const d = dhcpFromPcap('qemu-seabios-ipxe-bios-pxe.pcap')[0]!;
    const p = decode(d.payload);
    const o = collectOptions(p);
    expect(messageType(o)).toBe(1);
    expect(readOption(o, OPTIONS.CLIENT_ARCH)).toEqual([0]);
    expect(readOption(o, OPTIONS.USER_CLASS)).toEqual(['iPXE']);
    expect(o.has(OPT.IPXE_ENCAP)).toBe(true);
    const c = classifyClient(o);
    expect(c).toMatchObject({ arch: 0, pxe: true, ipxe: true, ours: true, vendorClass: 'PXEClient:Arch:00000:UNDI:002001' });
    expect(macOf(p)).toMatch(/^52:54:00:/);
  });
  it('OVMF x64: arch 7 PXE, then arch 16 HTTPClient', () => {
    const ds = dhcpFromPcap('qemu-ovmf-x64-uefi-pxe-and-httpboot.pcap').map((d) => classifyClient(collectOptions(decode(d.payload))));
    expect(ds[0]).toMatchObject({ arch: 7, pxe: true, http: false, ipxe: false, ours: false });
    expect(ds.some((c) => c.arch === 16 && c.http && c.vendorClass === 'HTTPClient:Arch:00016:UNDI:003000')).toBe(true);
  });
  it('the lab proxyDHCP capture: the OVMF REQUEST went to port 4011 after a proxy OFFER without option 43', () => {
    const ds = dhcpFromPcap('lab-ovmf-x64-uefi-proxydhcp-4011.pcap');
    const proxyOffer = collectOptions(decode(ds[1]!.payload));
    expect(messageType(proxyOffer)).toBe(2);
    expect(proxyOffer.has(OPT.VENDOR_SPECIFIC)).toBe(false);
    expect(ds.some((d) => d.dstPort === 4011)).toBe(true);
  });
  it('physical UEFI HTTP boot (arch 16) decodes its SMBIOS GUID little-endian', () => {
    const o = collectOptions(decode(dhcpFromHex('x86_64-uefi-httpclient-arch16-discover.hex')));
    expect(readOption(o, OPTIONS.CLIENT_ARCH)).toEqual([16]);
    expect(readOption(o, OPTIONS.CLIENT_GUID)).toBe('03000200-0400-0500-0006-000700080009');
  });
  it('option overload (52) pulls options out of file and sname', () => {
    const p = decode(dhcpFromHex('discover.hex'));
    const o = collectOptions(p);
    expect(o.get(OPT.OVERLOAD)?.[0]).toBe(3);
    expect(Buffer.from(o.get(OPT.MESSAGE)!).toString()).toContain('overload');
    const bb = dhcpFromPcap('busybox-udhcp-option-overload.pcap')[3]!;
    const ob = collectOptions(decode(bb.payload));
    expect(ob.get(OPT.OVERLOAD)?.[0]).toBeGreaterThanOrEqual(1);
    expect(readOption(ob, OPTIONS.SERVER_ID)).not.toBeNull();
  });
  it('relay agent information (82) sub-options decode', () => {
    const o = collectOptions(decode(dhcpFromPcap('relay-agent-subscriber-id.pcap')[0]!.payload));
    const subs = subOptions(o.get(OPT.RELAY_AGENT)!, OPT.RELAY_AGENT);
    expect(subs.size).toBeGreaterThanOrEqual(1);
    expect(readOption(o, OPTIONS.LEASE_TIME)).toBeGreaterThan(0);
  });
  it('RFC 3004 user class list', () => {
    const o = collectOptions(decode(dhcpFromPcap('user-class-rfc3004.pcap')[0]!.payload));
    expect(readOption(o, OPTIONS.USER_CLASS)).toEqual(['subopt1', 'subopt2-123456789', 'subopt3-12']);
  });
});

describe('option encoders', () => {
  it('RFC 3442 routes and RFC 3397 search lists', () => {
    const routes = [
      { dest: '10.0.0.0', prefix: 8, router: '10.9.0.1' },
      { dest: '0.0.0.0', prefix: 0, router: '10.9.0.254' },
      { dest: '192.168.7.0', prefix: 24, router: '10.9.0.2' },
    ];
    const b = OPTIONS.CLASSLESS_ROUTES.codec.encode(routes);
    expect(readOption(new Map([[121, b]]), OPTIONS.CLASSLESS_ROUTES)).toEqual(routes);
    expect(Buffer.from(OPTIONS.DOMAIN_SEARCH.codec.encode(['lab.example'])).toString('hex')).toBe('036c6162076578616d706c6500');
  });
  it('replies are at least 300 bytes and overflow into sname past the max message size', () => {
    const req = decode(clientPacket({ mac: '52:54:00:00:00:02', options: [[53, [1]]] }));
    const small = buildReply(req, { yiaddr: '10.9.0.5', siaddr: '0.0.0.0', file: '', options: [[53, Uint8Array.of(2)]] }, null, null);
    expect(small.length).toBe(300);
    const big: [number, Uint8Array][] = [
      [53, Uint8Array.of(2)],
      [54, Uint8Array.of(10, 9, 0, 1)],
    ];
    for (let i = 0; i < 9; i++) big.push([200 + i, new Uint8Array(30)]);
    big.push([210, new Uint8Array(20)]);
    const out = decode(buildReply(req, { yiaddr: '10.9.0.5', siaddr: '0.0.0.0', file: '', options: big }, null, 576));
    expect(encodedLength(out)).toBeLessThanOrEqual(548);
    const o = collectOptions(out);
    expect(o.get(OPT.OVERLOAD)?.[0]).toBe(2);
    expect(o.get(210)?.length).toBe(20);
  });
  it('an echoed client identifier (61) stays in the options area when the rest overflows into sname', () => {
    const req = decode(clientPacket({ mac: '52:54:00:00:00:03', options: [[53, [1]]] }));
    const cid = Uint8Array.from({ length: 250 }, (_, i) => i);
    const opts: [number, Uint8Array][] = [
      [53, Uint8Array.of(2)],
      [54, Uint8Array.of(10, 9, 0, 1)],
      [1, Uint8Array.of(255, 255, 255, 0)],
      [3, Uint8Array.of(10, 9, 0, 1)],
      [6, Uint8Array.of(10, 9, 0, 1)],
      [51, Uint8Array.of(0, 0, 14, 16)],
      [220, new Uint8Array(40)],
    ];
    const out = decode(buildReply(req, { yiaddr: '10.9.0.5', siaddr: '0.0.0.0', file: '', options: opts }, null, 576, cid));
    expect(encodedLength(out)).toBeLessThanOrEqual(548);
    expect(out.options.slice(0, 3).map((o) => o.code)).toEqual([53, 54, 61]);
    expect(out.options[2]!.data).toEqual(cid);
    expect(collectOptions(out).get(OPT.OVERLOAD)?.[0]).toBe(2);
  });
});

/** Decode and read every typed option; only MalformedPacket may escape. */
export function decodeEverything(b: Uint8Array): void {
  const p = decode(b);
  const o = collectOptions(p);
  messageType(o);
  classifyClient(o);
  // Every option the table knows, through its own codec.
  for (const [code, data] of o) {
    const row = OPTION_BY_CODE.get(code);
    if (row) decodeWith(row, data);
  }
}

describe('hostile input', () => {
  const onlyTyped = (b: Uint8Array) => {
    try {
      decodeEverything(b);
    } catch (e) {
      if (!(e instanceof MalformedPacket)) throw e;
      expect(e.protocol).toBe('dhcp');
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.reason.length).toBeGreaterThan(0);
    }
  };
  it('random bytes: nothing but MalformedPacket escapes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 700 }), (b) => onlyTyped(b)),
      { numRuns: 5000, seed: 3 },
    );
  });
  it('mutated real packets (byte flips, truncation, cookie kept): nothing but MalformedPacket escapes', () => {
    const seeds = all.map((a) => a.bytes);
    const arb = fc.record({
      i: fc.nat(seeds.length - 1),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat()),
    });
    let malformed = 0;
    fc.assert(
      fc.property(arb, ({ i, flips, cut }) => {
        const b = Buffer.from(seeds[i]!);
        for (const [pos, v] of flips) b[240 + (pos % Math.max(1, b.length - 240))] = v;
        const m = cut === null ? b : b.subarray(0, cut % (b.length + 1));
        try {
          decodeEverything(m);
        } catch (e) {
          if (!(e instanceof MalformedPacket)) throw e;
          malformed++;
        }
      }),
      { numRuns: 15000, seed: 7 },
    );
    // The mutations do hit the error paths (a fuzz that never fails decoding tests nothing).
    expect(malformed).toBeGreaterThan(1000);
  });
  it('names protocol, offset and reason', () => {
    const b = Buffer.from(all[0]!.bytes);
    b[241] = 200; // a huge length right after the cookie's first option code
    const e = (() => {
      try {
        decode(b.subarray(0, 250));
      } catch (x) {
        return x;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(MalformedPacket);
    expect((e as MalformedPacket).offset).toBe(240);
    expect((e as MalformedPacket).reason).toMatch(/runs past the end/);
    expect(() => decode(new Uint8Array(100))).toThrow(MalformedPacket);
  });
});

describe('macOf', () => {
  /** The plain spelling, one byte at a time: what macOf must equal for every hlen. */
  const spelled = (bytes: Uint8Array, hlen: number) =>
    Array.from(bytes.subarray(0, hlen), (b) => b.toString(16).padStart(2, '0')).join(':');
  const withChaddr = (chaddr: Uint8Array, hlen: number) => ({
    ...decode(clientPacket({ mac: '52:54:00:00:00:01', options: [] })),
    chaddr,
    hlen,
  });

  it('spells an Ethernet MAC in lowercase with every byte value at every position', () => {
    for (let pos = 0; pos < 6; pos++) {
      for (let v = 0; v < 256; v++) {
        const c = new Uint8Array(16).fill(0xa5);
        c[pos] = v;
        expect(macOf(withChaddr(c, 6))).toBe(spelled(c, 6));
      }
    }
  });
  it('spells any hlen from 0 to 16 (InfiniBand-style, token ring, a forged length) as the bytes it names', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 16 }), (c, hlen) => {
        const mac = macOf(withChaddr(c, hlen));
        expect(mac).toBe(spelled(c, hlen));
        expect(mac.length).toBe(hlen === 0 ? 0 : hlen * 3 - 1);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
  it('reads only the first hlen bytes: what a client puts after them does not change its MAC', () => {
    const a = new Uint8Array(16).fill(0);
    const b = new Uint8Array(16).fill(0xff);
    a.set([0x52, 0x54, 0, 1, 2, 3]);
    b.set([0x52, 0x54, 0, 1, 2, 3]);
    expect(macOf(withChaddr(a, 6))).toBe('52:54:00:01:02:03');
    expect(macOf(withChaddr(b, 6))).toBe('52:54:00:01:02:03');
  });
});
