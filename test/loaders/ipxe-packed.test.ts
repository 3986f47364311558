/**
 * iPXE's packed BIOS image (server/prepare/loaders/ipxe-packed.ts) on Debian's real undionly.kpxe: it unpacks to the
 * pinned payload, packs back to an image that unpacks to the same payload with every field set to match, the
 * registry's patch gives exactly the pinned file, and a file whose fields disagree with its layout is refused.
 * That iPXE's own prefix runs the repacked file: test/loaders/firmware-smoke.test.ts (SeaBIOS).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CcError } from '../../server/errors/cc-error.ts';
import { crc32 } from '../../server/images/codec/crc32.ts';
import { repackImage, unpackImage, type PackedLayout } from '../../server/prepare/loaders/ipxe-packed.ts';
import { patchFile } from '../../server/prepare/loaders/patch-file.ts';
import { loaderByName } from '../../server/prepare/loaders/registry.ts';

const DEBIAN = readFileSync(path.join(import.meta.dirname, '../fixtures/loaders/undionly-debian.kpxe'));
const FILE = loaderByName('ipxe-bios')!.files[0]!;
const PACKED = FILE.packed!;
const LAYOUT = PACKED.layout;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function refusal(file: Uint8Array, layout: PackedLayout = LAYOUT): CcError {
  try {
    unpackImage(file, layout, 'undionly.kpxe in ipxe');
  } catch (e) {
    return e as CcError;
  }
  throw new Error('not refused');
}

describe('packed image: the four ways on the fixture', () => {
  const payload = unpackImage(DEBIAN, LAYOUT, 'fixture');

  it('decodes: the payload the registry pins', () => {
    expect(DEBIAN.length).toBe(FILE.fromPackage!.bytes);
    expect(sha256(DEBIAN)).toBe(FILE.fromPackage!.sha256);
    expect(payload.length).toBe(LAYOUT.payloadBytes);
    expect(sha256(payload)).toBe(PACKED.sha256);
  });

  it('re-encodes: the same prefix apart from the size field, then length, stream and check that iPXE verifies', () => {
    const again = repackImage(DEBIAN, LAYOUT, payload);
    expect(repackImage(DEBIAN, LAYOUT, payload).equals(again)).toBe(true); // deterministic
    const prefix = again.subarray(0, LAYOUT.lengthAt);
    const theirs = DEBIAN.subarray(0, LAYOUT.lengthAt);
    const differ = [...prefix.keys()].filter((i) => prefix[i] !== theirs[i]);
    expect(differ.every((i) => i === LAYOUT.paragraphsAt || i === LAYOUT.paragraphsAt + 1)).toBe(true);
    const stream = again.subarray(LAYOUT.lengthAt + 4, again.length - 4);
    // iPXE's check: the CRC register run over the stream and the check ends at zero, i.e. check = ~crc32(stream).
    expect(again.readUInt32LE(again.length - 4)).toBe((crc32(stream) ^ 0xffffffff) >>> 0);
    expect((crc32(DEBIAN.subarray(LAYOUT.lengthAt + 4, DEBIAN.length - 4)) ^ 0xffffffff) >>> 0).toBe(
      DEBIAN.readUInt32LE(DEBIAN.length - 4),
    );
  });

  it('computed lengths: the length field, the size in paragraphs and the file agree', () => {
    for (const f of [DEBIAN, repackImage(DEBIAN, LAYOUT, payload)]) {
      expect(f.readUInt32LE(LAYOUT.lengthAt)).toBe(f.length - LAYOUT.lengthAt - 4);
      expect(f.readUInt16LE(LAYOUT.paragraphsAt)).toBe(Math.ceil(f.length / 16));
    }
  });

  it('round-trips: unpacking the repacked image gives the payload back', () => {
    expect(unpackImage(repackImage(DEBIAN, LAYOUT, payload), LAYOUT, 'repacked').equals(payload)).toBe(true);
  });
});

describe("the registry's BIOS prompt patch", () => {
  it("gives exactly the pinned file, whose payload differs from Debian's only in the wait's immediate", () => {
    const installed = patchFile(DEBIAN, FILE);
    expect(installed.length).toBe(FILE.bytes);
    expect(sha256(installed)).toBe(FILE.sha256);
    const mine = unpackImage(installed, LAYOUT, 'installed');
    const theirs = unpackImage(DEBIAN, LAYOUT, 'debian');
    const differ = [...mine.keys()].filter((i) => mine[i] !== theirs[i]);
    const p = PACKED.patches[0]!;
    // `mov $0x800,%edx` -> `mov $0x133,%edx`: 2,048 ticks -> 307 (0.3 s); two bytes of the immediate change.
    expect(p).toMatchObject({ from: 'ba00080000', to: 'ba33010000' });
    expect(differ).toEqual([p.offset + 1, p.offset + 2]);
  });

  it('a payload off its pin, or a patch that finds other bytes, is refused', () => {
    expect(() => patchFile(DEBIAN, { ...FILE, packed: { ...PACKED, sha256: '0'.repeat(64) } })).toThrow(/packed payload sha256/);
    const other = { ...PACKED, patches: [{ ...PACKED.patches[0]!, from: 'ba00090000' }] };
    expect(() => patchFile(DEBIAN, { ...FILE, packed: other })).toThrow(/the file holds ba00080000, the patch expects ba00090000/);
  });
});

describe('refusals: a file that is not the build the layout was read from', () => {
  it('a stream byte changed: the CRC-32 check', () => {
    const f = Buffer.from(DEBIAN);
    const at = LAYOUT.lengthAt + 5000;
    f[at] = f[at]! ^ 0x40;
    const e = refusal(f);
    expect(e.code).toBe('CC_ERR_LOADER_UNPACK');
    expect(e.message).toMatch(/undionly\.kpxe in ipxe: the stream does not match its CRC-32 check/);
  });

  it('the length field, the size field, a cut file, a layout past the end, another payload size', () => {
    const len = Buffer.from(DEBIAN);
    len.writeUInt32LE(len.readUInt32LE(LAYOUT.lengthAt) + 1, LAYOUT.lengthAt);
    expect(refusal(len).message).toMatch(/length field says 69138 bytes, the file holds 69137/);
    const size = Buffer.from(DEBIAN);
    size.writeUInt16LE(4000, LAYOUT.paragraphsAt);
    expect(refusal(size).message).toMatch(/image size is 4000 paragraphs, the file is 74213 bytes/);
    expect(refusal(DEBIAN.subarray(0, 70_000)).message).toMatch(/length field says/);
    expect(refusal(DEBIAN, { ...LAYOUT, lengthAt: DEBIAN.length }).message).toMatch(/does not fit a file/);
    expect(refusal(DEBIAN, { ...LAYOUT, payloadBytes: 128_000 }).message).toMatch(
      /unpacks to 128001 or more bytes, the layout says 128000/,
    );
    for (const e of [refusal(len), refusal(size)]) expect(e.code).toBe('CC_ERR_LOADER_UNPACK');
  });

  it('a check recomputed over a corrupt stream still does not unpack to the layout', () => {
    // An attacker (or a broken mirror) can fix the CRC; the stream must then still decode to exactly payloadBytes.
    const f = Buffer.from(DEBIAN);
    const end = f.length - 4;
    f.fill(0x55, end - 20_000, end);
    f.writeUInt32LE((crc32(f.subarray(LAYOUT.lengthAt + 4, end)) ^ 0xffffffff) >>> 0, end);
    expect(refusal(f).message).toMatch(/stream (does not unpack|unpacks to)/);
  });
});
