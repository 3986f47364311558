/**
 * sha256 of files on disk, remembered by (path, size, mtime, inode) so the readiness table a running
 * appliance serves does not rehash a 60 MB microkernel on every request. A changed file has a new
 * mtime or inode (every install renames a fresh file into place), so it is hashed again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** One remembered digest. */
interface Entry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** A cache of file digests; one per appliance, or a fresh one per CLI run. */
export class HashCache {
  private readonly entries = new Map<string, Entry>();

  /** The lowercase hex sha256 of `file` (streamed), or null when it is not a readable regular file. */
  async sha256(file: string): Promise<string | null> {
    const st = await fs.promises.lstat(file).catch(() => null);
    if (!st?.isFile()) return null;
    const hit = this.entries.get(file);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return hit.sha256;
    const sum = await new Promise<string | null>((resolve) => {
      const h = createHash('sha256');
      fs.createReadStream(file)
        .on('data', (d) => h.update(d))
        .once('end', () => resolve(h.digest('hex')))
        .once('error', () => resolve(null));
    });
    if (sum) this.entries.set(file, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: sum });
    return sum;
  }
}
