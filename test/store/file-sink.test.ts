/**
 * server/store/file-sink.ts: the file is there before a byte moves, and once `settled()` resolves nothing makes
 * or holds it again, so a cleanup's removal is final even when the pipeline failed at once.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileSink } from '../../server/store/file-sink.ts';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-sink-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('openFileSink', () => {
  it('writes what the pipeline carries, with the mode asked for', async () => {
    const f = path.join(dir, 'a');
    const sink = await openFileSink(f, 'wx', 0o600);
    await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), sink.out);
    await sink.settled();
    expect(await fs.readFile(f, 'utf8')).toBe('hello world');
    expect((await fs.stat(f)).mode & 0o777).toBe(0o600);
  });

  it("'wx' refuses a file that exists; 'w' truncates it", async () => {
    const f = path.join(dir, 'b');
    await fs.writeFile(f, 'old contents');
    await expect(openFileSink(f, 'wx', 0o644)).rejects.toMatchObject({ code: 'EEXIST' });
    const sink = await openFileSink(f, 'w', 0o644);
    await pipeline(Readable.from([Buffer.from('new')]), sink.out);
    await sink.settled();
    expect(await fs.readFile(f, 'utf8')).toBe('new');
  });

  it('a pipeline that fails at once, then settled() and a removal: the file stays gone (200 times)', async () => {
    for (let i = 0; i < 200; i++) {
      const f = path.join(dir, `.part-${i}`);
      const sink = await openFileSink(f, 'wx', 0o644);
      const gone = new Readable({
        read() {
          this.destroy(new Error('client went away'));
        },
      });
      await expect(pipeline(gone, sink.out)).rejects.toThrow(/client went away/);
      await sink.settled();
      await fs.rm(f, { force: true });
    }
    await sleep(50);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('settled() after a pipeline that finished resolves at once and leaves the file', async () => {
    const f = path.join(dir, 'c');
    const sink = await openFileSink(f, 'wx', 0o644);
    await pipeline(Readable.from([Buffer.from('x')]), sink.out);
    await sink.settled();
    await sink.settled();
    expect(await fs.readFile(f, 'utf8')).toBe('x');
  });
});
