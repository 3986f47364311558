/**
 * The MBR/GPT codec on partition tables written by real tools (sgdisk, sfdisk, and Crashcart's own
 * debian12 build), four ways, plus hostile tables: every failure is a MalformedPacket, nothing else.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedPacket } from '../../server/net/malformed.ts';
import { decodeDiskHead, diskHeadEncodedLength, encodeDiskHead, type DiskHead } from '../../server/images/codec/partition-table.ts';
import { crc32 } from '../../server/images/codec/crc32.ts';
import { decodeMbr, encodeMbr, mbrEncodedLength } from '../../server/images/codec/mbr.ts';
import { expectGolden } from './golden.ts';

const DIR = path.resolve(import.meta.dirname, '../fixtures/disk');
const read = (f: string) => new Uint8Array(fs.readFileSync(path.join(DIR, f)));

/** Expected facts per fixture, read off `sgdisk -p` / `sfdisk -l` when the fixture was made (PROVENANCE.md). */
const FIXTURES: { file: string; kind: 'gpt' | 'mbr'; sector: number; parts: [number, number, number, string][] }[] = [
  {
    file: 'gpt-sgdisk-bios-esp-swap-root.bin',
    kind: 'gpt',
    sector: 512,
    parts: [
      [1, 2048, 4095, 'BIOS boot'],
      [2, 4096, 36863, 'EFI system'],
      [3, 36864, 53247, 'swap'],
      [4, 53248, 131038, 'root x86-64 ünïcode'],
    ],
  },
  {
    file: 'gpt-4kn-sgdisk-loop.bin',
    kind: 'gpt',
    sector: 4096,
    parts: [
      [1, 256, 4351, 'ESP'],
      [2, 4352, 16378, 'data'],
    ],
  },
  {
    file: 'mbr-sfdisk-grub-bootcode.bin',
    kind: 'mbr',
    sector: 512,
    parts: [
      [1, 2048, 18431, ''],
      [2, 18432, 26623, ''],
      [3, 26624, 65535, ''],
    ],
  },
  {
    file: 'debian12-crashcart-build-head.bin',
    kind: 'gpt',
    sector: 512,
    parts: [
      [1, 2048, 4095, 'BIOS boot'],
      [2, 4096, 135167, 'EFI system'],
      [3, 135168, 2207743, 'root'],
    ],
  },
];

function lbas(d: DiskHead): [number, number, number, string][] {
  if (d.kind === 'mbr')
    return d.mbr.entries.flatMap((e, i) =>
      e.type ? [[i + 1, e.lbaStart, e.lbaStart + e.sectors - 1, ''] as [number, number, number, string]] : [],
    );
  return d.entries.map((e) => [e.index + 1, e.firstLba, e.lastLba, e.name]);
}

describe('partition table codec: real tables four ways', () => {
  for (const fx of FIXTURES) {
    describe(fx.file, () => {
      const bytes = read(fx.file);
      const head = decodeDiskHead(bytes);
      it('decodes to the expected value (golden dump and the tool-reported layout)', () => {
        expect(head.kind).toBe(fx.kind);
        expect(head.sectorSize).toBe(fx.sector);
        if (fx.parts.length) expect(lbas(head)).toEqual(fx.parts);
        else expect(lbas(head).length).toBeGreaterThan(0);
        expectGolden(path.join(DIR, fx.file.replace(/\.bin$/, '.golden.json')), head);
      });
      it('re-encodes to the same bytes', () => {
        expect(Buffer.from(encodeDiskHead(head)).equals(Buffer.from(bytes))).toBe(true);
      });
      it('computes its encoded length', () => {
        expect(diskHeadEncodedLength(head)).toBe(bytes.length);
      });
      it('round-trips', () => {
        expect(decodeDiskHead(encodeDiskHead(head))).toEqual(head);
      });
    });
  }

  it('the MBR alone round-trips through its own codec', () => {
    const b = read('mbr-sfdisk-grub-bootcode.bin');
    const m = decodeMbr(b);
    expect(m.diskSignature).toBe(0x1234abcd);
    expect(m.entries[0].status).toBe(0x80);
    expect(m.entries.map((e) => e.type)).toEqual([0x0c, 0x82, 0x83, 0]);
    expect(Buffer.from(encodeMbr(m)).equals(Buffer.from(b))).toBe(true);
    expect(mbrEncodedLength()).toBe(512);
  });
});

describe('partition table codec: hostile tables', () => {
  const gpt = read('gpt-sgdisk-bios-esp-swap-root.bin');
  const expectMalformed = (b: Uint8Array, reason: RegExp) => {
    let err: unknown;
    try {
      decodeDiskHead(b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedPacket);
    expect((err as MalformedPacket).reason).toMatch(reason);
  };
  /** Patch a u32 in the primary header and reseal its CRC, so only the patched field is wrong. */
  const patchHeader = (off: number, value: number) => {
    const b = gpt.slice();
    const v = new DataView(b.buffer);
    v.setUint32(512 + off, value, true);
    v.setUint32(512 + 16, 0, true);
    v.setUint32(512 + 16, crc32(b.subarray(512, 512 + 92)), true);
    return b;
  };

  it('no boot signature', () => expectMalformed(new Uint8Array(512), /0x55AA/));
  it('a header CRC that does not match', () => {
    const b = gpt.slice();
    b[512 + 40]! ^= 1;
    expectMalformed(b, /header CRC32/);
  });
  it('an entry array CRC that does not match', () => {
    const b = gpt.slice();
    b[1024 + 60]! ^= 0xff;
    expectMalformed(b, /entry array CRC32/);
  });
  it('an entry array claiming 4 GiB', () => expectMalformed(patchHeader(80, 0x01000000), /exceed/));
  it('an entry size that is not 128 x 2^n', () => expectMalformed(patchHeader(84, 100), /128 x 2\^n/));
  it('an entry array past the bytes read', () => expectMalformed(patchHeader(72, 4000), /past the .* bytes read/));
  it('a protective MBR without a GPT header', () => expectMalformed(gpt.slice(0, 512), /no GPT header/));
  it('a partition outside the usable area', () => {
    const b = gpt.slice();
    const v = new DataView(b.buffer);
    v.setBigUint64(1024 + 3 * 128 + 40, 10_000_000n, true); // entry 4's last LBA
    v.setUint32(512 + 88, crc32(b.subarray(1024, 1024 + 16384)), true);
    v.setUint32(512 + 16, 0, true);
    v.setUint32(512 + 16, crc32(b.subarray(512, 512 + 92)), true);
    expectMalformed(b, /outside the usable area/);
  });

  it('fuzz: random mutations of a real table only ever raise MalformedPacket', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(gpt.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 24 }),
        fc.nat(gpt.length),
        (muts, cut) => {
          const b = gpt.slice(0, Math.max(cut, 1));
          for (const [o, x] of muts) if (o < b.length) b[o] = x;
          try {
            const d = decodeDiskHead(b);
            expect(diskHeadEncodedLength(d)).toBeLessThanOrEqual(b.length);
          } catch (e) {
            if (!(e instanceof MalformedPacket)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('fuzz: mutated headers and entries with valid CRCs (past the checksum checks) only ever raise MalformedPacket', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 512 + 8, max: 1024 + 4 * 128 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 16,
        }),
        (muts) => {
          const b = gpt.slice();
          for (const [o, x] of muts) if (o < 512 + 16 || o >= 512 + 20) b[o] = x;
          const v = new DataView(b.buffer);
          v.setUint32(512 + 88, crc32(b.subarray(1024, 1024 + 16384)), true);
          v.setUint32(512 + 16, 0, true);
          const hs = Math.min(Math.max(v.getUint32(512 + 12, true), 92), 512);
          v.setUint32(512 + 16, crc32(b.subarray(512, 512 + hs)), true);
          try {
            const d = decodeDiskHead(b);
            expect(decodeDiskHead(encodeDiskHead(d))).toEqual(d);
          } catch (e) {
            if (!(e instanceof MalformedPacket)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('fuzz: random bytes only ever raise MalformedPacket', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 20000 }), (b) => {
        if (b.length >= 512) b.set([0x55, 0xaa], 510);
        if (b.length >= 512) b[446 + 4] = 0xee;
        try {
          decodeDiskHead(b);
        } catch (e) {
          if (!(e instanceof MalformedPacket)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
