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
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const h = await fs.open(tmp, 'wx', mode);
  try {
    await h.writeFile(data);
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
