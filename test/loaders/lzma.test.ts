/**
 * The raw LZMA1 codec (server/prepare/loaders/lzma-*.ts) against Debian's real iPXE stream and against xz, an
 * independent implementation: xz unpacks what we pack and we unpack what xz packs (xz's streams use the repeated
 * distances and one-byte repeats our encoder never emits), for several lc/lp/pb; hostile streams end in a RangeError.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { lzmaDecode } from '../../server/prepare/loaders/lzma-decode.ts';
import { lzmaEncode } from '../../server/prepare/loaders/lzma-encode.ts';
import type { LzmaProps } from '../../server/prepare/loaders/lzma-model.ts';
import { loaderByName } from '../../server/prepare/loaders/registry.ts';

const FIXTURE = readFileSync(path.join(import.meta.dirname, '../fixtures/loaders/undionly-debian.kpxe'));
/** Debian's stream: after the prefix and its length field, before the 4-byte check (test/fixtures/loaders/PROVENANCE.md). */
const STREAM = FIXTURE.subarray(0x13d4, FIXTURE.length - 4);
const IPXE: LzmaProps = { lc: 2, lp: 0, pb: 0 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const packedPin = loaderByName('ipxe-bios')!.files[0]!.packed!;

const xzArgs = (p: LzmaProps) => ['--format=raw', `--lzma1=preset=6e,lc=${p.lc},lp=${p.lp},pb=${p.pb},dict=1MiB`];
const xzUnpack = (stream: Uint8Array, p: LzmaProps) => execFileSync('xz', ['-dc', ...xzArgs(p)], { input: stream, maxBuffer: 1 << 26 });
const xzPack = (data: Uint8Array, p: LzmaProps) => execFileSync('xz', ['-zc', ...xzArgs(p)], { input: data, maxBuffer: 1 << 26 });

/** Data with repeats near and far (up to 200 KB back), runs longer than the longest match, and noise between. */
function structured(): Buffer {
  const parts: Buffer[] = [];
  const words = Array.from({ length: 40 }, (_, i) => Buffer.from(`word${i * 7919}-${'x'.repeat(i % 9)}`));
  const noise = randomBytes(60_000);
  for (let i = 0; i < 6000; i++) {
    parts.push(words[(i * 13) % words.length]!);
    if (i % 500 === 0) parts.push(Buffer.alloc(700 + i / 10, i & 0xff)); // a run of one byte: overlapping matches
    if (i % 97 === 0) parts.push(noise.subarray(i * 7, i * 7 + 40));
  }
  const head = Buffer.concat(parts);
  return Buffer.concat([head, noise.subarray(0, 20_000), head.subarray(1000, 90_000), randomBytes(3)]);
}

const INPUTS: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  'one byte': Buffer.from([0x5a]),
  'random (incompressible)': randomBytes(5000),
  structured: structured(),
  "iPXE's payload": lzmaDecode(STREAM, IPXE, 1 << 20).data,
};
const PROPS: LzmaProps[] = [IPXE, { lc: 3, lp: 0, pb: 2 }, { lc: 0, lp: 2, pb: 4 }, { lc: 4, lp: 0, pb: 0 }];

describe("Debian's iPXE stream (fixture)", () => {
  it('decodes to the payload the registry pins, ending at its end marker exactly at the stream end', () => {
    const d = lzmaDecode(STREAM, IPXE, 1 << 20);
    expect(d.endMarker).toBe(true);
    expect(d.consumed).toBe(STREAM.length);
    expect(d.data.length).toBe(packedPin.layout.payloadBytes);
    expect(sha256(d.data)).toBe(packedPin.sha256);
    // And xz agrees on every byte.
    expect(xzUnpack(STREAM, IPXE).equals(d.data)).toBe(true);
  });

  it('our encoder packs it to a stream that both decoders unpack, within a tenth of xz -6e', () => {
    const payload = INPUTS["iPXE's payload"]!;
    const ours = lzmaEncode(payload, IPXE);
    expect(lzmaDecode(ours, IPXE, payload.length).data.equals(payload)).toBe(true);
    expect(xzUnpack(ours, IPXE).equals(payload)).toBe(true);
    expect(ours.length).toBeLessThan(STREAM.length * 1.1);
    expect(ours.length).toBeLessThan(payload.length * 0.6);
  });
});

describe('round trips', () => {
  for (const p of PROPS)
    for (const [name, data] of Object.entries(INPUTS))
      it(`${name}, lc ${p.lc} lp ${p.lp} pb ${p.pb}: ours -> ours and xz; the same stream every time`, () => {
        const s = lzmaEncode(data, p);
        const back = lzmaDecode(s, p, data.length + 1);
        expect(back.endMarker).toBe(true);
        expect(back.consumed).toBe(s.length);
        expect(back.data.equals(data)).toBe(true);
        expect(xzUnpack(s, p).equals(data)).toBe(true);
        expect(lzmaEncode(data, p).equals(s)).toBe(true);
      });

  for (const p of PROPS)
    it(`xz -> ours, lc ${p.lc} lp ${p.lp} pb ${p.pb} (repeated distances 1-3 and one-byte repeats included)`, () => {
      for (const data of [INPUTS.structured!, INPUTS["iPXE's payload"]!]) {
        const s = xzPack(data, p);
        const back = lzmaDecode(s, p, data.length + 1);
        expect(back.endMarker).toBe(true);
        expect(back.data.equals(data)).toBe(true);
      }
    });
});

describe('hostile streams', () => {
  it('refuses a first byte other than 0, a stream cut short, and parameters out of range', () => {
    const bad = Buffer.from(STREAM);
    bad[0] = 1;
    expect(() => lzmaDecode(bad, IPXE, 1 << 20)).toThrow(/starts with 1, not 0/);
    expect(() => lzmaDecode(STREAM.subarray(0, 30_000), IPXE, 1 << 20)).toThrow(/ends early/);
    expect(() => lzmaDecode(STREAM.subarray(0, 3), IPXE, 1 << 20)).toThrow(RangeError);
    expect(() => lzmaDecode(STREAM, { lc: 9, lp: 0, pb: 0 }, 10)).toThrow(/out of range/);
    expect(() => lzmaEncode(Buffer.from('x'), { lc: 2, lp: 5, pb: 0 })).toThrow(/out of range/);
  });

  it('stops at maxOut without an end marker, never writing past it', () => {
    const d = lzmaDecode(STREAM, IPXE, 1000);
    expect(d.endMarker).toBe(false);
    expect(d.data.length).toBe(1000);
    expect(d.data.equals(INPUTS["iPXE's payload"]!.subarray(0, 1000))).toBe(true);
  });

  it('300 corrupted copies of the real stream: a RangeError or bytes within the bound, nothing else', () => {
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const s = Buffer.from(STREAM.subarray(0, 4000 + ((i * 977) % 60_000)));
      for (let k = 0; k < 1 + (i % 4); k++) {
        const at = 1 + ((i * 7919 + k * 104_729) % (s.length - 1));
        s[at] = s[at]! ^ (1 << (k + (i % 5)));
      }
      try {
        const d = lzmaDecode(s, IPXE, 200_000);
        expect(d.data.length).toBeLessThanOrEqual(200_000);
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
