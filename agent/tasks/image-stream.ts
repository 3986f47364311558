/**
 * Stream a zstd disk image from the node plane straight onto a disk: HTTP body -> `zstd -dc` -> the block
 * device, never a full copy in RAM. A dropped connection is resumed with an HTTP Range request from the
 * last compressed byte received (RFC 9110 14.2); the decompressor keeps running across the break, so it
 * never sees it. The compressed stream is checked against `stored_sha256` at the end.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { loadHttps } from '../loop/lazy-https.ts';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskError } from './task-error.ts';

/** What to fetch and where to put it. */
export interface StreamOptions {
  url: string;
  storedSize: number;
  storedSha256: string;
  /** Uncompressed size: exactly this many bytes must come out of the decompressor. */
  size: number;
  diskPath: string;
  /** The zstd binary (from the tools overlay). */
  zstd?: string;
  /** How many times a dropped download is resumed before the deploy fails. */
  maxResumes?: number;
  /** A connection silent this long is dropped and resumed. */
  idleTimeoutMs?: number;
  /** Called with uncompressed bytes written so far (the caller batches reports). */
  onProgress?: (written: number, resumes: number) => void;
  onResume?: (offset: number, why: string) => void;
}

/** What the stream did. */
export interface StreamResult {
  written: number;
  resumes: number;
  seconds: number;
}

/** One GET from `offset`; resolves at the end of the body, rejects when the connection breaks. */
async function fetchFrom(url: string, offset: number, idleMs: number, sink: (c: Buffer) => Promise<void>): Promise<number> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? await loadHttps() : http;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const req = mod.get(u, { headers, timeout: idleMs }, (res) => {
      const want = offset > 0 ? 206 : 200;
      if (res.statusCode !== want) {
        res.resume();
        const fatal = res.statusCode === 404 || res.statusCode === 416 || (offset > 0 && res.statusCode === 200);
        reject(Object.assign(new Error(`GET ${u.pathname}: HTTP ${res.statusCode} (wanted ${want})`), { fatal }));
        return;
      }
      let got = 0;
      res.on('data', (c: Buffer) => {
        res.pause();
        got += c.length;
        sink(c).then(
          () => res.resume(),
          (e: unknown) => req.destroy(e instanceof Error ? e : new Error(String(e))),
        );
      });
      res.on('end', () => resolve(got));
      res.on('aborted', () => reject(new Error('connection dropped mid-body')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no data for ${idleMs} ms`)));
    req.on('error', reject);
  });
}

/** Download, decompress and write; throws TaskError (download-failed, checksum-mismatch, write-error). */
export async function streamImageToDisk(o: StreamOptions): Promise<StreamResult> {
  const t0 = Date.now();
  const zstd = spawn(o.zstd ?? 'zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let zstdErr = '';
  zstd.stderr.on('data', (c: Buffer) => (zstdErr = (zstdErr + c.toString()).slice(-2000)));
  const zstdExit = once(zstd, 'exit') as Promise<[number | null, string | null]>;
  zstd.stdin.on('error', () => undefined); // reported through the exit code

  const out = fs.createWriteStream(o.diskPath, { flags: 'r+', highWaterMark: 4 << 20 });
  let written = 0;
  let resumes = 0;
  let writeErr: Error | null = null;
  out.on('error', (e) => {
    writeErr = e;
    zstd.kill(); // a blocked decompressor would never exit
  });
  zstd.stdout.on('data', (c: Buffer) => {
    written += c.length;
    if (written > o.size) {
      writeErr = new TaskError('checksum-mismatch', `the image decompresses to more than its recorded ${o.size} bytes`);
      zstd.kill();
      return;
    }
    if (!out.write(c)) {
      zstd.stdout.pause();
      out.once('drain', () => zstd.stdout.resume());
    }
    o.onProgress?.(written, resumes);
  });
  // 'close' follows both a finished and a failed write stream.
  const outDone = new Promise<void>((resolve) => out.on('close', () => resolve()));
  zstd.stdout.on('end', () => out.end());

  const compressed = createHash('sha256');
  let offset = 0;
  const sink = async (c: Buffer): Promise<void> => {
    if (writeErr) throw writeErr;
    const take = c.subarray(0, Math.max(0, o.storedSize - offset));
    compressed.update(take);
    offset += take.length;
    if (!zstd.stdin.write(take)) await once(zstd.stdin, 'drain');
  };
  const maxResumes = o.maxResumes ?? 20;
  while (offset < o.storedSize) {
    try {
      await fetchFrom(o.url, offset, o.idleTimeoutMs ?? 30_000, sink);
      if (offset < o.storedSize) throw new Error(`body ended at ${offset} of ${o.storedSize} bytes`);
    } catch (e) {
      if (writeErr) break;
      const msg = e instanceof Error ? e.message : String(e);
      if ((e as { fatal?: boolean }).fatal || resumes >= maxResumes) {
        zstd.kill();
        throw new TaskError('download-failed', `${msg} after ${resumes} resumes at byte ${offset} of ${o.storedSize}`);
      }
      resumes++;
      o.onResume?.(offset, msg);
      await sleep(Math.min(1000 * 2 ** Math.min(resumes - 1, 4), 15_000));
    }
  }
  zstd.stdin.end();
  const [code] = await zstdExit;
  await outDone.catch(() => undefined);
  if (writeErr) {
    const e: Error = writeErr;
    if (e instanceof TaskError) throw e;
    throw new TaskError('write-error', `writing ${o.diskPath} failed at byte ${written}: ${e.message}`);
  }
  const got = compressed.digest('hex');
  if (got !== o.storedSha256)
    throw new TaskError('checksum-mismatch', `the downloaded image has sha256 ${got}, the appliance recorded ${o.storedSha256}`);
  if (code !== 0) throw new TaskError('checksum-mismatch', `zstd could not decompress the image (exit ${code}): ${zstdErr.trim()}`);
  if (written !== o.size)
    throw new TaskError('checksum-mismatch', `the image decompressed to ${written} bytes, the appliance recorded ${o.size}`);
  const fd = fs.openSync(o.diskPath, 'r+');
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    throw new TaskError('write-error', `flushing ${o.diskPath} failed: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
  return { written, resumes, seconds: (Date.now() - t0) / 1000 };
}

/** sha256 of the first `size` bytes of the disk, read back after dropping the page cache. */
export async function readBackSha256(diskPath: string, size: number, onProgress?: (n: number) => void): Promise<string> {
  try {
    // The kernel must read the medium, not the pages it just wrote (Documentation/admin-guide/sysctl/vm.rst).
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch {
    /* not root or not Linux (tests on a file): the file is read as is */
  }
  const h = createHash('sha256');
  let n = 0;
  const rs = fs.createReadStream(diskPath, { start: 0, end: size - 1, highWaterMark: 4 << 20 });
  for await (const c of rs) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
    onProgress?.(n);
  }
  if (n !== size) throw new TaskError('write-error', `read back ${n} of ${size} bytes from ${diskPath}`);
  return h.digest('hex');
}
