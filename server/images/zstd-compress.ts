/**
 * Compress the staged raw image into the zstd file the agent will stream (zstd decompresses several
 * times faster than xz on a slow CPU, and the CLI's default memory limit accepts it). The level is a
 * trade between import time and bytes on the wire (docs/images.md has the measurements).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Duplex, PassThrough } from 'node:stream';
import { spawnTool, Tail } from './tool-run.ts';
import { Meter } from './stream-parts.ts';
import { ccError } from '../errors/cc-error.ts';

/** Default zstd level for imports and builds (`--zstd-level`). */
export const DEFAULT_ZSTD_LEVEL = 9;

/** Compress `src` to `dest`; returns the compressed size and sha256, and the source's. */
export async function zstdCompressFile(
  src: string,
  dest: string,
  level: number,
  onBytes?: (rawBytesRead: number) => void,
): Promise<{ size: number; sha256: string; sourceSize: number; sourceSha256: string }> {
  if (!Number.isInteger(level) || level < 1 || level > 19) throw ccError('CC_ERR_CONFIG_INVALID', `zstd level ${level} is outside 1..19`);
  // -T0: every core; --no-progress: we show our own. Output is deterministic whatever the thread count.
  const child = spawnTool('zstd', ['-q', `-${level}`, '-T0', '-c', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const tail = new Tail();
  child.stderr!.on('data', (d: Buffer) => tail.push(d.toString()));
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  child.stdout!.pipe(out, { end: false });
  child.on('close', (code) =>
    code === 0 ? out.end() : out.destroy(ccError('CC_ERR_IMAGE_IMPORT', `zstd failed: ${tail.text() || code}`)),
  );
  const reader = new Meter(Number.MAX_SAFE_INTEGER, onBytes);
  const written = new Meter(Number.MAX_SAFE_INTEGER);
  await pipeline(
    createReadStream(src, { highWaterMark: 1 << 20 }),
    reader,
    Duplex.from({ writable: child.stdin!, readable: out }),
    written,
    createWriteStream(dest, { mode: 0o644 }),
  );
  return { size: written.bytes, sha256: written.digest(), sourceSize: reader.bytes, sourceSha256: reader.digest() };
}
