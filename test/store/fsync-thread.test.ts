/**
 * The group commit's fdatasync on a thread of its own (native/fsync-thread.c, server/store/group-fsync.ts):
 * - the thread `cc-fsync` exists once the store's code is loaded, and a sync of a file on a disk runs on it (its
 *   count of times scheduled in, /proc's schedstat, grows with the syncs); through the pool (the fallback without
 *   the addon) the same syncs leave it asleep (but for its last turn after the syncs before);
 * - the addon reports a failed fdatasync with its errno, and keeps working after one;
 * - a handle replaced during a sync (compaction's reopen) is closed only after that sync ended.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { loadAddon } from '../../server/net/native-addon.ts';
import { GroupFsync, POOL_DATASYNC } from '../../server/store/group-fsync.ts';

const TMPFS_MAGIC = 0x01021994;

interface FsyncThread {
  datasync(fd: number, done: (errno: number, ms: number) => void): void;
}

/** The sync thread's tid in this process. */
function syncThread(): number {
  const tids = fs.readdirSync('/proc/self/task').filter((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'cc-fsync');
  expect(tids).toHaveLength(1);
  return Number(tids[0]);
}

/** Times the thread was scheduled in (the third field of /proc's schedstat). */
const runs = (tid: number) => Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(' ')[2]);

/** A folder on a disk (the checkout's file system), removed by the caller. */
async function diskDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(REPO_ROOT, '.cc-fsync-thread-'));
  expect((await fsp.statfs(d)).type, 'the checkout is on a disk').not.toBe(TMPFS_MAGIC);
  return d;
}

describe('fdatasync on the sync thread', () => {
  /** 20 syncs of a file on a disk through `g`; returns how often the sync thread ran meanwhile. */
  async function twentySyncs(f: string, g: GroupFsync): Promise<number> {
    const tid = syncThread();
    const before = runs(tid);
    for (let i = 0; i < 20; i++) {
      await fsp.appendFile(f, 'y');
      await g.sync();
    }
    expect(g.diskSyncs).toBe(20);
    await g.close();
    return runs(tid) - before;
  }

  it('runs the group commit of a file on a disk; through the pool the thread sleeps', async () => {
    const d = await diskDir();
    try {
      await fsp.writeFile(path.join(d, 'a'), 'x');
      await fsp.writeFile(path.join(d, 'b'), 'x');
      expect(await twentySyncs(path.join(d, 'a'), new GroupFsync(path.join(d, 'a')))).toBeGreaterThanOrEqual(20);
      // Not 0: the thread may still be put on the CPU once to finish its turn after the last sync above.
      expect(await twentySyncs(path.join(d, 'b'), new GroupFsync(path.join(d, 'b'), null, POOL_DATASYNC))).toBeLessThan(5);
    } finally {
      await fsp.rm(d, { recursive: true, force: true });
    }
  });

  it('reports a failed fdatasync with its errno and goes on', async () => {
    const a = loadAddon<FsyncThread>('fsync-thread').addon!;
    const sync = (fd: number) => new Promise<number>((resolve) => a.datasync(fd, (errno) => resolve(errno)));
    const d = await diskDir();
    try {
      const fd = fs.openSync(path.join(d, 'f'), 'w');
      fs.closeSync(fd);
      expect(await sync(fd)).toBe(9); // EBADF: the descriptor is closed
      const open = fs.openSync(path.join(d, 'g'), 'w');
      expect(await sync(open)).toBe(0);
      fs.closeSync(open);
      expect(() => a.datasync(-1, () => undefined)).toThrow(/datasync\(fd, done\)/);
    } finally {
      await fsp.rm(d, { recursive: true, force: true });
    }
  });

  it('closes a replaced handle only after the sync in flight on it ended', async () => {
    const d = await diskDir();
    try {
      const f = path.join(d, 'leases');
      await fsp.writeFile(f, 'x');
      const g = new GroupFsync(f);
      await g.sync(); // the handle is open from here on
      const order: string[] = [];
      await fsp.appendFile(f, 'y');
      const synced = g.sync().then(() => order.push('sync'));
      const reopened = g.reopen().then(() => order.push('reopen'));
      await Promise.all([synced, reopened]);
      expect(order).toEqual(['sync', 'reopen']);
      await fsp.appendFile(f, 'z');
      await g.sync(); // a new handle
      expect(g.diskSyncs).toBe(3);
      await g.close();
    } finally {
      await fsp.rm(d, { recursive: true, force: true });
    }
  });
});
