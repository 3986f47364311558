/**
 * Files the node plane serves most (the microkernel's kernel and initrd, first-
 * stage loaders) kept in memory per file version: every boot pulls the same
 * 50-60 MB, and a reply that is a slice of one Buffer goes to the socket with
 * no read and no copy in user space (Node has no sendfile; reading 64 KiB at a
 * time through a stream cost 2 s of CPU per GB). Keyed by path, checked
 * against the file's device, inode, size and change times on every request, so
 * an import that replaces a file is served at once. Bounded in bytes, least
 * recently used out; larger files (OS images) are streamed (asset-stream.ts).
 * The copying path: used with `--http-copy`, where the sendfile(2) addon is not
 * built, and for a pipelined response that has no socket of its own yet
 * (asset-sendfile.ts sends everything else).
 */
import fs from 'node:fs/promises';

/** Files up to this size are kept: the microkernel initrd is ~50 MB, its budget 45 MB (issue 17). */
export const ASSET_CACHE_FILE_MAX_BYTES = 128 * 1024 * 1024;
/** All kept files together: a microkernel, loaders and a couple of installer kernels/initrds. */
export const ASSET_CACHE_TOTAL_MAX_BYTES = 256 * 1024 * 1024;

interface Entry {
  version: string;
  data: Promise<Buffer>;
  bytes: number;
}

/** The in-memory asset cache. */
export class AssetCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly fileMax = ASSET_CACHE_FILE_MAX_BYTES,
    private readonly totalMax = ASSET_CACHE_TOTAL_MAX_BYTES,
  ) {}

  /** True when a file of `size` bytes is kept rather than streamed. */
  fits(size: number): boolean {
    return size <= this.fileMax && size <= this.totalMax;
  }

  /** The contents of `file` at `version` (read once; concurrent requests share the read). */
  get(file: string, version: string, size: number): Promise<Buffer> {
    const e = this.entries.get(file);
    if (e && e.version === version) {
      this.entries.delete(file); // most recently used goes last
      this.entries.set(file, e);
      return e.data;
    }
    if (e) this.drop(file, e);
    const data = fs.readFile(file).then((b) => {
      // Changed between stat and read: serve what was read, but do not keep it under the old version.
      if (b.length !== size) this.drop(file, entry);
      return b;
    });
    const entry: Entry = { version, data, bytes: size };
    data.catch(() => this.drop(file, entry));
    this.entries.set(file, entry);
    this.bytes += size;
    for (const [k, old] of this.entries) {
      if (this.bytes <= this.totalMax || old === entry) break;
      this.drop(k, old);
    }
    return data;
  }

  private drop(file: string, e: Entry): void {
    if (this.entries.get(file) !== e) return;
    this.entries.delete(file);
    this.bytes -= e.bytes;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }
}
