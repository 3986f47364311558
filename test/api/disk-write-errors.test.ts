/**
 * A store write the disk refuses (full, over quota, I/O error, read-only file system) is the operator's to fix:
 * CC_ERR_DISK_WRITE naming the data directory and what to do, not CC_ERR_INTERNAL "report it". The failure is
 * injected at the lowest seam the store has: the write(2) of its append (server/store/write-all.ts).
 */
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { toErrorBody } from '../../server/http/error-handler.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance();
});
afterAll(() => t.stop());
afterEach(() => vi.restoreAllMocks());

/** An error as write(2) reports it through Node. */
const errno = (code: string, syscall = 'write', path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall, errno: -1, ...(path ? { path } : {}) });

/** Make the store's append of a line holding `marker` fail with `code`; every other write goes through. */
function failWritesOf(marker: string, code: string): void {
  const real = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
  vi.spyOn(fs, 'writeSync').mockImplementation(((...args: unknown[]) => {
    if (typeof args[1] === 'string' && args[1].includes(marker)) throw errno(code);
    return real(...args);
  }) as typeof fs.writeSync);
}

const tag = (name: string) => t.admin('POST', '/api/v1/tags', { name, rule: ['=', ['fact', 'manufacturer'], 'Dell Inc.'] });

describe('a store write the disk refuses', () => {
  it('ENOSPC: 507 CC_ERR_DISK_WRITE naming the data directory, with the fix; the next write works again', async () => {
    failWritesOf('"disk-full-probe"', 'ENOSPC');
    const r = await tag('disk-full-probe');
    expect(r.status, JSON.stringify(r.body)).toBe(507);
    expect(r.body.code).toBe('CC_ERR_DISK_WRITE');
    expect(r.body.message).toContain('ENOSPC');
    expect(r.body.message).toContain(`data directory ${t.dataDir}`);
    expect(r.body.fix).toContain('free space on the file system of the data directory');
    vi.restoreAllMocks();
    expect((await tag('after-space-freed')).status).toBe(201);
  });

  it('EROFS and EIO through the real route too, each with its reason', async () => {
    for (const [code, says] of [
      ['EROFS', 'read-only'],
      ['EIO', 'I/O error'],
    ] as const) {
      failWritesOf(`"probe-${code.toLowerCase()}"`, code);
      const r = await tag(`probe-${code.toLowerCase()}`);
      vi.restoreAllMocks();
      expect(r.status, code).toBe(507);
      expect(r.body.code).toBe('CC_ERR_DISK_WRITE');
      expect(r.body.message).toContain(`${code}, `);
      expect(r.body.message).toContain(says);
    }
  });

  it('maps EDQUOT and an fdatasync EIO too, names a path when the error has one, and leaves real bugs CC_ERR_INTERNAL', () => {
    const quota = toErrorBody(errno('EDQUOT', 'open', '/srv/cc/db/nodes.db'), '/srv/cc');
    expect(quota).toMatchObject({ statusCode: 507, code: 'CC_ERR_DISK_WRITE' });
    expect(quota.message).toContain('EDQUOT, the disk quota is used up (open /srv/cc/db/nodes.db); data directory /srv/cc');
    expect(toErrorBody(errno('EIO', 'fdatasync'), '/srv/cc').code).toBe('CC_ERR_DISK_WRITE');
    expect(toErrorBody(new TypeError("Cannot read properties of undefined (reading 'x')"), '/srv/cc').code).toBe('CC_ERR_INTERNAL');
    expect(toErrorBody(errno('ENOENT', 'open', '/srv/cc/x'), '/srv/cc').code).toBe('CC_ERR_INTERNAL');
  });
});
