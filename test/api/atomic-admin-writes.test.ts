/**
 * The admin API's multi-record writes through their routes: a settings PATCH and a policy reorder are checked whole
 * (one bad key or value anywhere: 400 with the fix, nothing changed) and stored whole (a disk that fails the write:
 * 507 CC_ERR_DISK_WRITE, and the running appliance still shows the old values). Crash points: test/store/batch-writes.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance();
  for (const name of ['p1', 'p2', 'p3']) expect((await t.admin('POST', '/api/v1/policies', { name, task: 'local-disk' })).status).toBe(201);
  expect((await t.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 30, log_level: 'warn' })).status).toBe(200);
});
afterAll(() => t.stop());
afterEach(() => vi.restoreAllMocks());

const db = (name: string) => path.join(t.dataDir, 'db', `${name}.db`);
const settings = async () => (await t.admin('GET', '/api/v1/settings')).body as Record<string, unknown>;
const order = async () => ((await t.admin('GET', '/api/v1/policies')).body.policies as { name: string }[]).map((p) => p.name);

/** Writes to `file` put 10 bytes in and then fail with ENOSPC (the disk filled up part-way); other files are not touched. */
function diskFullFor(file: string): void {
  const ino = fs.statSync(file).ino;
  const real = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
  vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
    if (fs.fstatSync(fd).ino !== ino) return real(fd, data, ...rest);
    real(fd, String(data).slice(0, 10));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: file });
  }) as never);
}

describe('PATCH /api/v1/settings is all or nothing', () => {
  it('one bad key or value among good ones: 400 with the fix, nothing changed', async () => {
    const before = await settings();
    const file = await fsp.readFile(db('settings'));
    for (const body of [
      { checkin_interval_s: 7, no_such_setting: 1, log_level: 'debug' },
      { checkin_interval_s: 7, lost_after_intervals: 1, log_level: 'debug' },
      { checkin_interval_s: 7, log_level: 'debug', facts_exclude_pattern: '([' },
    ]) {
      const r = await t.admin('PATCH', '/api/v1/settings', body);
      expect({ status: r.status, code: r.body.code, fix: typeof r.body.fix }).toEqual({
        status: 400,
        code: 'CC_ERR_BAD_REQUEST',
        fix: 'string',
      });
      expect(await settings()).toEqual(before);
      expect((await fsp.readFile(db('settings'))).equals(file)).toBe(true);
    }
  });

  it('a disk that fails the write: 507 CC_ERR_DISK_WRITE, the old values shown and kept', async () => {
    const before = await settings();
    const file = await fsp.readFile(db('settings'));
    diskFullFor(db('settings'));
    const r = await t.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 7, log_level: 'debug', lost_after_intervals: 9 });
    vi.restoreAllMocks();
    expect({ status: r.status, code: r.body.code }).toEqual({ status: 507, code: 'CC_ERR_DISK_WRITE' });
    expect(r.body.message).toContain('ENOSPC');
    expect(await settings()).toEqual(before);
    expect((await fsp.readFile(db('settings'))).equals(file)).toBe(true);
    // Once the disk has room again the same patch goes through.
    expect((await t.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 7 })).body.checkin_interval_s).toBe(7);
  });
});

describe('POST /api/v1/policies/order is all or nothing', () => {
  it('a list that misses a policy or names one twice: 400, order unchanged', async () => {
    const file = await fsp.readFile(db('policies'));
    for (const names of [
      ['p3', 'p1'],
      ['p3', 'p1', 'p1'],
    ]) {
      const r = await t.admin('POST', '/api/v1/policies/order', { names });
      expect({ status: r.status, code: r.body.code }).toEqual({ status: 400, code: 'CC_ERR_BAD_REQUEST' });
      expect(await order()).toEqual(['p1', 'p2', 'p3']);
      expect((await fsp.readFile(db('policies'))).equals(file)).toBe(true);
    }
  });

  it('a disk that fails the write: 507 CC_ERR_DISK_WRITE, the old order shown and kept', async () => {
    const file = await fsp.readFile(db('policies'));
    diskFullFor(db('policies'));
    const r = await t.admin('POST', '/api/v1/policies/order', { names: ['p3', 'p2', 'p1'] });
    vi.restoreAllMocks();
    expect({ status: r.status, code: r.body.code }).toEqual({ status: 507, code: 'CC_ERR_DISK_WRITE' });
    expect(await order()).toEqual(['p1', 'p2', 'p3']);
    expect((await t.admin('GET', '/api/v1/policies')).body.policies.map((p: { priority: number }) => p.priority)).toEqual([0, 1, 2]);
    expect((await fsp.readFile(db('policies'))).equals(file)).toBe(true);
  });
});
