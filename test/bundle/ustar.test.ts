/**
 * The pure ustar codec (server/bundle/ustar.ts): archives written by GNU tar and Python's tarfile
 * tested four ways (decode to the golden value, re-encode to the same bytes, computed length, round
 * trip), the base-256 size form, every hostile header we refuse, and a fuzz run that proves nothing
 * but the one typed error escapes.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { MalformedPacket } from '../../server/net/malformed.ts';
import {
  BLOCK,
  MAX_OCTAL_SIZE,
  RECORD,
  decodeArchive,
  decodeHeader,
  encodeArchive,
  encodeHeader,
  encodedLength,
  headerChecksum,
  splitPoint,
  type TarEntry,
  type TarHeader,
} from '../../server/bundle/ustar.ts';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'bundle');
const UPDATE = process.env.CC_UPDATE_GOLDEN === '1';
const FIXTURES = ['gnu-tar-1.34-ustar.tar', 'python3-tarfile-ustar.tar'];

/** The golden form: headers as they are, data as text (the fixtures hold text only). */
const golden = (entries: TarEntry[]) => entries.map((e) => ({ header: e.header, text: Buffer.from(e.data).toString('utf8') }));
const fromGolden = (g: ReturnType<typeof golden>): TarEntry[] =>
  g.map((e) => ({ header: e.header, data: new Uint8Array(Buffer.from(e.text, 'utf8')) }));

const header = (over: Partial<TarHeader> = {}): TarHeader => ({
  path: 'loaders/undionly.kpxe',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 5,
  mtime: 1_700_000_000,
  typeflag: '0',
  type: 'file',
  linkname: '',
  uname: '',
  gname: '',
  devmajor: 0,
  devminor: 0,
  ...over,
});
const archive = (...entries: TarEntry[]) => encodeArchive(entries);
const file = (p: string, text: string, over: Partial<TarHeader> = {}): TarEntry => ({
  header: header({ path: p, size: Buffer.byteLength(text), ...over }),
  data: new Uint8Array(Buffer.from(text)),
});
/** Rewrite one header field and fix the checksum, as a hostile writer would. */
function patch(block: Uint8Array, off: number, bytes: number[] | string): Uint8Array {
  const b = block.slice();
  const v = typeof bytes === 'string' ? [...Buffer.from(bytes, 'latin1')] : bytes;
  b.set(v, off);
  b.fill(0x20, 148, 156);
  const sum = headerChecksum(b).toString(8).padStart(6, '0');
  b.set([...Buffer.from(sum), 0, 0x20], 148);
  return b;
}
const malformed = (f: () => unknown, reason: RegExp) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedPacket);
    expect((e as MalformedPacket).protocol).toBe('ustar');
    expect((e as MalformedPacket).reason).toMatch(reason);
    return;
  }
  throw new Error('expected MalformedPacket');
};

describe.each(FIXTURES)('fixture %s, four ways', (name) => {
  const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, name)));
  const goldenFile = path.join(DIR, name.replace(/\.tar$/, '.json'));
  if (UPDATE) fs.writeFileSync(goldenFile, JSON.stringify(golden(decodeArchive(bytes)), null, 2) + '\n');
  const want = JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as ReturnType<typeof golden>;

  it('decodes to the golden value', () => {
    expect(golden(decodeArchive(bytes))).toEqual(want);
  });
  it('re-encodes to the same bytes', () => {
    expect(Buffer.from(encodeArchive(fromGolden(want))).equals(Buffer.from(bytes))).toBe(true);
  });
  it('has the computed length', () => {
    expect(encodedLength(fromGolden(want))).toBe(bytes.length);
    expect(bytes.length % RECORD).toBe(0);
  });
  it('round-trips', () => {
    const e = decodeArchive(bytes);
    expect(decodeArchive(encodeArchive(e))).toEqual(e);
  });
});

describe('fields', () => {
  it('splits a long path at the last slash the prefix can hold, as GNU tar does', () => {
    const p = `images/${'b'.repeat(60)}/${'c'.repeat(60)}/f.txt`;
    expect(p.slice(0, splitPoint(p))).toBe(`images/${'b'.repeat(60)}/${'c'.repeat(60)}`);
    expect(splitPoint('short/name')).toBe(-1);
    expect(() => encodeHeader(header({ path: 'x'.repeat(101) }))).toThrow(RangeError); // no slash: cannot be held
  });

  it('writes sizes past 8 GiB in base-256 and reads them back', () => {
    const size = 9 * 1024 ** 3 + 7;
    const h = encodeHeader(header({ size }));
    expect(h[124]).toBe(0x80);
    expect(decodeHeader(h).size).toBe(size);
    expect(decodeHeader(encodeHeader(header({ size: MAX_OCTAL_SIZE }))).size).toBe(MAX_OCTAL_SIZE);
    expect(encodeHeader(header({ size: MAX_OCTAL_SIZE }))[124]).toBe(0x37); // still octal
  });

  it('keeps an empty device field empty and a zero one zero', () => {
    expect(decodeHeader(encodeHeader(header({ devmajor: null, devminor: null }))).devmajor).toBeNull();
    expect(decodeHeader(encodeHeader(header())).devmajor).toBe(0);
  });

  it('names every member type', () => {
    const types = {
      '2': 'symlink',
      '1': 'hardlink',
      '3': 'char-device',
      '4': 'block-device',
      '6': 'fifo',
      '5': 'directory',
      x: 'pax-header',
      L: 'gnu-longname',
      Z: 'unknown',
    };
    for (const [flag, type] of Object.entries(types))
      expect(decodeHeader(encodeHeader(header({ typeflag: flag, size: 0 }))).type).toBe(type);
  });
});

describe('hostile headers are refused with the one typed error', () => {
  const good = encodeHeader(header());
  it('a wrong checksum', () => {
    const b = good.slice();
    b[0] = 0x4d; // 'M' instead of 'l', checksum left as it was
    malformed(() => decodeHeader(b), /checksum/);
  });
  it('the old GNU magic, or no magic', () => {
    malformed(() => decodeHeader(patch(good, 257, 'ustar  \0')), /magic/);
    malformed(() => decodeHeader(patch(good, 257, [0, 0, 0, 0, 0, 0])), /magic/);
  });
  it('non-octal digits and garbage in number fields', () => {
    malformed(() => decodeHeader(patch(good, 124, '0000000009\0')), /size: not an octal digit/);
    malformed(() => decodeHeader(patch(good, 100, '0644\0xy\0')), /mode: garbage/);
  });
  it('a negative base-256 size', () => {
    malformed(() => decodeHeader(patch(good, 124, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), /negative/);
  });
  it('a truncated header block', () => malformed(() => decodeHeader(good.slice(0, 300)), /truncated/));
  it('a member claiming more bytes than the archive has', () => {
    const a = archive(file('a', 'hello'));
    const h = patch(a.slice(0, BLOCK), 124, '00000100000\0');
    const b = a.slice();
    b.set(h, 0);
    malformed(() => decodeArchive(b), /claims 32768 bytes/);
  });
  it('no end-of-archive blocks, one zero block then data, data after the end', () => {
    const a = archive(file('a', 'hello'));
    malformed(() => decodeArchive(a.slice(0, BLOCK * 2)), /without its two zero blocks/);
    const b = a.slice();
    b.set(encodeHeader(header({ path: 'b', size: 0 })), BLOCK * 3);
    malformed(() => decodeArchive(b), /after one zero block|data after/);
    const c = a.slice();
    c[c.length - 1] = 1;
    malformed(() => decodeArchive(c), /data after the end-of-archive/);
  });
});

describe('fuzz', () => {
  const base = new Uint8Array(fs.readFileSync(path.join(DIR, FIXTURES[0]!)));
  it('mutated archives decode or throw MalformedPacket, nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 24 }),
        (edits) => {
          const b = base.slice();
          for (const [at, v] of edits) b[at] = v;
          try {
            decodeArchive(b);
          } catch (e) {
            if (!(e instanceof MalformedPacket)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
  it('random bytes decode or throw MalformedPacket', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 4 * BLOCK }), (b) => {
        try {
          decodeArchive(b);
        } catch (e) {
          if (!(e instanceof MalformedPacket)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
