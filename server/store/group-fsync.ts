/**
 * Group commit: many writers that need "on disk before I answer" share one
 * fdatasync. A caller joins the next sync that starts after its write landed.
 *
 * On a file system with no disk behind it (tmpfs, ramfs: statfs(2) f_type) the
 * fdatasync is skipped: it returns at once there and persists nothing more, but
 * each call is a round trip through the thread pool, which on a server pinned
 * to one core cost more than the rest of a lease write (bench/dhcp, fsync off).
 *
 * The fdatasync runs on a thread of its own (native/fsync-thread.c), not in
 * Node's thread pool: on one CPU the main thread is real-time
 * (server/system/background-threads.ts) and the sync thread above it, so a
 * lease's ACK waits for the disk alone, not for a pool thread to get the CPU.
 * Without the addon it goes through the pool as before.
 */
import fs from 'node:fs/promises';
import { getSystemErrorName } from 'node:util';
import { loadAddon } from '../net/native-addon.ts';

/** The `fsync-thread` addon: fdatasync(fd) on its thread, `done(errno, ms)` on Node's. */
interface FsyncThread {
  datasync(fd: number, done: (errno: number, ms: number) => void): void;
}
const fsyncThread = loadAddon<FsyncThread>('fsync-thread');

/** How a group commit flushes its file: fdatasync of the handle, resolving or rejecting as Node's `datasync` does. */
export type Datasync = (h: fs.FileHandle, filename: string) => Promise<void>;

/** Through Node's thread pool: the fallback without the addon. */
export const POOL_DATASYNC: Datasync = (h) => h.datasync();

/** On the sync thread. */
function threadDatasync(a: FsyncThread): Datasync {
  return (h, filename) =>
    new Promise<void>((resolve, reject) =>
      a.datasync(h.fd, (errno) => {
        if (errno === 0) return resolve();
        const code = getSystemErrorName(-errno);
        reject(
          Object.assign(new Error(`${code}: fdatasync failed, '${filename}'`), {
            code,
            errno: -errno,
            syscall: 'fdatasync',
            path: filename,
          }),
        );
      }),
    );
}

/** The sync thread when the addon loaded, else the pool. */
const DEFAULT_DATASYNC: Datasync = fsyncThread.addon ? threadDatasync(fsyncThread.addon) : POOL_DATASYNC;

/** statfs f_type of memory file systems (linux/magic.h: TMPFS_MAGIC, RAMFS_MAGIC). */
const MEMORY_FS_TYPES = new Set([0x01021994, 0x858458f6]);

/** Coalesces fdatasync calls on one file. */
export class GroupFsync {
  private handle: fs.FileHandle | null = null;
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** The file lives on a memory file system (null until the first sync looked). */
  private memoryFs: boolean | null = null;
  /** Sync points completed: an fdatasync, or none needed on a memory file system (for benchmarks and tests). */
  syncs = 0;
  /** fdatasync calls that went to the disk, their total and longest wait in ms (bench/dhcp reports them). */
  diskSyncs = 0;
  diskMs = 0;
  diskMsMax = 0;

  /** Sync points skipped because nothing was written since the last one (only with a write counter). */
  cleanSkips = 0;
  /** The write counter's value when the sync in flight started, and when the last completed one started. */
  private runningCovers = -1;
  private covered = -1;

  /**
   * @param writes the file's write counter (store/nedb.ts `appendsTo`), when every write to the file goes
   *   through something that counts it: then a sync with nothing new to flush resolves at once (durably()
   *   syncs the node and facts files after every change, and most changes touch one of them), and a caller
   *   whose writes all came before the sync in flight started joins it instead of the next one. Without it
   *   every call syncs (lease-file.ts writes its own file).
   * @param datasync how the file is flushed: the sync thread, or the pool without the addon (tests run both)
   */
  constructor(
    private readonly filename: string,
    private readonly writes: (() => number) | null = null,
    private readonly datasync: Datasync = DEFAULT_DATASYNC,
  ) {}

  /** Resolve once everything written to the file before this call is on disk. */
  sync(): Promise<void> {
    // An fdatasync flushes every write(2) that returned before it: everything counted by now.
    const now = this.writes ? this.writes() : -1;
    if (this.writes) {
      if (now === this.covered) {
        this.cleanSkips++;
        return Promise.resolve();
      }
      if (this.running && now === this.runningCovers) return this.running;
    }
    if (!this.running) {
      this.runningCovers = now;
      this.running = this.doSync()
        .then(() => {
          this.covered = now;
        })
        .finally(() => {
          this.running = null;
        });
      return this.running;
    }
    // A sync is in flight and may have started before our write: wait for the next one.
    if (!this.next) {
      this.next = this.running.then(() => {
        this.next = null;
        return this.sync();
      });
    }
    return this.next;
  }

  /** Forget the open handle (the file was replaced by compaction); a sync in flight on it ends first. */
  async reopen(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    // The sync thread holds the bare descriptor: closed under it, the number could name another file by the time it
    // syncs. (Node's own FileHandle waits for its pool operations; it does not know of the thread's.)
    await this.running?.catch(() => undefined);
    await h?.close().catch(() => undefined);
  }

  private async doSync(): Promise<void> {
    if (this.memoryFs === null) this.memoryFs = await onMemoryFs(this.filename);
    if (!this.memoryFs) {
      if (!this.handle) this.handle = await fs.open(this.filename, 'r');
      const t0 = performance.now();
      await this.datasync(this.handle, this.filename);
      const ms = performance.now() - t0;
      this.diskSyncs++;
      this.diskMs += ms;
      if (ms > this.diskMsMax) this.diskMsMax = ms;
    }
    this.syncs++;
  }

  /** Close the handle. */
  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.reopen();
  }
}

/** True when `file` is on tmpfs or ramfs; false when it cannot tell (then every sync goes to the disk). */
async function onMemoryFs(file: string): Promise<boolean> {
  try {
    return MEMORY_FS_TYPES.has((await fs.statfs(file)).type);
  } catch {
    return false;
  }
}
