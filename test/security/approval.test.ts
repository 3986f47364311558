/**
 * Automatic binding cannot be triggered by a forged node (docs/identity.md 3), over the real node plane:
 * a tag-less policy binds only by hand, and with approval required nothing binds an unapproved node.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance();
});
afterAll(() => t.stop());

const state = async (id: number) => (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
const register = async (mac: string, facts: Record<string, string>) => {
  const n = new ProtocolNode(t, [mac], facts);
  await n.boot();
  expect((await n.register()).status).toBe(200);
  return n;
};

describe('tag-less policies', () => {
  it('never take a node that registers, forged or not; binding by hand still works', async () => {
    expect((await t.admin('POST', '/api/v1/policies', { name: 'grab-all', task: 'local-disk', enabled: true })).status).toBe(201);
    const forged = await register('52:54:00:d1:00:01', { manufacturer: 'Anything' });
    expect(await state(forged.nodeId)).toMatchObject({ state: 'registered', policy: null });
    expect((await forged.checkin()).body.command).toBe('acknowledge');
    const why = await t.admin('POST', '/api/v1/dry-run', { policy: 'grab-all', node_id: forged.nodeId });
    expect(why.body.matches[0].reasons).toContain('policy "grab-all" has no tags, so it binds only by hand');
    // Positive controls: the operator binds it by hand, and a tagged policy binds a matching node by itself.
    expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [forged.nodeId], policy: 'grab-all' })).body.results[0].ok).toBe(true);
    expect((await t.admin('POST', '/api/v1/tags', { name: 'rack-a', rule: ['=', ['fact', 'rack'], 'a'] })).status).toBe(201);
    expect((await t.admin('POST', '/api/v1/policies', { name: 'rack-a', task: 'local-disk', tags: ['rack-a'] })).status).toBe(201);
    const tagged = await register('52:54:00:d1:00:02', { rack: 'a' });
    expect(await state(tagged.nodeId)).toMatchObject({ state: 'bound', policy: 'rack-a' });
  });
});

describe('approval_required', () => {
  it('keeps new nodes from auto-binding until the operator approves them', async () => {
    const before = await register('52:54:00:d2:00:01', { rack: 'b' });
    expect((await t.admin('PATCH', '/api/v1/settings', { approval_required: true })).status).toBe(200);
    expect((await t.admin('POST', '/api/v1/tags', { name: 'rack-b', rule: ['=', ['fact', 'rack'], 'b'] })).status).toBe(201);
    // A node that existed before approval was required counts as approved: the new tag binds it at once.
    expect((await t.admin('POST', '/api/v1/policies', { name: 'rack-b', task: 'local-disk', tags: ['rack-b'] })).status).toBe(201);
    expect(await state(before.nodeId)).toMatchObject({ approved: true, state: 'bound', policy: 'rack-b' });

    const fresh = await register('52:54:00:d2:00:02', { rack: 'b' });
    expect(await state(fresh.nodeId)).toMatchObject({ approved: false, state: 'registered', policy: null });
    expect((await fresh.checkin()).body.command).toBe('acknowledge');
    const why = await t.admin('POST', '/api/v1/dry-run', { policy: 'rack-b', node_id: fresh.nodeId });
    expect(why.body.matches[0].reasons).toContain('the node awaits approval (approval_required is on)');

    const ok = await t.admin('POST', '/api/v1/nodes/approve', { node_ids: [fresh.nodeId, 999999] });
    expect(ok.body.results).toEqual([
      { node_id: fresh.nodeId, ok: true, state: 'bound' },
      { node_id: 999999, ok: false, reason: 'no such node' },
    ]);
    expect(await state(fresh.nodeId)).toMatchObject({ approved: true, policy: 'rack-b' });
    const ev = (await t.admin('GET', `/api/v1/nodes/${fresh.nodeId}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(ev).toEqual(expect.arrayContaining(['node.approved', 'node.bound']));

    // An explicit bind is the operator's approval too.
    const other = await register('52:54:00:d2:00:03', { rack: 'none' });
    expect((await state(other.nodeId)).approved).toBe(false);
    expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [other.nodeId], policy: 'rack-b' })).body.results[0].ok).toBe(true);
    expect((await state(other.nodeId)).approved).toBe(true);
    expect((await t.admin('PATCH', '/api/v1/settings', { approval_required: false })).status).toBe(200);
  });
});
