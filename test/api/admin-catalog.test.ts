import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';

let t: TestAppliance;
let dell: ProtocolNode;
let hpe: ProtocolNode;
beforeAll(async () => {
  t = await startTestAppliance();
  dell = new ProtocolNode(t, ['52:54:00:10:00:01'], { manufacturer: 'Dell Inc.', memorysize_mb: 262144, processorcount: 64 });
  hpe = new ProtocolNode(t, ['52:54:00:10:00:02'], { manufacturer: 'HPE', memorysize_mb: 65536, processorcount: 16 });
  for (const n of [dell, hpe]) {
    await n.boot();
    expect((await n.register()).status).toBe(200);
  }
});
afterAll(() => t.stop());

describe('tags', () => {
  it('creates a tag, evaluates it on existing nodes, and lists its count', async () => {
    const r = await t.admin('POST', '/api/v1/tags', { name: 'dell', rule: ['=', ['fact', 'manufacturer'], 'Dell Inc.'] });
    expect(r.status).toBe(201);
    expect(r.body.node_count).toBe(1);
    expect((await t.admin('GET', `/api/v1/nodes/${dell.nodeId}`)).body.tags).toEqual(['dell']);
    expect((await t.admin('GET', `/api/v1/nodes/${hpe.nodeId}`)).body.tags).toEqual([]);
    const big = await t.admin('POST', '/api/v1/tags', {
      name: 'bigmem',
      rule: ['and', ['>=', ['num', ['fact', 'memorysize_mb']], 131072], ['tag', 'dell']],
    });
    expect(big.body.node_count).toBe(1);
    const list = await t.admin('GET', '/api/v1/tags');
    expect(list.body.tags.map((x: { name: string }) => x.name)).toEqual(['bigmem', 'dell']);
    expect((await t.admin('GET', '/api/v1/tags/dell')).body.rule).toEqual(['=', ['fact', 'manufacturer'], 'Dell Inc.']);
  });

  it('rejects bad rules with a message naming the position, and duplicates', async () => {
    const cases: [unknown, RegExp][] = [
      [['equals', ['fact', 'x'], 1], /rule\[0\]: unknown operator "equals"/],
      [['=', ['fact', 'x']], /"=" takes 2 argument/],
      [['like', ['fact', 'x'], '(['], /rule\[2\]: pattern "\(\[" at offset 1: unterminated character class/],
      [['like', ['fact', 'x'], '^(a)\\1$'], /rule\[2\]: pattern .* at offset 4: backreferences are not supported/],
      [['like', ['fact', 'x'], 'x(?!y)'], /at offset 1: lookaround/],
      [['tag', 'nope'], /no tag named "nope"/],
      [['fact', 'x'], /gives a value, not true\/false/],
      [['and', 'x'], /rule\[1\]: expected an expression/],
    ];
    for (const [rule, msg] of cases) {
      const r = await t.admin('POST', '/api/v1/tags', { name: 'bad', rule });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('CC_ERR_RULE_INVALID');
      expect(r.body.message).toMatch(msg);
    }
    expect((await t.admin('POST', '/api/v1/tags', { name: 'dell', rule: ['=', 1, 1] })).status).toBe(409);
    expect((await t.admin('POST', '/api/v1/tags', { name: 'has space', rule: ['=', 1, 1] })).status).toBe(400);
    // A cycle through another tag.
    await t.admin('POST', '/api/v1/tags', { name: 'a', rule: ['=', 1, 1] });
    await t.admin('POST', '/api/v1/tags', { name: 'b', rule: ['tag', 'a'] });
    const cyc = await t.admin('PUT', '/api/v1/tags/a', { name: 'a', rule: ['tag', 'b'] });
    expect(cyc.status).toBe(400);
    expect(cyc.body.message).toContain('refer to itself');
    expect((await t.admin('DELETE', '/api/v1/tags/a')).status).toBe(409); // used by b
    expect((await t.admin('DELETE', '/api/v1/tags/b')).status).toBe(204);
    expect((await t.admin('DELETE', '/api/v1/tags/a')).status).toBe(204);
    expect((await t.admin('GET', '/api/v1/tags/a')).status).toBe(404);
  });

  it('re-tags nodes when a rule changes', async () => {
    await t.admin('PUT', '/api/v1/tags/dell', { name: 'dell', rule: ['in', ['lower', ['fact', 'manufacturer']], 'dell inc.', 'hpe'] });
    expect((await t.admin('GET', `/api/v1/nodes/${hpe.nodeId}`)).body.tags).toContain('dell');
    await t.admin('PUT', '/api/v1/tags/dell', { name: 'dell', rule: ['like', ['fact', 'manufacturer'], '^Dell'] });
    expect((await t.admin('GET', `/api/v1/nodes/${hpe.nodeId}`)).body.tags).not.toContain('dell');
  });
});

describe('dry-run', () => {
  it('says which nodes a rule matches and why the others do not', async () => {
    const r = await t.admin('POST', '/api/v1/dry-run', { rule: ['>', ['num', ['fact', 'processorcount']], 32] });
    expect(r.status).toBe(200);
    const m = new Map(r.body.matches.map((x: { node_id: number }) => [x.node_id, x]));
    expect(m.get(dell.nodeId)).toMatchObject({ matched: true, reasons: [] });
    expect(m.get(hpe.nodeId)).toMatchObject({ matched: false, reasons: ['fact processorcount is 16, not > 32'] });
    const one = await t.admin('POST', '/api/v1/dry-run', { tags: ['bigmem'], node_id: hpe.nodeId });
    expect(one.body.matches).toEqual([{ node_id: hpe.nodeId, hostname: null, matched: false, reasons: ['node lacks tag "bigmem"'] }]);
    expect((await t.admin('POST', '/api/v1/dry-run', {})).status).toBe(400);
    expect((await t.admin('POST', '/api/v1/dry-run', { rule: ['nope'] })).status).toBe(400);
  });
});

describe('policies', () => {
  it('validates references, keeps an order, moves and reorders', async () => {
    const bad = await t.admin('POST', '/api/v1/policies', { name: 'p0', task: 'nosuchtask' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('no task named');
    expect((await t.admin('POST', '/api/v1/policies', { name: 'p0', task: 'debian', tags: ['ghost'] })).status).toBe(400);
    for (const n of ['p1', 'p2', 'p3'])
      expect((await t.admin('POST', '/api/v1/policies', { name: n, task: 'local-disk', enabled: false })).status).toBe(201);
    expect((await t.admin('POST', '/api/v1/policies', { name: 'p1', task: 'local-disk' })).status).toBe(409);
    const names = async () => (await t.admin('GET', '/api/v1/policies')).body.policies.map((p: { name: string }) => p.name);
    expect(await names()).toEqual(['p1', 'p2', 'p3']);
    await t.admin('POST', '/api/v1/policies/p3/move', { direction: 'up' });
    expect(await names()).toEqual(['p1', 'p3', 'p2']);
    await t.admin('POST', '/api/v1/policies/order', { names: ['p2', 'p1', 'p3'] });
    expect(await names()).toEqual(['p2', 'p1', 'p3']);
    expect((await t.admin('POST', '/api/v1/policies/order', { names: ['p2', 'p1'] })).status).toBe(400);
    const upd = await t.admin('PUT', '/api/v1/policies/p2', {
      name: 'p2',
      task: 'local-disk',
      hostname_template: 'rack1-${id}',
      max_count: 3,
    });
    expect(upd.body).toMatchObject({
      name: 'p2',
      priority: 0,
      enabled: false,
      max_count: 3,
      hostname_template: 'rack1-${id}',
      bound_count: 0,
    });
    for (const n of ['p1', 'p2', 'p3']) expect((await t.admin('DELETE', `/api/v1/policies/${n}`)).status).toBe(204);
  });

  it('auto-binds by tags in priority order and never past max_count, even under concurrency', async () => {
    await t.admin('POST', '/api/v1/tags', { name: 'all', rule: ['=', 1, 1] });
    const r = await t.admin('POST', '/api/v1/policies', {
      name: 'cap2',
      task: 'local-disk',
      tags: ['all'],
      max_count: 2,
      hostname_template: 'web${id}',
    });
    expect(r.status).toBe(201);
    // The two nodes registered earlier were bound right away.
    expect(r.body.bound_count).toBe(2);
    // 10 more machines register at once: none may be bound (policy full).
    const nodes = Array.from(
      { length: 10 },
      (_, i) => new ProtocolNode(t, [`52:54:00:20:00:${(10 + i).toString(16).padStart(2, '0')}`], { i }),
    );
    await Promise.all(nodes.map(async (n) => (await n.boot(), await n.register())));
    const p = await t.admin('GET', '/api/v1/policies/cap2');
    expect(p.body.bound_count).toBe(2);
    const dry = await t.admin('POST', '/api/v1/dry-run', { policy: 'cap2', node_id: nodes[0]!.nodeId });
    expect(dry.body.matches[0].reasons).toContain('policy "cap2" is full (2/2)');
    const bound = (await t.admin('GET', '/api/v1/nodes?limit=1000')).body.nodes.filter(
      (n: { policy: string | null }) => n.policy === 'cap2',
    );
    expect(bound.map((n: { hostname: string; id: number }) => n.hostname)).toEqual(bound.map((n: { id: number }) => `web${n.id}`));
    // Raising max_count binds more on the next change.
    await t.admin('PUT', '/api/v1/policies/cap2', { name: 'cap2', task: 'local-disk', tags: ['all'], max_count: 5 });
    expect((await t.admin('GET', '/api/v1/policies/cap2')).body.bound_count).toBe(5);
    expect((await t.admin('DELETE', '/api/v1/policies/cap2')).status).toBe(409);
  });

  it('refuses a bind by hand past max_count with CC_ERR_POLICY_FULL for that node only', async () => {
    const nodes = (await t.admin('GET', '/api/v1/nodes?limit=1000')).body.nodes as { id: number; policy: string | null }[];
    const inside = nodes.find((n) => n.policy === 'cap2')!;
    const outside = nodes.find((n) => n.policy === null)!;
    expect(outside).toBeDefined();
    const b = await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [outside.id, inside.id], policy: 'cap2' });
    expect(b.status).toBe(200);
    expect(b.body.results).toEqual([
      {
        node_id: outside.id,
        ok: false,
        state: 'registered',
        code: 'CC_ERR_POLICY_FULL',
        reason: 'The policy has no free slot: policy "cap2" has max_count 5',
      },
      { node_id: inside.id, ok: true, state: 'bound' },
    ]);
    expect((await t.admin('GET', `/api/v1/nodes/${outside.id}`)).body.policy).toBeNull();
    expect((await t.admin('GET', '/api/v1/policies/cap2')).body.bound_count).toBe(5);
  });
});

describe('tasks and settings', () => {
  it('lists built-ins, stores a custom task, previews it for a node and rejects bad templates', async () => {
    const list = await t.admin('GET', '/api/v1/tasks');
    expect(list.body.tasks.map((x: { name: string }) => x.name)).toEqual(
      expect.arrayContaining(['local-disk', 'debian', 'ubuntu', 'rocky', 'alma', 'custom-ipxe']),
    );
    const ok = await t.admin('POST', '/api/v1/tasks', {
      name: 'memtest',
      ipxe: '#!ipxe\necho {{hostname}} {{node.serial}}\n{{#each node.macs}}echo mac {{this}}\n{{/each}}',
      templates: { 'notes.txt': 'for {{node.id}}' },
    });
    expect(ok.status).toBe(201);
    const pv = await t.admin('POST', '/api/v1/tasks/memtest/preview', { node_id: dell.nodeId });
    expect(pv.status).toBe(200);
    const host = (await t.admin('GET', `/api/v1/nodes/${dell.nodeId}`)).body.hostname;
    expect(host).toBe(`web${dell.nodeId}`);
    expect(pv.body.ipxe).toContain(`echo ${host} SN-52:54:00:10:00:01`);
    expect(pv.body.ipxe).toContain('echo mac 52:54:00:10:00:01');
    expect(pv.body.files['notes.txt']).toBe(`for ${dell.nodeId}`);
    const bad = await t.admin('POST', '/api/v1/tasks', { name: 'broken', ipxe: '#!ipxe\n{{#if x}}\nnever closed' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('CC_ERR_TEMPLATE_INVALID');
    expect(bad.body.message).toContain('line 2');
    expect((await t.admin('POST', '/api/v1/tasks', { name: 'debian', ipxe: '#!ipxe' })).status).toBe(409);
    expect((await t.admin('DELETE', '/api/v1/tasks/debian')).status).toBe(400);
    const deb = await t.admin('POST', '/api/v1/tasks/debian/preview', { node_id: hpe.nodeId });
    expect(deb.body.files['preseed.cfg']).toContain('d-i netcfg/get_hostname string');
    expect((await t.admin('DELETE', '/api/v1/tasks/memtest')).status).toBe(204);
  });

  it('changes settings that are pushed to agents', async () => {
    const r = await t.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 7, facts_exclude_pattern: '^blockdevice_loop' });
    expect(r.body).toMatchObject({ checkin_interval_s: 7, facts_exclude_pattern: '^blockdevice_loop' });
    expect((await dell.checkin()).body.config).toMatchObject({ checkin_interval_s: 7, facts_exclude_pattern: '^blockdevice_loop' });
    expect((await t.admin('PATCH', '/api/v1/settings', { facts_exclude_pattern: '([' })).status).toBe(400);
    expect((await t.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 0 })).status).toBe(400);
    expect((await t.admin('PATCH', '/api/v1/settings', { unknown_key: 1 })).status).toBe(400);
  });
});
