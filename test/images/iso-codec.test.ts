/**
 * The ISO 9660 codecs on sectors written by the real xorriso (test/fixtures/iso, PROVENANCE.md): every
 * directory record and every Rock Ridge entry decodes to the golden value, re-encodes to the same bytes,
 * has the computed length, and round-trips; the walk reads the same tree through Rock Ridge, Joliet and
 * plain ISO 9660 names; and it refuses what a hostile image could carry.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  decodeDirRecord,
  decodeVolumeDescriptor,
  dirRecordLength,
  encodeDirRecord,
  ISO_SECTOR,
  type DirRecord,
} from '../../server/images/iso/iso-records.ts';
import { decodeSusp, encodeSusp, readRockRidge, suspLength } from '../../server/images/iso/rock-ridge.ts';
import { openIso, type IsoEntry } from '../../server/images/iso/iso-walk.ts';
import { memorySource } from '../../server/images/codec/block-source.ts';
import { MalformedPacket } from '../../server/net/malformed.ts';
import { expectGolden } from './golden.ts';
import { run, tmpDir } from './harness/tools.ts';
import { DEB_TREE, makeIso, patchRecord, renameRecord, findRecord } from './harness/iso.ts';

const FX = path.join(import.meta.dirname, '..', 'fixtures', 'iso');
const work = tmpDir('iso-codec');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Every record of one directory sector, with its offset. */
function records(sector: Uint8Array): { off: number; r: DirRecord }[] {
  const out: { off: number; r: DirRecord }[] = [];
  for (let off = 0; off < sector.length && sector[off] !== 0; off += sector[off]!) out.push({ off, r: decodeDirRecord(sector, off) });
  return out;
}

describe.each(['root-dir-rock-ridge', 'root-dir-joliet'])('directory records of %s.bin', (name) => {
  const sector = new Uint8Array(fs.readFileSync(path.join(FX, `${name}.bin`)));
  const recs = records(sector);

  it('decode to the golden value', () => {
    expect(recs.length).toBeGreaterThan(3);
    expectGolden(
      path.join(FX, `${name}.golden.json`),
      recs.map(({ r }) => ({ ...r, rockRidge: readRockRidge(decodeSusp(r.systemUse)) })),
    );
  });

  it('re-encode to the same bytes, with the computed length, and round-trip', () => {
    for (const { off, r } of recs) {
      const bytes = sector.subarray(off, off + sector[off]!);
      expect(dirRecordLength(r)).toBe(bytes.length);
      expect(Buffer.from(encodeDirRecord(r))).toEqual(Buffer.from(bytes));
      expect(decodeDirRecord(encodeDirRecord(r), 0)).toEqual(r);
    }
  });

  it('Rock Ridge entries re-encode to the same bytes, with the computed length, and round-trip', () => {
    for (const { r } of recs) {
      const entries = decodeSusp(r.systemUse);
      // The area may end in a zero pad byte (it keeps records an even length, ECMA-119 9.1.13).
      const len = suspLength(entries);
      expect(r.systemUse.length - len).toBeLessThanOrEqual(1);
      expect([...r.systemUse.subarray(len)].every((b) => b === 0)).toBe(true);
      expect(Buffer.from(encodeSusp(entries))).toEqual(Buffer.from(r.systemUse.subarray(0, len)));
      expect(decodeSusp(encodeSusp(entries))).toEqual(entries);
    }
  });
});

it('the primary volume descriptor decodes to the golden value', () => {
  const vd = decodeVolumeDescriptor(new Uint8Array(fs.readFileSync(path.join(FX, 'pvd-xorriso.bin'))));
  expect(vd).toMatchObject({ type: 1, volumeId: 'CCFIXTURE', logicalBlockSize: 2048 });
  expectGolden(path.join(FX, 'pvd-xorriso.golden.json'), vd);
});

const walk = async (iso: Buffer): Promise<{ names: string; entries: IsoEntry[] }> => {
  const t = await openIso(memorySource(iso));
  const entries: IsoEntry[] = [];
  for await (const e of t.walk()) entries.push(e);
  return { names: t.names, entries: entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
};
const refusal = async (iso: Buffer): Promise<string> => {
  try {
    await walk(iso);
  } catch (e) {
    if (e instanceof MalformedPacket) return e.reason;
    throw e;
  }
  throw new Error('the walk accepted it');
};

describe('the walk', () => {
  const root = path.join(work, 'deb');
  const rr = fs.readFileSync(makeIso(path.join(work, 'rr.iso'), root, DEB_TREE, { 'dists/stable': 'bookworm', debian: '.' }));

  it('reads Rock Ridge names, links and file extents', async () => {
    const { names, entries } = await walk(rr);
    expect(names).toBe('rock-ridge');
    expect(entries.find((e) => e.path === 'dists/stable')).toEqual({ kind: 'symlink', path: 'dists/stable', target: 'bookworm' });
    expect(entries.find((e) => e.path === 'debian')).toEqual({ kind: 'symlink', path: 'debian', target: '.' });
    const deb = entries.find((e) => e.path === 'pool/main/h/hello/hello_2.10-3_amd64.deb');
    expect(deb?.kind === 'file' && rr.subarray(deb.offset, deb.offset + deb.size)).toEqual(
      DEB_TREE['pool/main/h/hello/hello_2.10-3_amd64.deb'],
    );
    expect(entries.filter((e) => e.kind === 'file').map((e) => e.path)).toEqual(Object.keys(DEB_TREE).sort());
  });

  it('reads Joliet names when there is no Rock Ridge, and plain ISO 9660 names without either', async () => {
    const j = path.join(work, 'j.iso');
    const p = path.join(work, 'p.iso');
    run('xorriso', ['-rockridge', 'off', '-joliet', 'on', '-outdev', j, '-map', root, '/']);
    run('xorriso', ['-rockridge', 'off', '-outdev', p, '-map', root, '/']);
    const joliet = await walk(fs.readFileSync(j));
    expect(joliet.names).toBe('joliet');
    expect(joliet.entries.filter((e) => e.kind === 'file').map((e) => e.path)).toEqual(Object.keys(DEB_TREE).sort());
    const plain = await walk(fs.readFileSync(p));
    expect(plain.names).toBe('iso9660');
    expect(plain.entries.map((e) => e.path)).toContain('DISTS/BOOKWORM/RELEASE');
  });

  it('refuses a ".." name, a name with "/", an extent past the end, a directory loop and a special file', async () => {
    const h = path.join(work, 'hostile');
    const iso = fs.readFileSync(makeIso(path.join(work, 'h.iso'), h, { ...DEB_TREE, 'dists/zz': 'x', 'dists/ab': 'y' }));
    expect(await walk(iso)).toMatchObject({ names: 'rock-ridge' });
    expect(await refusal(renameRecord(iso, 'dists/zz', '..'))).toBe(
      'refused name "..": a path component must not be empty, ".", ".." or hold "/" or NUL',
    );
    expect(await refusal(renameRecord(iso, 'dists/ab', 'a/'))).toMatch(/^refused name "a\/"/);
    expect(await refusal(patchRecord(iso, 'pool/main/h/hello/hello_2.10-3_amd64.deb', (r) => ({ ...r, size: 0x7fffffff })))).toMatch(
      /^pool\/main\/h\/hello\/hello_2.10-3_amd64.deb: 2147483647 bytes at block \d+ pass the end of the image/,
    );
    const rootExtent = decodeVolumeDescriptor(iso.subarray(16 * ISO_SECTOR, 17 * ISO_SECTOR)).root!.extent;
    expect(await refusal(patchRecord(iso, 'dists/bookworm/main', (r) => ({ ...r, extent: rootExtent })))).toMatch(
      /^dists\/bookworm\/main: directory loop/,
    );
    const fifoRoot = path.join(work, 'fifo');
    fs.mkdirSync(fifoRoot);
    run('mkfifo', [path.join(fifoRoot, 'pipe')]);
    expect(await refusal(fs.readFileSync(makeIso(path.join(work, 'fifo.iso'), fifoRoot, { 'dists/x/Release': 'x' })))).toMatch(
      /^pipe: special file \(mode 10000\) refused/,
    );
    // The patch helpers go through the decoder and encoder: a renamed record is found under its new name.
    expect(findRecord(renameRecord(iso, 'dists/zz', 'yy'), 'dists/yy').record.size).toBe(1);
  });
});
