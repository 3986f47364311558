/**
 * Pinned files on disk: does a file hold exactly the pinned bytes, and a durable, atomic install of
 * bytes under a name (temp file, fsync, rename, fsync of the folder), so a reader or a SIGKILL never
 * sees half a loader.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Lowercase hex sha256 of a buffer. */
export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** True when `file` is a regular file (not a symlink) of `bytes` bytes whose sha256 is `sha256`. */
export async function fileMatchesPin(file: string, sha256: string, bytes: number): Promise<boolean> {
  const st = await lstat(file).catch(() => null);
  if (!st?.isFile() || st.size !== bytes) return false;
  return sha256Hex(await readFile(file)) === sha256;
}

/** Write `data` to `file` atomically and durably (readers see the old file or the whole new one). */
export async function installAtomically(file: string, data: Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // The rename is durable only once the folder's entry is on disk.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
