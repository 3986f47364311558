/**
 * The lease journal (server/store/lease-file.ts): nedb's line format both ways (a data dir of an earlier version
 * loads, an earlier version reads ours), the queries the appliance asks, hostile strings, corrupt and torn files,
 * and compaction with writes arriving while it runs.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { LeaseFile, parseLeaseLines } from '../../server/store/lease-file.ts';
import { Datastore } from '../../server/store/nedb.ts';
import { openStore } from '../../server/store/store.ts';
import type { LeaseDoc } from '../../server/store/docs.ts';
import { tmpDir } from '../support/appliance.ts';

const lease = (i: number, over: Partial<LeaseDoc> = {}): LeaseDoc => {
  const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  return {
    _id: mac,
    mac,
    ip: `10.9.${i >> 8}.${i & 255}`,
    state: 'bound',
    expires_at: 1000 + i,
    pool: 'main',
    hostname: null,
    client_id: null,
    updated_at: i,
    ...over,
  };
};
const byId = (a: LeaseDoc, b: LeaseDoc) => a._id.localeCompare(b._id);
/** What nedb itself loads from `file`. */
async function nedbView(file: string): Promise<LeaseDoc[]> {
  const ds = new Datastore<LeaseDoc>({ filename: file, timestampData: false });
  await ds.loadDatabaseAsync();
  return ((await ds.findAsync({})) as LeaseDoc[]).sort(byId);
}

describe('lease file', () => {
  it('loads a leases.db that nedb wrote (updates, removals, index lines) exactly as nedb does', async () => {
    const file = path.join(await tmpDir(), 'leases.db');
    const ds = new Datastore<LeaseDoc>({ filename: file, timestampData: false });
    await ds.loadDatabaseAsync();
    await ds.ensureIndexAsync({ fieldName: 'ip' });
    await ds.insertAsync([lease(1), lease(2), lease(3)]);
    await ds.updateAsync({ _id: lease(2)._id }, lease(2, { state: 'released', hostname: 'web-2' }), { upsert: true });
    await ds.removeAsync({ _id: lease(3)._id }, {});
    await ds.insertAsync(lease(4, { hostname: 'a\u2028b "quoted"' }));
    const text = await fs.readFile(file, 'utf8');
    expect(text).toContain('$$indexCreated');
    expect(text).toContain('$$deleted');
    const f = LeaseFile.open(file);
    const mine = (await f.find({})).sort(byId);
    expect(mine).toEqual(await nedbView(file));
    expect(mine.map((d) => [d._id, d.state])).toEqual([
      [lease(1)._id, 'bound'],
      [lease(2)._id, 'released'],
      [lease(4)._id, 'bound'],
    ]);
    expect(f.skippedLines).toBe(0);
    await f.close();
  });

  it('writes lines nedb reads back the same, hostile strings included (an earlier version can open the data dir)', async () => {
    const file = path.join(await tmpDir(), 'leases.db');
    const f = LeaseFile.open(file);
    await f.put(lease(1, { hostname: 'line\u2028sep\u2029para\u0085nel\nnewline' }), { durable: true });
    await f.put(lease(2));
    await f.put(lease(2, { state: 'expired' }));
    await f.put(lease(3));
    expect(await f.remove({ _id: lease(3)._id })).toBe(1);
    await f.close();
    const text = await fs.readFile(file, 'utf8');
    // One line per write, and none of the characters nedb's reader splits lines on is written raw.
    expect(text.split('\n').filter(Boolean)).toHaveLength(5);
    expect(text).not.toMatch(/[\u0085\u2028\u2029]/);
    const nedb = await nedbView(file);
    expect(nedb).toEqual([lease(1, { hostname: 'line\u2028sep\u2029para\u0085nel\nnewline' }), lease(2, { state: 'expired' })]);
    expect((await LeaseFile.open(file).find({})).sort(byId)).toEqual(nedb);
  });

  it('answers the appliance queries: by MAC, by address, by address and state, counts, and follows a lease that moves', async () => {
    const f = LeaseFile.memory();
    await f.put(lease(1));
    await f.put(lease(2, { ip: lease(1).ip, state: 'expired' }));
    await f.put(lease(3, { state: 'offered' }));
    expect((await f.find({ ip: lease(1).ip })).map((d) => d._id).sort()).toEqual([lease(1)._id, lease(2)._id].sort());
    expect((await f.find({ ip: lease(1).ip, state: 'bound' })).map((d) => d._id)).toEqual([lease(1)._id]);
    expect((await f.findOne({ _id: lease(3)._id }))?.state).toBe('offered');
    expect(await f.findOne({ _id: 'nope' })).toBeNull();
    expect(await f.count({ state: 'bound' })).toBe(1);
    expect(await f.count()).toBe(3);
    // Lease 1 moves: its old address no longer finds it, the new one does.
    await f.put(lease(1, { ip: '10.9.9.9' }));
    expect((await f.find({ ip: lease(1).ip })).map((d) => d._id)).toEqual([lease(2)._id]);
    expect((await f.findOne({ ip: '10.9.9.9' }))?._id).toBe(lease(1)._id);
    // Results are copies: changing one changes nothing stored.
    const got = (await f.findOne({ _id: lease(1)._id }))!;
    got.state = 'declined';
    expect((await f.findOne({ _id: lease(1)._id }))?.state).toBe('bound');
    expect(await f.remove({ ip: '10.9.9.9' })).toBe(1);
    expect(await f.count()).toBe(2);
    await expect(f.insert(lease(2))).rejects.toThrow(/already exists/);
    expect(f.filename).toBeNull();
  });

  it('leases of another shape (an id that is not the MAC, an address not in dotted-quad form, a field more) are found and kept as written', async () => {
    const f = LeaseFile.memory();
    const odd = { ...lease(7), _id: 'nedb-0007', ip: '010.9.0.7', note: 'kept' };
    await f.put(odd);
    await f.put(lease(8, { ip: '10.9.0.7' }));
    expect(await f.findOne({ _id: 'nedb-0007' })).toEqual(odd);
    expect((await f.find({ ip: '010.9.0.7' })).map((d) => d._id)).toEqual(['nedb-0007']);
    expect((await f.find({ ip: '10.9.0.7' })).map((d) => d._id)).toEqual([lease(8)._id]);
    await f.put({ ...odd, ip: '10.9.0.7' });
    expect((await f.find({ ip: '10.9.0.7' })).map((d) => d._id).sort()).toEqual([lease(8)._id, 'nedb-0007'].sort());
    expect(await f.find({ ip: '010.9.0.7' })).toEqual([]);
    expect(await f.remove({ _id: 'nedb-0007' })).toBe(1);
    expect((await f.find({ ip: '10.9.0.7' })).map((d) => d._id)).toEqual([lease(8)._id]);
  });

  it('refuses a file that is mostly garbage with CC_ERR_STORE_CORRUPT, skips a few bad lines, and the store cuts a torn tail', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 'leases.db');
    const good = Array.from({ length: 30 }, (_, i) => JSON.stringify(lease(i)));
    await fs.writeFile(file, [...good, 'not json', '{"_id":"x","mac":1}', '[1,2]'].join('\n') + '\n');
    const f = LeaseFile.open(file);
    expect(await f.count()).toBe(30);
    expect(f.skippedLines).toBe(3);
    await f.close();
    await fs.writeFile(file, [...good.slice(0, 5), 'x', 'y', '{}'].join('\n') + '\n');
    expect(() => LeaseFile.open(file)).toThrow(
      expect.objectContaining({ code: 'CC_ERR_STORE_CORRUPT', message: expect.stringContaining(file) }),
    );
    // A torn last line (a write a SIGKILL cut short) is cut before loading and reported like any datafile's.
    const data = path.join(dir, 'data');
    await fs.mkdir(path.join(data, 'db'), { recursive: true });
    await fs.writeFile(path.join(data, 'db', 'leases.db'), good.slice(0, 3).join('\n') + '\n{"_id":"02:00:00:00:00:09","ma');
    const store = await openStore(data, 0);
    try {
      expect(await store.leases.count()).toBe(3);
      expect(store.leases.skippedLines).toBe(0);
      expect(store.repairs.map((r) => path.basename(r.file))).toEqual(['leases.db']);
    } finally {
      await store.close();
    }
  });

  it('compaction keeps one line per lease; writes issued while it runs wait and land in the new file', async () => {
    const file = path.join(await tmpDir(), 'leases.db');
    const f = LeaseFile.open(file);
    for (let round = 0; round < 3; round++) for (let i = 0; i < 500; i++) await f.put(lease(i, { updated_at: round }));
    await f.remove({ _id: lease(0)._id });
    expect((await fs.readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1501);
    const compacting = f.compact();
    const during = [f.put(lease(600), { durable: true }), f.put(lease(1, { state: 'released' }), { durable: true })];
    await Promise.all([compacting, ...during]);
    await f.close();
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(499 + 2);
    const back = LeaseFile.open(file);
    expect(await back.count()).toBe(500);
    expect((await back.findOne({ _id: lease(1)._id }))?.state).toBe('released');
    expect(await back.findOne({ _id: lease(600)._id })).not.toBeNull();
    expect(await back.findOne({ _id: lease(0)._id })).toBeNull();
    // The update of lease 1 superseded a compacted line: one more compaction rewrites (a new inode); with nothing
    // superseded it leaves the file alone (the same inode).
    const ino = (await fs.stat(file)).ino;
    await back.compact();
    const ino2 = (await fs.stat(file)).ino;
    expect(ino2).not.toBe(ino);
    expect((await fs.readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(500);
    await back.compact();
    expect((await fs.stat(file)).ino).toBe(ino2);
    await back.close();
  });

  it('opens its journal with the file, refuses a write after close and loses nothing written before it', async () => {
    const file = path.join(await tmpDir(), 'leases.db');
    const f = LeaseFile.open(file);
    // The journal exists, empty and private, before the first lease (it is opened with the file, not at the first write).
    const st = await fs.stat(file);
    expect([st.size, st.mode & 0o777]).toEqual([0, 0o600]);
    await f.put(lease(1), { durable: true });
    await f.close();
    await expect(f.put(lease(2), { durable: true })).rejects.toThrow(`lease file ${file} is closed`);
    const back = LeaseFile.open(file);
    expect(await back.find({})).toEqual([lease(1)]);
    await back.close();
  });

  it('in memory writes nothing to disk, and runs the same journal and sync code (on /dev/null)', async () => {
    const m = LeaseFile.memory(8);
    for (let i = 0; i < 20; i++) await m.put(lease(i), { durable: true });
    expect(await m.count()).toBe(20);
    // Each durable write went through the group commit: counted, no fdatasync (/dev/null's file system is memory).
    expect([m.fsync.syncs, m.fsync.diskSyncs]).toEqual([20, 0]);
    expect(m.filename).toBeNull();
    await m.close();
  });

  it('replays journal text: the last line of an _id wins, deletions remove, index lines are not leases', () => {
    const text = [
      JSON.stringify(lease(1)),
      JSON.stringify({ $$indexCreated: { fieldName: 'ip' } }),
      JSON.stringify(lease(1, { state: 'expired' })),
      JSON.stringify(lease(2)),
      JSON.stringify({ $$deleted: true, _id: lease(2)._id }),
      '',
    ].join('\n');
    const r = parseLeaseLines(text);
    expect([...r.docs.values()]).toEqual([lease(1, { state: 'expired' })]);
    expect(r.lines).toBe(5);
    expect(r.corrupt).toBe(0);
  });
});
