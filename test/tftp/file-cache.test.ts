/**
 * DATA packets laid out once: every block of a run is a complete packet with the right (rolling) block
 * number and payload; the cache shares one load between concurrent transfers, reads a replaced file
 * afresh, and stays within its byte budget.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PacketRun } from '../../server/tftp/packet-run.ts';
import { FileCache } from '../../server/tftp/file-cache.ts';
import { openConfined } from '../../server/tftp/resolve-path.ts';
import { decode, Opcode } from '../../server/tftp/codec.ts';

let dir: string;
const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-tftp-cache-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function open(name: string) {
  const o = await openConfined([dir], name);
  if (!o.ok) throw new Error(o.message);
  return o;
}

describe('PacketRun', () => {
  it.each([
    [0, 512],
    [511, 512],
    [512, 512],
    [513, 512],
    [8 * 70_000 + 3, 8], // past the 16-bit rollover, more slots than one readv takes
  ])('a %i-byte file at blksize %i: every packet decodes to its block and bytes', async (size, blksize) => {
    const data = bytes(size, size);
    await fs.writeFile(path.join(dir, 'f'), data);
    const o = await open('f');
    const count = Math.floor(size / blksize) + 1;
    const run = await new PacketRun(1, count, blksize, size).fill(o.fh);
    await o.fh.close();
    expect(run.payloadBytes).toBe(size);
    const got: Buffer[] = [];
    for (let abs = 1; abs <= count; abs++) {
      const p = decode(run.packet(abs));
      if (p.op !== Opcode.DATA) throw new Error('not DATA');
      expect(p.block).toBe(abs & 0xffff);
      got.push(Buffer.from(p.data));
    }
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(run.packet(count).length - 4).toBe(size % blksize); // RFC 1350 6: the last block is short, possibly empty
  });

  it('a run in the middle of a file, and a file that shrank under it', async () => {
    const data = bytes(10_000, 3);
    await fs.writeFile(path.join(dir, 'mid'), data);
    const o = await open('mid');
    const run = await new PacketRun(5, 3, 512, data.length).fill(o.fh);
    expect(decode(run.packet(6))).toMatchObject({ op: Opcode.DATA, block: 6 });
    expect(Buffer.from((decode(run.packet(7)) as { data: Uint8Array }).data).equals(data.subarray(6 * 512, 7 * 512))).toBe(true);
    await expect(new PacketRun(1, 40, 512, 20_000).fill(o.fh)).rejects.toThrow(/shrank/);
    await o.fh.close();
  });
});

describe('FileCache', () => {
  it('shares one load, serves hits from memory, and reads a replaced file afresh', async () => {
    const cache = new FileCache();
    await fs.writeFile(path.join(dir, 'loader'), bytes(3000, 1));
    const a = await open('loader');
    const b = await open('loader');
    const [ra, rb] = await Promise.all([cache.get(a.version, a.fh, a.size, 1468), cache.get(b.version, b.fh, b.size, 1468)]);
    expect(ra).toBe(rb);
    expect(cache.loads).toBe(1);
    expect(await cache.get(a.version, a.fh, a.size, 512)).not.toBe(ra); // another blksize, another layout
    await Promise.all([a.fh.close(), b.fh.close()]);
    // Replaced (new inode): the next transfer gets the new bytes.
    await fs.writeFile(path.join(dir, 'loader.new'), bytes(3000, 2));
    await fs.rename(path.join(dir, 'loader.new'), path.join(dir, 'loader'));
    const c = await open('loader');
    const rc = await cache.get(c.version, c.fh, c.size, 1468);
    await c.fh.close();
    expect(rc).not.toBe(ra);
    expect(Buffer.from((decode(rc.packet(1)) as { data: Uint8Array }).data).equals(bytes(3000, 2).subarray(0, 1468))).toBe(true);
  });

  it('keeps within its byte budget, least recently used out, and leaves big files to streaming', async () => {
    const cache = new FileCache(10_000, 25_000);
    expect(cache.fits(10_000)).toBe(true);
    expect(cache.fits(10_001)).toBe(false);
    const runs = [];
    for (const n of ['c1', 'c2', 'c3']) {
      await fs.writeFile(path.join(dir, n), bytes(10_000, n.charCodeAt(1)));
      const o = await open(n);
      runs.push({ o, run: await cache.get(o.version, o.fh, o.size, 512) });
    }
    expect(cache.size).toBeLessThanOrEqual(25_000);
    expect(await cache.get(runs[2]!.o.version, runs[2]!.o.fh, 10_000, 512)).toBe(runs[2]!.run); // newest kept
    expect(await cache.get(runs[0]!.o.version, runs[0]!.o.fh, 10_000, 512)).not.toBe(runs[0]!.run); // oldest was evicted
    for (const r of runs) await r.o.fh.close();
  });
});
