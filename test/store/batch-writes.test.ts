/**
 * Multi-document admin writes are all or nothing (server/store/batch.ts): a settings PATCH and a policy reorder.
 * Every way a crash can leave the file (cut at any point of the write, or power loss keeping a later page and not an
 * earlier one) loads as the state before the change or the state after it, never a mix; a failed write or fsync
 * changes nothing in memory or on disk; a bad key anywhere in a patch stores nothing.
 */
import { describe, it, expect, afterEach, vi } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { openStore, type Store } from '../../server/store/store.ts';
import { SettingsService } from '../../server/settings/settings-service.ts';
import { PolicyService } from '../../server/policies/policy-service.ts';
import { diskWriteError } from '../../server/errors/cc-error.ts';
import { tmpDir } from '../support/appliance.ts';

afterEach(() => vi.restoreAllMocks());

const OLD = { checkin_interval_s: 30, log_level: 'warn', lost_after_intervals: 4 } as const;
const NEW = { checkin_interval_s: 7, log_level: 'debug', lost_after_intervals: 9 } as const;
const KEYS = Object.keys(NEW) as (keyof typeof NEW)[];

/** The settings a store in `dir` loads (the `KEYS` only). */
async function loadSettings(dir: string): Promise<Record<string, unknown>> {
  const s = await openStore(dir, 0);
  try {
    const v = (await SettingsService.open(s.settings, '')).get();
    return Object.fromEntries(KEYS.map((k) => [k, v[k]]));
  } finally {
    await s.close();
  }
}

/** Policy names in priority order and whether the priorities are distinct, as a store in `dir` loads them. */
async function loadOrder(dir: string): Promise<{ names: string[]; distinct: boolean }> {
  const s = await openStore(dir, 0);
  try {
    const list = (await PolicyService.open(s.policies)).list();
    return { names: list.map((p) => p.name), distinct: new Set(list.map((p) => p.priority)).size === list.length };
  } finally {
    await s.close();
  }
}

async function withStore<R>(dir: string, f: (s: Store) => Promise<R>): Promise<R> {
  const s = await openStore(dir, 0);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

const addPolicies = (s: Store, names: string[]) =>
  withPolicies(s, async (p) => {
    for (const name of names) await p.put({ name, task: 'local-disk' }, true, (x) => x);
  });
async function withPolicies<R>(s: Store, f: (p: PolicyService) => Promise<R>): Promise<R> {
  return f(await PolicyService.open(s.policies));
}

/**
 * The file as it was before `change` and the bytes `change` appended to it (the store is closed in between, which
 * does not compact: the file after is the file before plus what the change wrote).
 */
async function recordChange(dir: string, file: string, change: (s: Store) => Promise<void>): Promise<{ before: Buffer; appended: Buffer }> {
  await withStore(dir, async () => undefined); // a load compacts: start from a clean file
  const before = await fsp.readFile(file);
  await withStore(dir, change);
  const after = await fsp.readFile(file);
  expect(after.subarray(0, before.length).equals(before)).toBe(true);
  return { before, appended: after.subarray(before.length) };
}

/** Where a crash may cut the change: its start, around every newline in it, its middle, just before its end. */
function cutPoints(appended: Buffer): number[] {
  const at = new Set([0, 1, appended.length >> 1, appended.length - 1]);
  appended.forEach((b, i) => b === 0x0a && [i - 1, i, i + 1].forEach((j) => j > 0 && j < appended.length && at.add(j)));
  return [...at].sort((a, b) => a - b);
}

describe('a settings PATCH is one unit on disk', () => {
  it('a crash at any point of the write loads the old settings or the new ones, never a mix', async () => {
    const dir = await tmpDir('cc-batch-');
    const file = path.join(dir, 'db', 'settings.db');
    await withStore(dir, async (s) => void (await (await SettingsService.open(s.settings, '')).patch(OLD)));
    const { before, appended } = await recordChange(dir, file, async (s) => {
      await (await SettingsService.open(s.settings, '')).patch(NEW);
    });
    for (const cut of cutPoints(appended)) {
      await fsp.writeFile(file, Buffer.concat([before, appended.subarray(0, cut)]));
      expect({ cut, loaded: await loadSettings(dir) }).toEqual({ cut, loaded: OLD });
    }
    // Power loss that kept the end of the write (its newline) but not its start: zeros where the start was.
    for (const zeros of [1, appended.length >> 1, appended.length - 2]) {
      const torn = Buffer.concat([before, Buffer.alloc(zeros), appended.subarray(zeros)]);
      await fsp.writeFile(file, torn);
      const s = await openStore(dir, 0);
      expect(s.repairs.map((r) => r.cutBytes)).toEqual([appended.length]);
      await s.close();
      expect({ zeros, loaded: await loadSettings(dir) }).toEqual({ zeros, loaded: OLD });
    }
    await fsp.writeFile(file, Buffer.concat([before, appended]));
    expect(await loadSettings(dir)).toEqual(NEW);
    // Loading wrote the batch out as one line per document, as nedb keeps them.
    expect((await fsp.readFile(file, 'utf8')).trim().split('\n').length).toBe(KEYS.length);
    expect(await loadSettings(dir)).toEqual(NEW);
  });

  it('a bad key or value anywhere in the patch stores nothing and says which', async () => {
    const dir = await tmpDir('cc-batch-');
    await withStore(dir, async (s) => {
      const svc = await SettingsService.open(s.settings, '');
      await svc.patch(OLD);
      const file = await fsp.readFile(s.settings.filename);
      const bad: [Record<string, unknown>, RegExp][] = [
        [
          { checkin_interval_s: 7, no_such_setting: 1, log_level: 'debug' },
          /no setting named "no_such_setting" \(settings are: checkin_interval_s,/,
        ],
        [
          { checkin_interval_s: 7, log_level: 'loud', lost_after_intervals: 9 },
          /log_level must be one of "debug", "info", "warn", "error"/,
        ],
        [
          { checkin_interval_s: 7, lost_after_intervals: 9, facts_exclude_pattern: '([' },
          /facts_exclude_pattern: .*Unterminated character class/,
        ],
        [{ checkin_interval_s: 7, lost_after_intervals: 1 }, /lost_after_intervals must be >= 2/],
      ];
      for (const [patch, msg] of bad) {
        await expect(svc.patch(patch as never)).rejects.toMatchObject({ code: 'CC_ERR_BAD_REQUEST', message: expect.stringMatching(msg) });
        expect(Object.fromEntries(KEYS.map((k) => [k, svc.get()[k]]))).toEqual(OLD);
        expect((await fsp.readFile(s.settings.filename)).equals(file)).toBe(true);
      }
    });
    expect(await loadSettings(dir)).toEqual(OLD);
  });

  it('a write that fails part-way (disk full) or a failed fsync changes nothing in memory or on disk', async () => {
    const dir = await tmpDir('cc-batch-');
    await withStore(dir, async (s) => {
      const svc = await SettingsService.open(s.settings, '');
      await svc.patch(OLD);
      const file = await fsp.readFile(s.settings.filename);
      const docs = await s.settings.find();
      const unchanged = async () => {
        expect(Object.fromEntries(KEYS.map((k) => [k, svc.get()[k]]))).toEqual(OLD);
        expect(await s.settings.find()).toEqual(docs);
        expect((await fsp.readFile(s.settings.filename)).equals(file)).toBe(true);
      };
      // ENOSPC after part of the line reached the file (only writes to settings.db fail).
      failWritesTo(s.settings.filename);
      const full = await svc.patch(NEW).catch((e: unknown) => e);
      expect(diskWriteError(full)).toMatchObject({ code: 'CC_ERR_DISK_WRITE', message: expect.stringContaining('ENOSPC') });
      vi.restoreAllMocks();
      await unchanged();
      // The disk fails the fdatasync.
      vi.spyOn(s.settings.fsync, 'sync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      const eio = await svc.patch(NEW).catch((e: unknown) => e);
      expect(diskWriteError(eio)).toMatchObject({ code: 'CC_ERR_DISK_WRITE', message: expect.stringContaining('EIO') });
      await unchanged();
      // A compaction now writes what memory holds: still the old settings.
      await s.compactAll();
    });
    expect(await loadSettings(dir)).toEqual(OLD);
    // And the next patch goes through whole.
    await withStore(dir, async (s) => void (await (await SettingsService.open(s.settings, '')).patch(NEW)));
    expect(await loadSettings(dir)).toEqual(NEW);
  });
});

/** Make writes to `file` write their first 10 bytes and then fail with ENOSPC (a disk filling up part-way). */
function failWritesTo(file: string): void {
  const ino = fs.statSync(file).ino;
  const real = fs.writeSync.bind(fs) as (fd: number, data: string) => number;
  vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: string, ...rest: unknown[]) => {
    if (fs.fstatSync(fd).ino !== ino) return (real as (...a: unknown[]) => number)(fd, data, ...rest);
    real(fd, String(data).slice(0, 10));
    throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write' });
  }) as never);
}

describe('a policy reorder is one unit on disk', () => {
  it('a crash at any point of the write loads the old order or the new one, with distinct priorities', async () => {
    const dir = await tmpDir('cc-batch-');
    const file = path.join(dir, 'db', 'policies.db');
    await withStore(dir, (s) => addPolicies(s, ['p1', 'p2', 'p3', 'p4']));
    const { before, appended } = await recordChange(dir, file, (s) =>
      withPolicies(s, async (p) => void (await p.setOrder(['p4', 'p3', 'p2', 'p1']))),
    );
    const old = { names: ['p1', 'p2', 'p3', 'p4'], distinct: true };
    for (const cut of cutPoints(appended)) {
      await fsp.writeFile(file, Buffer.concat([before, appended.subarray(0, cut)]));
      expect({ cut, loaded: await loadOrder(dir) }).toEqual({ cut, loaded: old });
    }
    await fsp.writeFile(file, Buffer.concat([before, Buffer.alloc(40), appended.subarray(40)]));
    expect(await loadOrder(dir)).toEqual(old);
    await fsp.writeFile(file, Buffer.concat([before, appended]));
    expect(await loadOrder(dir)).toEqual({ names: ['p4', 'p3', 'p2', 'p1'], distinct: true });
  });

  it('a failed write or fsync keeps the old order in memory and on disk; a bad list writes nothing', async () => {
    const dir = await tmpDir('cc-batch-');
    await withStore(dir, (s) => addPolicies(s, ['p1', 'p2', 'p3']));
    await withStore(dir, (s) =>
      withPolicies(s, async (p) => {
        const file = await fsp.readFile(s.policies.filename);
        const docs = await s.policies.find();
        const unchanged = async () => {
          expect(p.list().map((x) => [x.name, x.priority])).toEqual([
            ['p1', 0],
            ['p2', 1],
            ['p3', 2],
          ]);
          expect(await s.policies.find()).toEqual(docs);
          expect((await fsp.readFile(s.policies.filename)).equals(file)).toBe(true);
        };
        failWritesTo(s.policies.filename);
        await expect(p.setOrder(['p3', 'p2', 'p1'])).rejects.toMatchObject({ code: 'ENOSPC' });
        vi.restoreAllMocks();
        await unchanged();
        vi.spyOn(s.policies.fsync, 'sync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
        await expect(p.move('p3', 'up')).rejects.toMatchObject({ code: 'EIO' });
        await unchanged();
        await expect(p.setOrder(['p3', 'p2', 'p2'])).rejects.toMatchObject({ code: 'CC_ERR_BAD_REQUEST' });
        await unchanged();
      }),
    );
    expect(await loadOrder(dir)).toEqual({ names: ['p1', 'p2', 'p3'], distinct: true });
  });
});

describe('putBatch', () => {
  it('is refused where a load would not expand it, and for a document named twice', async () => {
    const dir = await tmpDir('cc-batch-');
    await withStore(dir, async (s) => {
      const tag = { _id: 't', name: 't', rule: [], description: '' };
      await expect(s.tags.putBatch([tag])).rejects.toThrow(/opened for batches/);
      const set = { _id: 'setting:log_level', value: 'info' };
      await expect(s.settings.putBatch([set, set])).rejects.toThrow(/twice/);
      await expect(s.settings.putBatch([{ _id: 'x', value: 1, 'a.b': 2 }])).rejects.toThrow(/cannot contain a \./);
      expect(await s.settings.count()).toBe(0);
      expect(await fsp.readFile(s.settings.filename, 'utf8')).toBe('');
    });
  });
});
