import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode, kernelArgs } from '../support/protocol-node.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance({}, { settings: { checkin_interval_s: 1, checkin_skew_s: 0 } });
});
afterAll(() => t.stop());

describe('node plane: boot scripts', () => {
  it('serves /boot.ipxe that retries DHCP and chains /boot with the machine identity', async () => {
    const r = await t.node('GET', '/boot.ipxe');
    expect(r.status).toBe(200);
    expect(r.text.startsWith('#!ipxe')).toBe(true);
    expect(r.text).toContain('dhcp && goto chain');
    expect(r.text).toContain(`${t.nodeUrl}/boot?mac=\${netX/mac}&uuid=\${uuid}&serial=\${serial:uristring}`);
    expect(r.text).toContain(':error');
  });

  it('records an unknown machine as discovered and answers with a token (no microkernel installed yet)', async () => {
    const r = await t.node(
      'GET',
      '/boot?mac=52-54-00-AA-00-01&serial=XYZ1&uuid=4c4c4544-0042-3510-8051-b7c04f4e3232&platform=pcbios&arch=i386',
    );
    expect(r.status).toBe(200);
    expect(r.text).toContain('no discovery microkernel is installed');
    const ka = kernelArgs(r.text);
    expect(ka.url).toBe(t.nodeUrl);
    expect(ka.token?.length).toBeGreaterThan(16);
    const n = await t.admin('GET', `/api/v1/nodes/${ka.node}`);
    expect(n.body).toMatchObject({
      state: 'booting-microkernel',
      macs: ['52:54:00:aa:00:01'],
      serial: 'XYZ1',
      boot_mode: 'bios',
      platform: 'pcbios',
    });
    const ev = await t.admin('GET', `/api/v1/nodes/${ka.node}/events`);
    expect(ev.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['node.discovered', 'node.boot']));
  });

  it('refuses a missing or malformed MAC with the reason', async () => {
    const a = await t.node('GET', '/boot?serial=1');
    expect(a.status).toBe(400);
    expect(a.body.code).toBe('CC_ERR_BAD_REQUEST');
    const b = await t.node('GET', '/boot?mac=zz:zz');
    expect(b.status).toBe(400);
    expect(b.body.message).toContain('not a MAC address');
  });

  it('answers 503 with the fix for microkernel assets that are not installed', async () => {
    const r = await t.node('GET', '/mk/vmlinuz');
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('CC_ERR_NO_MICROKERNEL');
    expect(r.body.fix).toContain('build:microkernel');
    expect((await t.node('GET', '/mk/passwd')).status).toBe(400);
  });

  it('has no admin route on the node plane', async () => {
    for (const u of ['/api/v1/nodes', '/api/v1/policies', '/api/v1/status', '/api/docs']) expect((await t.node('GET', u)).status).toBe(404);
  });
});

describe('node plane: register and check-in', () => {
  it('registers with the enrolment token once, then checks in with the agent token', async () => {
    const n = new ProtocolNode(t, ['52:54:00:bb:00:01', '52:54:00:bb:00:02'], { manufacturer: 'Dell Inc.', memorysize_mb: 65536 });
    await n.boot();
    const enrol = kernelArgs(n.script).token!;
    const r = await n.register();
    expect(r.status).toBe(200);
    expect(r.body.config).toMatchObject({ checkin_interval_s: 1, server_url: t.nodeUrl });
    // The enrolment token is one-time.
    const again = await n.register(enrol);
    expect(again.status).toBe(403);
    expect(again.body.fix).toBeTruthy();
    const node = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body;
    expect(node.state).toBe('registered');
    expect(node.macs).toEqual(['52:54:00:bb:00:01', '52:54:00:bb:00:02']);
    expect(node.summary.memory_mb).toBe(65536);
    const c = await n.checkin(false);
    expect(c.body.command).toBe('acknowledge');
  });

  it('asks for a register when facts changed, on first check-in after a boot, and for unknown nodes', async () => {
    const n = new ProtocolNode(t, ['52:54:00:cc:00:01'], { a: 1 });
    await n.boot();
    await n.register();
    expect((await n.checkin(true)).body.command).toBe('acknowledge'); // registered after this boot already
    n.facts = { a: 2 };
    expect((await n.checkin()).body.command).toBe('register');
    expect((await n.register()).status).toBe(200);
    expect((await n.checkin()).body.command).toBe('acknowledge');
    await n.boot(); // rebooted into the microkernel again
    expect((await n.checkin(true)).body.command).toBe('register');
    const unknown = await t.node('POST', '/api/v1/checkin', {
      node_id: 99999,
      agent_token: 'x'.repeat(20),
      state: 's',
      facts_hash: 'h',
      first_checkin: false,
    });
    expect(unknown.body.command).toBe('register');
  });

  it('rejects a wrong agent token, bad bodies and oversized facts with 4xx and a reason', async () => {
    const n = new ProtocolNode(t, ['52:54:00:dd:00:01'], { a: 1 });
    await n.boot();
    await n.register();
    const bad = await t.node('POST', '/api/v1/checkin', {
      node_id: n.nodeId,
      agent_token: 'wrong-token-123',
      state: 's',
      facts_hash: 'h',
      first_checkin: false,
    });
    expect(bad.status).toBe(403);
    const missing = await t.node('POST', '/api/v1/register', { macs: ['52:54:00:dd:00:01'] });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/hw_id|token|facts/);
    const extra = await t.node('POST', '/api/v1/checkin', {
      node_id: 1,
      agent_token: 'x'.repeat(20),
      state: 's',
      facts_hash: 'h',
      first_checkin: false,
      evil: 1,
    });
    expect(extra.status).toBe(400);
    const notJson = await t.node('POST', '/api/v1/register', '{"broken');
    expect(notJson.status).toBe(400);
    const big = await t.node('POST', '/api/v1/register', {
      hw_id: 'x',
      macs: ['52:54:00:dd:00:01'],
      token: 'x'.repeat(20),
      facts: { blob: 'y'.repeat(60000), ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'z'.repeat(60000)])) },
    });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('CC_ERR_TOO_LARGE');
    const badMac = await t.node('POST', '/api/v1/register', { hw_id: 'x', macs: ['00:00:00:00:00:00'], token: 'x'.repeat(20), facts: {} });
    expect(badMac.status).toBe(400);
  });

  it('keeps a boot-time record of another NIC apart as a conflict; the operator merges them (docs/identity.md 1)', async () => {
    // DHCP/iPXE saw only the second NIC of this machine...
    const boot2 = await t.node('GET', '/boot?mac=52:54:00:ee:00:02&serial=MERGE1');
    const early = kernelArgs(boot2.text).node!;
    const n = new ProtocolNode(t, ['52:54:00:ee:00:01', '52:54:00:ee:00:02'], { x: 1 }, 'MERGE1');
    await n.boot(); // ...then the first NIC boots and its agent registers both
    const r = await n.register();
    expect(r.status).toBe(200);
    const owners = async () =>
      ((await t.admin('GET', '/api/v1/nodes?limit=100000')).body.nodes as { id: number; macs: string[] }[]).filter((d) =>
        d.macs.some((m) => m.startsWith('52:54:00:ee')),
      );
    // Nothing a node sends merges records: the MAC stays with the record that holds it, as a conflict.
    expect((await owners()).length).toBe(2);
    const reg = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body;
    expect(reg.macs).toEqual(['52:54:00:ee:00:01']);
    expect(reg.conflicts).toEqual(
      expect.arrayContaining([
        { node_id: early, field: 'mac', value: '52:54:00:ee:00:02' },
        { node_id: early, field: 'serial', value: 'MERGE1' },
      ]),
    );
    const ev = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}/events`)).body.events as { type: string }[];
    expect(ev.some((e) => e.type === 'node.conflict')).toBe(true);
    expect(ev.some((e) => e.type === 'node.merged')).toBe(false);
    // The operator says they are one machine.
    const m = await t.admin('POST', '/api/v1/nodes/merge', { into: n.nodeId, from: early });
    expect(m.status).toBe(200);
    expect(m.body.macs.sort()).toEqual(['52:54:00:ee:00:01', '52:54:00:ee:00:02']);
    expect(m.body.conflicts).toEqual([]);
    expect((await owners()).map((o) => o.id)).toEqual([n.nodeId]);
    expect((await t.admin('GET', `/api/v1/nodes/${early}`)).status).toBe(404);
    const after = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}/events`)).body.events as { type: string; data: { from?: number } }[];
    expect(after.find((e) => e.type === 'node.merged')?.data.from).toBe(early);
    // The agent keeps working on the merged record.
    expect((await n.checkin()).body.command).toBe('acknowledge');
  });

  it('surfaces two registered machines claiming one UUID as a conflict, keeping both until the operator keeps them apart', async () => {
    const uuid = '11111111-2222-3333-4444-555555555555';
    const a = new ProtocolNode(t, ['52:54:00:f0:00:01'], { k: 1 }, 'CONF-A', uuid);
    const b = new ProtocolNode(t, ['52:54:00:f0:00:02'], { k: 2 }, 'CONF-B', uuid);
    await a.boot();
    await a.register();
    await b.boot();
    await b.register();
    expect(a.nodeId).not.toBe(b.nodeId);
    const ev = (await t.admin('GET', `/api/v1/nodes/${b.nodeId}/events`)).body.events as { type: string; data: { field?: string } }[];
    expect(ev.find((e) => e.type === 'node.conflict')?.data.field).toBe('uuid');
    // The first holder keeps the UUID; the second does not take it and carries the conflict until the operator decides.
    expect((await t.admin('GET', `/api/v1/nodes/${a.nodeId}`)).body.uuid).toBe(uuid);
    const nb = (await t.admin('GET', `/api/v1/nodes/${b.nodeId}`)).body;
    expect(nb.uuid).toBeNull();
    expect(nb.conflicts).toEqual([{ node_id: a.nodeId, field: 'uuid', value: uuid }]);
    // Keep apart: the conflict goes and is not raised again by the next registration.
    const k = await t.admin('POST', `/api/v1/nodes/${b.nodeId}/conflicts/dismiss`, { node_id: a.nodeId });
    expect(k.status).toBe(200);
    expect(k.body.conflicts).toEqual([]);
    b.facts = { k: 3 };
    expect((await b.register()).status).toBe(200);
    expect((await t.admin('GET', `/api/v1/nodes/${b.nodeId}`)).body.conflicts).toEqual([]);
    expect((await t.admin('POST', `/api/v1/nodes/${b.nodeId}/conflicts/dismiss`, { node_id: b.nodeId })).status).toBe(400);
  });
});
