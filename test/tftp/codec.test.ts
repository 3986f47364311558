/** The TFTP codec on real captures (four ways) and under fuzzing. */
import fc from 'fast-check';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeData, encodedLength, type TftpPacket } from '../../server/tftp/codec.ts';
import { MalformedPacket } from '../../server/tftp/malformed-packet.ts';
import { REPO } from './helpers/lab.ts';
import { tftpDatagrams } from './helpers/tftp-flows.ts';

const fixture = (f: string) => path.join(REPO, 'test/fixtures/tftp', f);

/** Per capture: datagram count, opcode histogram (cross-checked with `tcpdump -nn -r`), and expected non-bulk packets. */
const CAPTURES: Array<{
  file: string;
  count: number;
  ops: Record<number, number>;
  malformed: number[];
  expect: Record<number, TftpPacket>;
}> = [
  {
    file: 'qemu-ipxe-rrq-blksize-tsize-oack.pcap',
    count: 5,
    ops: { 1: 1, 3: 1, 4: 2, 6: 1 },
    malformed: [],
    expect: {
      0: {
        op: 1,
        filename: 'boot.ipxe',
        mode: 'octet',
        options: [
          ['blksize', '1432'],
          ['tsize', '0'],
        ],
      },
      1: {
        op: 6,
        options: [
          ['blksize', '1428'],
          ['tsize', '28'],
        ],
      },
      2: { op: 4, block: 0 },
      4: { op: 4, block: 1 },
    },
  },
  {
    file: 'rrq-plain.pcap',
    count: 7,
    ops: { 1: 1, 3: 3, 4: 3 },
    malformed: [],
    expect: { 0: { op: 1, filename: 'file1', mode: 'octet', options: [] }, 2: { op: 4, block: 1 }, 6: { op: 4, block: 3 } },
  },
  {
    file: 'wrq-blksize-tsize-oack-and-malformed-rrq.pcap',
    count: 109,
    ops: { 1: 3, 2: 2, 3: 51, 4: 51, 6: 1 },
    malformed: [0],
    expect: {
      1: { op: 1, filename: '', mode: 'octet', options: [] },
      2: { op: 1, filename: 'rfc1350.txt', mode: 'octet', options: [] },
      101: { op: 1, filename: 'sysman.lis', mode: 'octet', options: [] },
      102: { op: 2, filename: 'zz.bin', mode: 'netascii', options: [] },
      107: {
        op: 2,
        filename: 'empty100KB',
        mode: 'octet',
        options: [
          ['blksize', '1468'],
          ['tsize', '100000'],
        ],
      },
      108: {
        op: 6,
        options: [
          ['blksize', '1468'],
          ['tsize', '100000'],
        ],
      },
    },
  },
  {
    file: 'wrq-transfer.pcap',
    count: 100,
    ops: { 2: 1, 3: 49, 4: 50 },
    malformed: [],
    expect: { 0: { op: 2, filename: 'rfc1350.txt', mode: 'octet', options: [] }, 1: { op: 4, block: 0 } },
  },
];

describe('codec on captured packets', () => {
  for (const cap of CAPTURES) {
    it(`${cap.file}: decode, re-encode, length, round trip`, () => {
      const grams = tftpDatagrams(fixture(cap.file));
      expect(grams).toHaveLength(cap.count);
      const ops: Record<number, number> = {};
      let checked = 0;
      grams.forEach((g, i) => {
        if (cap.malformed.includes(i)) {
          expect(() => decode(g.payload)).toThrow(MalformedPacket);
          return;
        }
        const p = decode(g.payload);
        ops[p.op] = (ops[p.op] ?? 0) + 1;
        // 1. decodes to the expected value
        const want = cap.expect[i];
        if (want) {
          expect(p).toEqual(want);
          checked++;
        }
        if (p.op === 3) {
          expect(p.data.length).toBe(g.payload.length - 4);
          expect(p.block).toBe(g.payload.readUInt16BE(2));
        }
        // 2. re-encodes to the same bytes; 3. computed length matches
        expect(encode(p).equals(g.payload)).toBe(true);
        expect(encodedLength(p)).toBe(g.payload.length);
        // 4. round trip
        expect(decode(encode(p))).toEqual(p);
      });
      expect(ops).toEqual(cap.ops);
      expect(checked).toBe(Object.keys(cap.expect).length);
    });
  }

  it('DATA blocks in a capture are consecutive and the last one is short (RFC 1350 section 6)', () => {
    const data = tftpDatagrams(fixture('rrq-plain.pcap'))
      .map((g) => decode(g.payload))
      .filter((p): p is Extract<TftpPacket, { op: 3 }> => p.op === 3);
    expect(data.map((d) => d.block)).toEqual([1, 2, 3]);
    expect(data.map((d) => d.data.length)).toEqual([512, 512, 105]);
  });
});

describe('codec edge cases', () => {
  it.each([
    ['too short', [0, 4, 0]],
    ['unknown opcode', [0, 9, 0, 0]],
    ['RRQ without NUL', [0, 1, 0x61, 0x62]],
    ['RRQ with empty mode', [0, 1, 0x61, 0, 0]],
    ['option without value', [0, 1, 0x61, 0, 0x6f, 0, 0x78, 0]],
    ['ACK with trailing bytes', [0, 4, 0, 1, 0]],
    ['OACK with empty name', [0, 6, 0, 0x31, 0]],
  ])('%s is one MalformedPacket with an offset', (_n, bytes) => {
    try {
      decode(Uint8Array.from(bytes));
      expect.unreachable('decoded garbage');
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedPacket);
      const m = e as MalformedPacket;
      expect(m.protocol).toBe('tftp');
      expect(m.offset).toBeGreaterThanOrEqual(0);
      expect(m.offset).toBeLessThanOrEqual(bytes.length);
    }
  });

  it('an ERROR is read leniently: EDK2 pads it after the NUL, and some senders drop the NUL', () => {
    // OVMF's abort after its tsize probe: "Tftp abort" + NUL + a padding byte (30 bytes on the wire in the e2e).
    expect(decode(Uint8Array.from([0, 5, 0, 8, ...Buffer.from('Tftp abort'), 0, 0]))).toEqual({ op: 5, code: 8, message: 'Tftp abort' });
    expect(decode(Uint8Array.from([0, 5, 0, 1, 0x78, 0x79]))).toEqual({ op: 5, code: 1, message: 'xy' });
  });

  it('encodeData writes the wrapped block number', () => {
    const b = encodeData(65536 & 0xffff, Buffer.from('xy'));
    expect([...b]).toEqual([0, 3, 0, 0, 0x78, 0x79]);
    const d = decode(encodeData(0xfffe, Buffer.alloc(0)));
    expect(d.op === 3 && d.block === 0xfffe && d.data.length === 0).toBe(true);
  });
});

const text = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const nonEmpty = text.filter((s) => s.length > 0);
const packet: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({
    op: fc.constantFrom(1 as const, 2 as const),
    filename: text,
    mode: nonEmpty,
    options: fc.array(fc.tuple(nonEmpty, text), { maxLength: 5 }),
  }),
  fc.record({ op: fc.constant(3 as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 600 }) }),
  fc.record({ op: fc.constant(4 as const), block: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ op: fc.constant(5 as const), code: fc.integer({ min: 0, max: 65535 }), message: text }),
  // RFC 2347: an OACK carries at least one option.
  fc.record({ op: fc.constant(6 as const), options: fc.array(fc.tuple(nonEmpty, text), { minLength: 1, maxLength: 5 }) }),
);

describe('codec fuzz', () => {
  it('any bytes: decodes and re-encodes to the same bytes, or throws MalformedPacket and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        let p: TftpPacket;
        try {
          p = decode(bytes);
        } catch (e) {
          return e instanceof MalformedPacket;
        }
        // ERROR is decoded leniently (tail ignored), so only its canonical form must round-trip.
        if (p.op === 5) return JSON.stringify(decode(encode(p))) === JSON.stringify(p);
        return Buffer.from(bytes).equals(encode(p)) && encodedLength(p) === bytes.length;
      }),
      { numRuns: 3000 },
    );
  });

  it('packet-shaped bytes (valid opcode, NUL-rich) never escape as another error', () => {
    const shaped = fc
      .tuple(fc.integer({ min: 0, max: 7 }), fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })), { maxLength: 80 }))
      .map(([op, rest]) => Uint8Array.from([0, op, ...rest]));
    fc.assert(
      fc.property(shaped, (bytes) => {
        try {
          const p = decode(bytes);
          if (p.op === 5) return JSON.stringify(decode(encode(p))) === JSON.stringify(p); // lenient ERROR
          return Buffer.from(bytes).equals(encode(p));
        } catch (e) {
          return e instanceof MalformedPacket;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every valid packet round-trips through encode/decode with the computed length', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const b = encode(p);
        const back = decode(b);
        expect(b.length).toBe(encodedLength(p));
        if (p.op === 3 && back.op === 3) {
          expect(back.block).toBe(p.block);
          expect(Buffer.from(back.data).equals(Buffer.from(p.data))).toBe(true);
        } else expect(back).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });
});
