/**
 * Every event a real appliance flow records matches its row in contract/event-data.ts (issue 11: typed event
 * payloads). The flow: a simulated rack (`--lab sim:3`, the real agent loop over real HTTP) boots, registers and
 * checks in; the operator tags, binds, edits, addresses, unbinds and forgets nodes through the admin routes.
 * The events are read back through `GET /api/v1/events` (the route's answer schema) and checked one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { eventProblems } from '../support/events.ts';
import { waitFor } from '../support/wait-for.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import type { CcEvent, Node } from '../../contract/index.ts';

const MICROKERNEL = path.join(REPO_ROOT, 'build', 'out', 'microkernel');
let t: InProcessAppliance;
let auth: Record<string, string>;

const api = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
  const r = await t.admin.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as unknown) : null };
};
const events = async (): Promise<CcEvent[]> => ((await api('GET', '/api/v1/events?limit=10000')).body as { events: CcEvent[] }).events;
const types = async (): Promise<Set<string>> => new Set((await events()).map((e) => e.type));

beforeAll(async () => {
  if (!fs.existsSync(path.join(MICROKERNEL, 'vmlinuz')))
    throw new Error(`no microkernel in ${MICROKERNEL}: run scripts/ensure-test-deps.sh (it builds build/out/microkernel)`);
  t = await startInProcess(['--lab', 'sim:3', '--microkernel', MICROKERNEL]);
  auth = { authorization: `Bearer ${await t.token()}` };
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('event payloads of a real appliance flow', () => {
  it('the rack boots, registers and checks in', async () => {
    await waitFor('three registered nodes that checked in', 90_000, async () => {
      const e = await events();
      return e.filter((x) => x.type === 'node.registered').length >= 3 && e.some((x) => x.type === 'node.checkin');
    });
  }, 120_000);

  it('the operator tags, binds, edits, addresses, unbinds and forgets', async () => {
    const nodes = ((await api('GET', '/api/v1/nodes')).body as { nodes: Node[] }).nodes;
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    const [a, b, c] = nodes as [Node, Node, Node];
    expect((await api('POST', '/api/v1/tags', { name: 'all', rule: ['=', 1, 1] })).status).toBe(201);
    expect((await api('POST', '/api/v1/policies', { name: 'disk', task: 'local-disk', tags: ['all'] })).status).toBe(201);
    expect((await api('POST', '/api/v1/nodes/bind', { node_ids: [a.id, b.id], policy: 'disk' })).status).toBe(200);
    expect((await api('PUT', `/api/v1/nodes/${a.id}/metadata/rack`, { value: 'r1' })).status).toBe(200);
    expect((await api('PATCH', `/api/v1/nodes/${a.id}`, { hostname: 'alpha' })).status).toBe(200);
    expect((await api('PUT', `/api/v1/nodes/${b.id}/address`, { ip: '10.20.0.50' })).status).toBe(200);
    expect((await api('DELETE', `/api/v1/nodes/${b.id}/address`)).status).toBe(200);
    expect((await api('POST', '/api/v1/nodes/unbind', { node_ids: [a.id] })).status).toBe(200);
    expect((await api('POST', '/api/v1/nodes/reinstall', { node_ids: [b.id] })).status).toBe(200);
    expect((await api('POST', '/api/v1/nodes/forget', { node_ids: [c.id] })).status).toBe(200);
    expect((await api('POST', '/api/v1/policies/order', { names: ['disk'] })).status).toBe(200);
    const s = await types();
    for (const want of [
      'tag.changed',
      'policy.changed',
      'node.bound',
      'node.edited',
      'node.address',
      'node.unbound',
      'node.reinstall',
      'node.forgotten',
    ])
      expect(s.has(want), want).toBe(true);
  }, 120_000);

  it('every recorded event matches its row', async () => {
    const all = await events();
    const kinds = new Set(all.map((e) => e.type));
    expect(all.flatMap((e) => eventProblems(e))).toEqual([]);
    // The flow reached enough of the table for the check to mean something.
    expect(kinds.size).toBeGreaterThanOrEqual(14);
  });
});
