/**
 * A real `crashcart serve` killed with SIGKILL right after it answered a settings PATCH and a policy reorder: the
 * next start has both, whole (each was stored as one batch line, server/store/batch.ts, expanded at load).
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawnAppliance, startInProcess, type InProcessAppliance, type ProcessAppliance } from '../support/appliance.ts';

let a: ProcessAppliance | undefined;
let b: InProcessAppliance | undefined;
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  if (a) await fs.rm(a.dataDir, { recursive: true, force: true });
});

const PATCH = { checkin_interval_s: 7, log_level: 'debug', lost_after_intervals: 9, approval_required: true } as const;

describe('acknowledged batches across SIGKILL', () => {
  it('keeps a PATCH and a reorder answered just before the kill', async () => {
    a = await spawnAppliance();
    const token = await a.token();
    const call = async (method: string, url: string, body: unknown) => {
      const r = await fetch(`${a!.adminUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, text: await r.text() };
    };
    for (const name of ['p1', 'p2', 'p3']) expect((await call('POST', '/api/v1/policies', { name, task: 'local-disk' })).status).toBe(201);
    expect(await call('PATCH', '/api/v1/settings', PATCH)).toMatchObject({ status: 200 });
    const ordered = await call('POST', '/api/v1/policies/order', { names: ['p3', 'p1', 'p2'] });
    a.child.kill('SIGKILL');
    await new Promise((r) => (a!.exited() ? r(null) : a!.child.once('exit', r)));
    expect(ordered.status).toBe(200);
    expect(a.child.signalCode).toBe('SIGKILL');
    // What the kill left: each change as one batch line at the end of its file.
    for (const f of ['settings.db', 'policies.db'])
      expect((await fs.readFile(path.join(a.dataDir, 'db', f), 'utf8')).trimEnd().split('\n').at(-1)).toMatch(/^\{"\$\$batch":\[/);

    b = await startInProcess(['--data-dir', a.dataDir]);
    expect(b.app.ctx.settings.get()).toMatchObject(PATCH);
    expect(b.app.ctx.policies.list().map((p) => [p.name, p.priority])).toEqual([
      ['p3', 0],
      ['p1', 1],
      ['p2', 2],
    ]);
  }, 120_000);
});
