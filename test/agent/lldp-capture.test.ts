/**
 * LLDP from captured frames (the microkernel's replacement for lldpd + lldpcli): the pcap and LLDP codecs on
 * real captures, four ways (decode to the expected value, re-encode to the same bytes, encodedLength, round
 * trip), the neighbour choice (latest frame, TTL, shutdown), and frames an attacker on the rack could send.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MalformedPacket } from '../../server/net/malformed.ts';
import * as pcap from '../../agent/parse/pcap.ts';
import * as lldp from '../../agent/parse/lldp-frame.ts';
import { lldpInfo, neighboursFromCaptures, printable } from '../../agent/parse/lldp-neighbour.ts';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lldp');
const load = (f: string) => new Uint8Array(readFileSync(path.join(FIX, f)));
const SMC = load('lldp-frames.pcap');
const WIRESHARK = load('wireshark-sample.lldp.pcap');
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** What each captured frame must decode to (read off the bytes with a hex dump, not produced by the code). */
const EXPECTED = [
  {
    file: 'lldp-frames.pcap',
    index: 0,
    at: 1258531220.09341,
    types: [1, 2, 3, 4, 5, 6, 7, 8, 0],
    trailerHex: 'bb14272c',
    info: {
      chassisSubtype: 4,
      chassisId: '00:22:2d:81:db:10',
      portSubtype: 7,
      portId: '1',
      ttl: 120,
      portDescription: 'Port #1',
      systemName: 'SMCGS8P-Smart',
      systemDescription: 'SMCGS8P-Smart - SMCGS8P-Smart v3.20',
      managementAddresses: ['192.168.2.10'],
    },
  },
  {
    file: 'wireshark-sample.lldp.pcap',
    index: 0,
    at: 1121119005,
    types: [1, 2, 3, 3, 3, 3, 0],
    trailerHex: 'ff'.repeat(15) + 'aabb',
    info: { chassisSubtype: 4, chassisId: '00:04:96:1f:a7:26', portSubtype: 5, portId: '1/3', ttl: 120, managementAddresses: [] },
  },
  {
    file: 'wireshark-sample.lldp.pcap',
    index: 1,
    at: 1121861869.183027,
    types: [1, 2, 3, 4, 5, 6, 7, 8, 127, 127, 127, 127, 127, 127, 127, 127, 0],
    trailerHex: '',
    info: {
      chassisSubtype: 4,
      chassisId: '00:01:30:f9:ad:a0',
      portSubtype: 5,
      portId: '1/1',
      ttl: 120,
      portDescription: 'Summit300-48-Port 1001',
      systemName: 'Summit300-48',
      systemDescription: 'Summit300-48 - Version 7.4e.1 (Build 5) by Release_Master 05/27/05 04:53:11',
      managementAddresses: ['00:01:30:f9:ad:a0'],
      pvid: 488,
    },
  },
  {
    file: 'wireshark-sample.lldp.pcap',
    index: 2,
    at: 1136862144.460581,
    types: [1, 2, 3, 4, 5, 6, 7, 8, 127, 127, 127, 127, 127, 0],
    trailerHex: '',
    info: {
      chassisSubtype: 4,
      chassisId: '00:13:21:57:ca:40',
      portSubtype: 7,
      portId: '1',
      ttl: 120,
      portDescription: '1',
      systemName: 'ProCurve Switch 2600-8-PWR',
      systemDescription: 'ProCurve J8762A Switch 2600-8-PWR, revision H.08.89, ROM H.08.5X (/sw/code/build/fish(ts_08_5))',
      managementAddresses: ['15.255.122.148'],
    },
  },
] as const;

describe('pcap savefiles, four ways', () => {
  it.each([
    ['lldp-frames.pcap', SMC, 65535, 1],
    ['wireshark-sample.lldp.pcap', WIRESHARK, 262144, 3],
  ] as const)('%s', (_name, bytes, snaplen, count) => {
    const p = pcap.decode(bytes);
    expect(p.header).toEqual({
      littleEndian: true,
      nanoseconds: false,
      versionMajor: 2,
      versionMinor: 4,
      thiszone: 0,
      sigfigs: 0,
      snaplen,
      linktype: pcap.LINKTYPE_ETHERNET,
    });
    expect(p.records).toHaveLength(count);
    expect(p.partial).toHaveLength(0);
    expect(hexOf(pcap.encode(p))).toBe(hexOf(bytes));
    expect(pcap.encodedLength(p)).toBe(bytes.length);
    expect(pcap.decode(pcap.encode(p))).toEqual(p);
  });

  it('keeps an incomplete last record (tcpdump still writing) and re-encodes it byte for byte', () => {
    const cut = SMC.subarray(0, SMC.length - 10);
    const p = pcap.decode(cut);
    expect(p.records).toHaveLength(0);
    expect(p.partial).toHaveLength(cut.length - 24);
    expect(hexOf(pcap.encode(p))).toBe(hexOf(cut));
  });

  it('reads big-endian and nanosecond files', () => {
    const p = pcap.decode(SMC);
    const be = { ...p, header: { ...p.header, littleEndian: false, nanoseconds: true } };
    const bytes = pcap.encode(be);
    expect(hexOf(bytes.subarray(0, 4))).toBe('a1b23c4d');
    expect(pcap.decode(bytes)).toEqual(be);
    expect(pcap.recordTime(be.header, be.records[0]!)).toBeCloseTo(1258531220 + 93410e-9, 6);
  });
});

describe('LLDP frames, four ways', () => {
  it.each(EXPECTED.map((e) => [`${e.file} #${e.index}`, e] as const))('%s', (_label, e) => {
    const p = pcap.decode(load(e.file));
    const r = p.records[e.index]!;
    expect(pcap.recordTime(p.header, r)).toBeCloseTo(e.at, 5);
    const f = lldp.decode(r.data);
    expect(hexOf(f.dst)).toBe('0180c200000e');
    expect(f.tags).toEqual([]);
    expect(f.tlvs.map((t) => t.type)).toEqual(e.types);
    expect(hexOf(f.trailer)).toBe(e.trailerHex);
    expect(lldpInfo(f)).toEqual(e.info);
    expect(hexOf(lldp.encode(f))).toBe(hexOf(r.data));
    expect(lldp.encodedLength(f)).toBe(r.data.length);
    expect(lldp.decode(lldp.encode(f))).toEqual(f);
  });

  it('decodes a frame behind an 802.1Q tag', () => {
    const f = lldp.decode(pcap.decode(SMC).records[0]!.data);
    const tagged = { ...f, tags: [{ tpid: 0x8100, tci: 0x0064 }] };
    const bytes = lldp.encode(tagged);
    expect(hexOf(bytes.subarray(12, 18))).toBe('8100006488cc');
    expect(lldp.decode(bytes)).toEqual(tagged);
  });
});

/** A minimal valid frame, as the attacks below start from. */
function frame(tlvs: { type: number; value: number[] | string }[], extra: number[] = []): Uint8Array {
  return lldp.encode({
    dst: new Uint8Array([1, 0x80, 0xc2, 0, 0, 0x0e]),
    src: new Uint8Array([2, 0, 0, 0, 0, 1]),
    tags: [],
    tlvs: tlvs.map((t) => ({
      type: t.type,
      value: typeof t.value === 'string' ? new TextEncoder().encode(t.value) : new Uint8Array(t.value),
    })),
    trailer: new Uint8Array(extra),
  });
}
const BASE = [
  { type: 1, value: [4, 0xaa, 0xbb, 0xcc, 0, 0, 1] },
  { type: 2, value: [5, ...new TextEncoder().encode('Ethernet1/7')] },
  { type: 3, value: [0, 120] },
];
/** A savefile with one record per frame at the given times. */
function capture(frames: { at: number; bytes: Uint8Array }[]): Uint8Array {
  const header = pcap.decode(SMC).header;
  return pcap.encode({
    header,
    records: frames.map((f) => ({ seconds: Math.floor(f.at), fraction: 0, origLen: f.bytes.length, data: f.bytes })),
    partial: new Uint8Array(0),
  });
}

describe('neighbours from the capture files', () => {
  it('reports per NIC the switch, port, VLAN and management address of the latest LLDPDU', () => {
    const files = new Map([
      ['eno1.pcap0', SMC],
      ['eno2.pcap0', WIRESHARK],
    ]);
    const r = neighboursFromCaptures(files, 1258531220 + 60);
    // eno2's frames are from 2005/2006: expired long ago at this `now`.
    expect(r.neighbours).toEqual({
      eno1: { switch_name: 'SMCGS8P-Smart', switch_id: '00:22:2d:81:db:10', port_id: '1', port_descr: 'Port #1', mgmt_ip: '192.168.2.10' },
    });
    // Three frames on eno2: the ProCurve one was received last, so it is the neighbour.
    expect(neighboursFromCaptures(files, 1136862144 + 10).neighbours['eno2']).toEqual({
      switch_name: 'ProCurve Switch 2600-8-PWR',
      switch_id: '00:13:21:57:ca:40',
      port_id: '1',
      port_descr: '1',
      mgmt_ip: '15.255.122.148',
    });
    // The Summit alone: its 802.1 Port VLAN ID TLV becomes the VLAN.
    const summit = pcap.decode(WIRESHARK).records[1]!;
    expect(
      neighboursFromCaptures(new Map([['eno2.pcap1', capture([{ at: summit.seconds, bytes: summit.data }])]]), summit.seconds + 10)
        .neighbours,
    ).toEqual({
      eno2: {
        switch_name: 'Summit300-48',
        switch_id: '00:01:30:f9:ad:a0',
        port_id: '1/1',
        port_descr: 'Summit300-48-Port 1001',
        vlan: 488,
        mgmt_ip: '00:01:30:f9:ad:a0',
      },
    });
    expect(r.errors).toEqual([]);
  });

  it('a later frame wins across the ring files; TTL 0 (shutdown) and an expired TTL mean no neighbour', () => {
    const a = frame([...BASE, { type: 5, value: 'leaf-a' }, { type: 0, value: [] }]);
    const b = frame([...BASE, { type: 5, value: 'leaf-b' }, { type: 0, value: [] }]);
    const shutdown = frame([...BASE.slice(0, 2), { type: 3, value: [0, 0] }, { type: 0, value: [] }]);
    const files = new Map([
      ['eth0.pcap0', capture([{ at: 1000, bytes: b }])],
      ['eth0.pcap1', capture([{ at: 900, bytes: a }])],
    ]);
    expect(neighboursFromCaptures(files, 1010).neighbours['eth0']?.switch_name).toBe('leaf-b');
    expect(neighboursFromCaptures(files, 1000 + 121).neighbours).toEqual({});
    files.set('eth0.pcap1', capture([{ at: 1005, bytes: shutdown }]));
    expect(neighboursFromCaptures(files, 1010).neighbours).toEqual({});
  });

  it('drops malformed frames and files without failing the rest', () => {
    const good = frame([...BASE, { type: 5, value: 'leaf-a' }, { type: 0, value: [] }]);
    const files = new Map([
      [
        'eth0.pcap0',
        capture([
          { at: 1000, bytes: good },
          { at: 1001, bytes: good.subarray(0, 20) },
        ]),
      ],
      ['eth1.pcap0', new Uint8Array([1, 2, 3])],
      ['../../etc/passwd', SMC],
      ['eth2.pcap0', capture([{ at: 1000, bytes: frame([BASE[2]!, BASE[0]!, BASE[1]!]) }])],
    ]);
    const r = neighboursFromCaptures(files, 1010);
    expect(Object.keys(r.neighbours)).toEqual(['eth0']);
    expect(r.dropped).toBe(2);
    expect(r.errors).toHaveLength(2);
    expect(r.errors.join('\n')).toMatch(/eth1\.pcap0: malformed pcap/);
    expect(r.errors.join('\n')).toMatch(/not a capture file name/);
  });
});

describe('hostile frames', () => {
  const bad = (b: Uint8Array, re: RegExp) => {
    let err: unknown;
    try {
      lldpInfo(lldp.decode(b));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedPacket);
    expect((err as MalformedPacket).message).toMatch(re);
  };

  it('refuses lengths past the end, wrong EtherTypes, tag stacks and missing mandatory TLVs', () => {
    const ok = frame([...BASE, { type: 0, value: [] }]);
    bad(ok.subarray(0, 13), /shorter than an Ethernet header/);
    const lying = new Uint8Array(ok);
    lying[14] = 0x03; // chassis ID TLV claims 256+ bytes
    bad(lying, /claims \d+ bytes/);
    const ipv4 = new Uint8Array(ok);
    ipv4[12] = 0x08;
    ipv4[13] = 0x00;
    bad(ipv4, /not LLDP/);
    const f = lldp.decode(ok);
    bad(lldp.encode({ ...f, tags: [1, 2, 3].map(() => ({ tpid: 0x8100, tci: 1 })) }), /more than two VLAN tags/);
    bad(frame([BASE[1]!, BASE[0]!, BASE[2]!]), /not a Chassis ID/);
    bad(frame([BASE[0]!, BASE[2]!]), /not a Port ID/);
    bad(frame([BASE[0]!, BASE[1]!, { type: 3, value: [1] }]), /not a TTL/);
    expect(() => pcap.decode(new Uint8Array(24))).toThrow(MalformedPacket);
    const huge = new Uint8Array(SMC);
    new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
    expect(() => pcap.decode(huge)).toThrow(/claims 2147483647 captured bytes/);
  });

  it('text from the wire reaches the facts as bounded printable ASCII', () => {
    const name = '\x1b]0;pwned\x07leaf\n$(reboot)\0\0';
    const f = frame([...BASE, { type: 5, value: name }, { type: 4, value: 'x'.repeat(511) }, { type: 0, value: [] }]);
    const info = lldpInfo(lldp.decode(f));
    expect(info.systemName).toBe('?]0;pwned?leaf?$(reboot)');
    expect(info.portDescription).toHaveLength(255);
    expect(printable(new Uint8Array([0xff, 0x41, 0x7f]))).toBe('?A?');
  });

  it('random bytes and mutated captures throw nothing but MalformedPacket, and never stop the neighbour scan', () => {
    const frames = pcap.decode(WIRESHARK).records.map((r) => r.data);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        try {
          lldpInfo(lldp.decode(b));
        } catch (e) {
          if (!(e instanceof MalformedPacket)) throw e;
        }
        try {
          pcap.decode(b);
        } catch (e) {
          if (!(e instanceof MalformedPacket)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(
        fc.nat(frames.length - 1),
        fc.array(fc.tuple(fc.nat(400), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (i, muts) => {
          const b = new Uint8Array(frames[i]!);
          for (const [at, v] of muts) if (at < b.length) b[at] = v;
          const r = neighboursFromCaptures(new Map([['eth0.pcap0', capture([{ at: 1121861869, bytes: b }])]]), 1121861870);
          expect(r.dropped + Object.keys(r.neighbours).length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a flood of 20000 frames in one capture is scanned to the end and the latest wins', () => {
    const frames = Array.from({ length: 20000 }, (_, i) => ({ at: 2000 + i, bytes: frame([...BASE, { type: 5, value: `sw${i}` }]) }));
    const r = neighboursFromCaptures(new Map([['eth0.pcap0', capture(frames)]]), 2000 + 20000);
    expect(r.neighbours['eth0']?.switch_name).toBe('sw19999');
  });
});
