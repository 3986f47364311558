import { describe, it, expect } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { repairTornTail } from '../../server/store/repair.ts';
import { GroupFsync } from '../../server/store/group-fsync.ts';
import { openStore } from '../../server/store/store.ts';
import { tmpDir } from '../support/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

describe('store building blocks', () => {
  it('cuts a torn last line and leaves clean files alone', async () => {
    const d = await tmpDir();
    const f = path.join(d, 'x.db');
    await fs.writeFile(f, '{"_id":"1"}\n{"_id":"2","half');
    expect((await repairTornTail(f)).cutBytes).toBe('{"_id":"2","half'.length);
    expect(await fs.readFile(f, 'utf8')).toBe('{"_id":"1"}\n');
    expect((await repairTornTail(f)).cutBytes).toBe(0);
    expect((await repairTornTail(path.join(d, 'none.db'))).cutBytes).toBe(0);
  });
  it('group commit: concurrent writers share fsyncs', async () => {
    const d = await tmpDir();
    const f = path.join(d, 'y');
    await fs.writeFile(f, 'x');
    const g = new GroupFsync(f);
    await Promise.all(Array.from({ length: 200 }, () => g.sync()));
    expect(g.syncs).toBeGreaterThanOrEqual(1);
    expect(g.syncs).toBeLessThanOrEqual(3);
    await g.close();
  });
  it('group commit skips the fdatasync on a memory file system and makes it on a disk', async () => {
    // /dev/shm is tmpfs on every Linux; the checkout is normally on a disk (ext4, xfs, overlayfs).
    const shm = await fs.mkdtemp('/dev/shm/cc-fsync-');
    const onDisk = await fs.mkdtemp(path.join(REPO_ROOT, '.cc-fsync-'));
    const TMPFS_MAGIC = 0x01021994;
    try {
      for (const [dir, memory] of [
        [shm, true],
        [onDisk, (await fs.statfs(onDisk)).type === TMPFS_MAGIC],
      ] as const) {
        const f = path.join(dir, 'z');
        await fs.writeFile(f, 'x');
        const g = new GroupFsync(f);
        await g.sync();
        await Promise.all([g.sync(), g.sync()]);
        expect(g.syncs).toBeGreaterThanOrEqual(2);
        expect(g.diskSyncs).toBe(memory ? 0 : g.syncs);
        await g.close();
      }
    } finally {
      await fs.rm(shm, { recursive: true, force: true });
      await fs.rm(onDisk, { recursive: true, force: true });
    }
  });
  it('a collection skips a sync when nothing was appended since the last, and never skips one after a write', async () => {
    const d = await tmpDir();
    const s = await openStore(d, 0);
    const g = s.facts.fsync;
    const doc = (id: string) => ({ _id: id, facts: { n: id }, inventory: null, updated_at: 'now' });
    try {
      await s.facts.put(doc('1'), { durable: true });
      const after = g.syncs;
      await g.sync(); // durably() after a change of the nodes file only: nothing new in facts.db
      expect(g.syncs).toBe(after);
      expect(g.cleanSkips).toBe(1);
      await s.nodes.put({ _id: '1', id: 1, macs: [] } as never, { durable: true });
      await g.sync();
      expect(g.syncs).toBe(after);
      await s.facts.put(doc('2')); // written, not yet synced: the next sync is real
      await g.sync();
      expect(g.syncs).toBe(after + 1);
      // Callers whose writes all came before the sync in flight started share it.
      await s.facts.put(doc('3'));
      const [a, b] = [g.sync(), g.sync()];
      await Promise.all([a, b]);
      expect(g.syncs).toBe(after + 2);
      // A write after the sync in flight started waits for the next one.
      await s.facts.put(doc('4'));
      const first = g.sync();
      await s.facts.put(doc('5'));
      const second = g.sync();
      expect(second).not.toBe(first);
      await Promise.all([first, second]);
      expect(g.syncs).toBe(after + 4);
    } finally {
      await s.close();
    }
    const s2 = await openStore(d, 0);
    expect(await s2.facts.count()).toBe(5);
    await s2.close();
  });
  it('stores keys nedb would refuse (dots, dollars) in opaque fields and loads a repaired store', async () => {
    const d = await tmpDir();
    const s = await openStore(d, 0);
    await s.facts.put({ _id: '1', facts: { 'macaddress_eth0.100': 'x', $odd: 1 }, inventory: null, updated_at: 'now' }, { durable: true });
    await s.close();
    await fs.appendFile(path.join(d, 'db', 'facts.db'), '{"_id":"2","facts":"{\\"a');
    const s2 = await openStore(d, 0);
    expect(s2.repairs).toHaveLength(1);
    expect((await s2.facts.findOne({ _id: '1' }))?.facts).toEqual({ 'macaddress_eth0.100': 'x', $odd: 1 });
    expect(await s2.facts.count()).toBe(1);
    await s2.close();
  });
  it('drops node indexes an older data dir recorded (node saves stay O(log n)) and keeps the documents', async () => {
    const d = await tmpDir();
    const s = await openStore(d, 0);
    // What an older version left in nodes.db: indexes on fields most nodes share (policy null).
    for (const fieldName of ['macs', 'uuid', 'serial', 'policy']) await s.nodes.ds.ensureIndexAsync({ fieldName });
    await s.nodes.put({ _id: '1', id: 1, policy: null, macs: ['02:00:00:00:00:01'] } as never, { durable: true });
    await s.close();
    const s2 = await openStore(d, 0);
    expect(Object.keys((s2.nodes.ds as unknown as { indexes: object }).indexes).sort()).toEqual(['_id', 'id']);
    expect((await s2.nodes.findOne({ _id: '1' }))?.macs).toEqual(['02:00:00:00:00:01']);
    await s2.close();
    // The removal is recorded in the file: a third open does not bring the indexes back.
    const s3 = await openStore(d, 0);
    expect(Object.keys((s3.nodes.ds as unknown as { indexes: object }).indexes).sort()).toEqual(['_id', 'id']);
    await s3.close();
  });
  it('keeps every write across compaction (the cached append handle follows the rewritten file)', async () => {
    const d = await tmpDir();
    const s = await openStore(d, 0);
    for (let i = 0; i < 50; i++) await s.tags.put({ _id: `t${i}`, name: `t${i}`, rule: ['=', 1, i], description: '' });
    await s.compactAll();
    for (let i = 50; i < 100; i++) await s.tags.put({ _id: `t${i}`, name: `t${i}`, rule: ['=', 1, i], description: '' }, { durable: true });
    await s.tags.put({ _id: 't0', name: 't0', rule: ['=', 1, 'changed'], description: '' });
    await s.close();
    const s2 = await openStore(d, 0);
    expect(await s2.tags.count()).toBe(100);
    expect((await s2.tags.findOne({ _id: 't0' }))?.rule).toEqual(['=', 1, 'changed']);
    const lines = (await fs.readFile(path.join(d, 'db', 'tags.db'), 'utf8')).trim().split('\n');
    expect(lines.length).toBe(100); // nedb compacts on load: one line per document
    await s2.close();
  });
});
