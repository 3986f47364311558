/**
 * Replace files so that a crash leaves the old or the new content, never a
 * mix and never nothing: write a temp file, fsync it, rename it over the
 * target, fsync the directory (the rename itself lives in the directory's
 * data; without that fsync a power loss can undo it, see rename(2) and
 * fsync(2) on "the entry in the directory").
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsync a directory, making renames and creations inside it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Rename `from` to `to`, then fsync the directory (or both, when they differ). */
export async function renameDurably(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
}

/** Write `data` to `file` atomically and durably with `mode` (temp + fsync + rename + fsync dir). */
export async function writeFileDurably(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  await replaceDurably(file, mode, (h) => h.writeFile(data));
}

/** Lines per write of `writeLinesDurably`: each write is one short task of the event loop (a few hundred KiB). */
export const LINES_PER_WRITE = 2000;

/**
 * `writeFileDurably` of `lines` (each followed by a newline), written `LINES_PER_WRITE` at a time. One string of
 * a large file (the event log's 200,000 lines) is joined and encoded in one go, a task of hundreds of milliseconds
 * that stalls DHCP, TFTP and HTTP alike; written in pieces, every piece's write lets the event loop run.
 */
export async function writeLinesDurably(file: string, lines: readonly string[], mode = 0o600): Promise<void> {
  await replaceDurably(file, mode, async (h) => {
    for (let i = 0; i < lines.length; i += LINES_PER_WRITE) await h.write(lines.slice(i, i + LINES_PER_WRITE).join('\n') + '\n');
  });
}

/**
 * `writeFileDurably` of byte pieces: one writev(2) per piece (a piece is a list of views, e.g. of the event
 * ring's arena), the event loop running between pieces, as `writeLinesDurably` does for strings.
 */
export async function writePiecesDurably(file: string, pieces: readonly (readonly Buffer[])[], mode = 0o600): Promise<void> {
  await replaceDurably(file, mode, async (h) => {
    for (const p of pieces) await writevAll(h, p);
  });
}

/** writev(2) all of `bufs` at the handle's position (the end, when opened for appending), resuming a short write. */
export async function writevAll(h: fs.FileHandle, bufs: readonly Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await h.writev(rest);
    if (bytesWritten === 0) throw new Error(`writev wrote nothing to ${String(h.fd)}`);
    const left: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        left.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = left;
  }
}

/** The temp file, its fsync, the rename and the directory fsync around `write`. */
async function replaceDurably(file: string, mode: number, write: (h: fs.FileHandle) => Promise<unknown>): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const h = await fs.open(tmp, 'wx', mode);
  try {
    await write(h);
    await h.sync();
  } catch (e) {
    await h.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  try {
    await renameDurably(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** fsync one file by name (after a copy or a streamed write). */
export async function fsyncFile(file: string): Promise<void> {
  const h = await fs.open(file, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
