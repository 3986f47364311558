/**
 * Stream pieces of the disk import pipeline: a peek at the first bytes (to decide by magic, not by
 * name), a meter that hashes and counts, a sparse file writer (all-zero blocks become holes, so a
 * mostly empty 20 GB image takes its data's size on disk), and decompressors (gzip in-process; zstd
 * and xz through their programs, which Node 20 lacks).
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { Duplex, PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { spawnTool, Tail } from './tool-run.ts';
import { ccError } from '../errors/cc-error.ts';
import type { Compression } from './codec/container.ts';

/** Read the first `n` bytes of a stream (fewer if it ends) and give back a stream that still starts at byte 0. */
export async function peek(src: Readable, n: number): Promise<{ head: Uint8Array; stream: Readable }> {
  const chunks: Buffer[] = [];
  let got = 0;
  // destroyOnReturn false: stopping early must not destroy the source; the rest is piped on below.
  for await (const c of src.iterator({ destroyOnReturn: false })) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    chunks.push(b);
    got += b.length;
    if (got >= n) break;
  }
  const head = Buffer.concat(chunks);
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  out.write(head);
  if (src.readableEnded) out.end();
  else {
    // The loop above stopped reading without ending the source; pipe the rest.
    src.on('error', (e) => out.destroy(e));
    src.pipe(out);
  }
  return { head: new Uint8Array(head.buffer, head.byteOffset, Math.min(head.length, n)), stream: out };
}

/** Hashes and counts what flows through; `limit` bytes at most (a decompression bomb stops there). */
export class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(
    private readonly limit: number,
    private readonly onBytes?: (n: number) => void,
  ) {
    super({ highWaterMark: 1 << 20 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit)
      return cb(ccError('CC_ERR_DISK_IMAGE_INVALID', `the image is larger than ${this.limit} bytes (the import limit)`));
    this.hash.update(chunk);
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }
  /** The hex digest (call once, after the end). */
  digest(): string {
    return this.hash.digest('hex');
  }
}

const BLOCK = 64 * 1024;
const ZERO = Buffer.alloc(BLOCK);

/**
 * Write a stream to `file`, leaving all-zero 64 KiB blocks as holes. `done` is the size once the file is synced and
 * closed; `settled()`, as a FileSink's (server/store/file-sink.ts), destroys the writer if the pipeline left it open
 * and resolves once nothing holds the file (a write in flight has ended and the handle is closed), so a failed
 * import can remove it, and its folder, for good.
 */
export function sparseFileWriter(file: string): Writable & { done: Promise<number>; settled(): Promise<void> } {
  let fh: fsp.FileHandle | null = null;
  let pos = 0;
  let pending: Buffer = Buffer.alloc(0);
  let resolveDone!: (n: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  /** The write or final step running now: destroy waits for it, as it may be opening the file. */
  let busy: Promise<unknown> = Promise.resolve();
  const flush = async (b: Buffer) => {
    for (let o = 0; o < b.length; o += BLOCK) {
      const part = b.subarray(o, Math.min(b.length, o + BLOCK));
      if (!(part.length === BLOCK && part.equals(ZERO))) await fh!.write(part, 0, part.length, pos + o);
    }
    pos += b.length;
  };
  const step = (cb: (e?: Error | null) => void, body: () => Promise<void>) => {
    busy = body().then(
      () => cb(),
      (e: unknown) => cb(e as Error),
    );
  };
  const w = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      step(cb, async () => {
        fh ??= await fsp.open(file, 'w', 0o644);
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        const whole = pending.length - (pending.length % BLOCK);
        if (whole) await flush(pending.subarray(0, whole));
        pending = Buffer.from(pending.subarray(whole));
      });
    },
    final(cb) {
      step(cb, async () => {
        fh ??= await fsp.open(file, 'w', 0o644);
        if (pending.length) await flush(pending);
        await fh.truncate(pos);
        await fh.sync();
        const h = fh;
        fh = null;
        await h.close();
        resolveDone(pos);
      });
    },
    destroy(err, cb) {
      void busy
        .catch(() => {})
        .then(async () => {
          const h = fh;
          fh = null;
          await h?.close().catch(() => {});
        })
        .then(() => cb(err));
    },
  });
  const closed = new Promise<void>((r) => w.once('close', () => r()));
  return Object.assign(w, {
    done,
    settled: () => {
      w.destroy();
      return closed;
    },
  });
}

/** A decompressing stage for `c` (zstd/xz run as programs with their default memory limits). */
export function decompressor(c: Exclude<Compression, 'none'>): Duplex {
  if (c === 'gzip') return createGunzip({ chunkSize: 1 << 20 });
  const tool = c === 'zstd' ? 'zstd' : 'xz';
  const child = spawnTool(tool, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const tail = new Tail();
  child.stderr!.on('data', (d: Buffer) => tail.push(d.toString()));
  // The output ends only once the program said it succeeded: truncated or corrupt input must never
  // look like a shorter image.
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  child.stdout!.pipe(out, { end: false });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else
      out.destroy(
        ccError(
          'CC_ERR_DISK_IMAGE_INVALID',
          `the ${c} data is corrupt or truncated: ${tail.text() || `${tool} exited with ${signal ?? code}`}`,
        ),
      );
  });
  child.on('error', (e) => out.destroy(e));
  const d = Duplex.from({ writable: child.stdin!, readable: out });
  d.on('close', () => child.kill());
  return d;
}
