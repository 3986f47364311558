/**
 * Sending a byte range of a file too large for the asset cache (an OS image):
 * 2 MiB reads into buffers from a shared free list, written to the socket with
 * at most two chunks in flight, the next read overlapping the write. Per chunk
 * there is one read and one write; no stream machinery, and no fresh 1 MiB
 * buffer per chunk (at fs.createReadStream's 64 KiB, and then with a fresh
 * buffer per chunk, the garbage collector took more CPU than the copies).
 */
import fs from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** One read and one write per this many bytes. */
export const ASSET_STREAM_CHUNK_BYTES = 2 * 1024 * 1024;
/** Chunks written but not yet taken by the kernel, per transfer (memory: 4 MiB per streaming client). */
const MAX_IN_FLIGHT = 2;
/** Free buffers kept for reuse across transfers (32 MiB at most). */
const POOL_MAX = 16;

/** Free chunk buffers shared by the transfers of one node plane. */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** A chunk buffer (reused when one is free). */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(ASSET_STREAM_CHUNK_BYTES);
  }
  /** Hand a buffer back once the kernel has taken its bytes. */
  give(b: Buffer): void {
    if (this.free.length < POOL_MAX) this.free.push(b);
  }
}

/**
 * Write bytes `start..end` (inclusive) of `file` to `res`, whose headers are set; ends the response.
 * Resolves when done or when the client went away. A read error after the headers went out can only
 * cut the connection (the client sees a short body against Content-Length).
 */
export async function streamFileRange(res: ServerResponse, file: string, start: number, end: number, pool: ChunkPool): Promise<void> {
  let gone = false;
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const resume = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onClose = () => {
    gone = true;
    resume();
  };
  res.once('close', onClose);
  let fh: fs.FileHandle | null = null;
  try {
    fh = await fs.open(file, 'r');
    let pos = start;
    while (pos <= end && !gone) {
      const buf = pool.take();
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end + 1 - pos), pos);
      if (bytesRead === 0) throw new Error(`${file} shrank while it was being sent`);
      pos += bytesRead;
      inFlight++;
      res.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), (err) => {
        inFlight--;
        if (!err) pool.give(buf);
        resume();
      });
      while (inFlight >= MAX_IN_FLIGHT && !gone) await new Promise<void>((r) => (wake = r));
    }
    if (!gone) res.end();
  } catch (e) {
    res.destroy(e as Error);
  } finally {
    res.removeListener('close', onClose);
    await fh?.close().catch(() => undefined);
  }
}
