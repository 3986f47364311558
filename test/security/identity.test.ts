/**
 * Node impersonation over the real node plane (issue 10 §2, docs/identity.md 1-2): a machine on the rack
 * tries to take another node's MAC, UUID and serial, its enrolment, its agent token. Each attack passes
 * only when it fails; beside each, the same move made legitimately works.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode, kernelArgs } from '../support/protocol-node.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance({}, { settings: { checkin_interval_s: 60, checkin_skew_s: 0 } });
});
afterAll(() => t.stop());

const node = async (id: number) => (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
const bootFor = async (q: string) => kernelArgs((await t.node('GET', `/boot?${q}`)).text);

describe('registration claims identifiers, it never takes them', () => {
  it('registering with macs [own, VICTIM] leaves the victim its MAC, its boots and its record', async () => {
    const victim = new ProtocolNode(t, ['52:54:00:a1:00:01'], { role: 'victim' }, 'VICTIM-1', '6a1e2b3c-0000-4000-8000-00000000a101');
    await victim.boot();
    expect((await victim.register()).status).toBe(200);

    const attacker = new ProtocolNode(t, ['52:54:00:a1:00:66', '52:54:00:a1:00:01'], { role: 'attacker' }, 'ATTACKER-1');
    await attacker.boot();
    expect((await attacker.register()).status).toBe(200);

    // Positive control: the attacker's own MAC is claimed as usual.
    const a = await node(attacker.nodeId);
    expect(a.macs).toEqual(['52:54:00:a1:00:66']);
    // The attack: the victim's MAC did not move, and the attempt is on record for the operator.
    expect((await node(victim.nodeId)).macs).toEqual(['52:54:00:a1:00:01']);
    expect(a.conflicts).toEqual([{ node_id: victim.nodeId, field: 'mac', value: '52:54:00:a1:00:01' }]);
    // The victim's next PXE boot is answered for the victim, and its agent still works.
    expect((await bootFor('mac=52:54:00:a1:00:01')).node).toBe(victim.nodeId);
    expect((await victim.checkin()).body.command).not.toBe('reboot');
    expect((await victim.checkin()).status).toBe(200);
  });

  it('a matching UUID and serial do not delete or absorb the victim', async () => {
    const uuid = '6a1e2b3c-0000-4000-8000-00000000a201';
    const victim = new ProtocolNode(t, ['52:54:00:a2:00:01'], { v: 1 }, 'VICTIM-2', uuid);
    await victim.boot();
    await victim.register();
    const attacker = new ProtocolNode(t, ['52:54:00:a2:00:66', '52:54:00:a2:00:01'], { v: 2 }, 'VICTIM-2', uuid);
    await attacker.boot();
    expect((await attacker.register()).status).toBe(200);
    const v = await node(victim.nodeId);
    expect(v).toMatchObject({ uuid, serial: 'VICTIM-2', macs: ['52:54:00:a2:00:01'], state: 'registered' });
    const a = await node(attacker.nodeId);
    expect(a.uuid).toBeNull();
    expect(a.serial).toBeNull();
    expect(a.conflicts.map((c: { field: string }) => c.field).sort()).toEqual(['mac', 'serial', 'uuid']);
    const events = (await t.admin('GET', `/api/v1/nodes/${attacker.nodeId}/events`)).body.events as { type: string }[];
    expect(events.filter((e) => e.type === 'node.conflict').length).toBe(3);
    expect(events.some((e) => e.type === 'node.merged')).toBe(false);
  });

  it('/boot with an unknown MAC and a known UUID+serial gets a new record, never the known node or its token', async () => {
    const uuid = '6a1e2b3c-0000-4000-8000-00000000a301';
    const victim = new ProtocolNode(t, ['52:54:00:a3:00:01'], { v: 3 }, 'VICTIM-3', uuid);
    await victim.boot();
    await victim.register();
    // Both identifiers are in every DHCP DISCOVER the victim broadcasts: anyone on the rack can send them.
    const forged = await bootFor(`mac=52:54:00:a3:00:66&uuid=${uuid}&serial=VICTIM-3`);
    expect(forged.node).not.toBe(victim.nodeId);
    expect((await node(victim.nodeId)).macs).toEqual(['52:54:00:a3:00:01']);
    const fresh = await node(forged.node!);
    expect(fresh).toMatchObject({ macs: ['52:54:00:a3:00:66'], uuid: null, serial: null });
    expect(fresh.conflicts).toEqual(
      expect.arrayContaining([
        { node_id: victim.nodeId, field: 'uuid', value: uuid },
        { node_id: victim.nodeId, field: 'serial', value: 'VICTIM-3' },
      ]),
    );
    // The token it got enrols the new record only.
    const r = await t.node('POST', '/api/v1/register', {
      hw_id: 'x',
      node_id: victim.nodeId,
      macs: ['52:54:00:a3:00:66'],
      token: forged.token,
      facts: {},
    });
    expect(r.status).toBe(403);
    const own = await t.node('POST', '/api/v1/register', { hw_id: 'x', macs: ['52:54:00:a3:00:66'], token: forged.token, facts: {} });
    expect(own.status).toBe(200);
    expect(own.body.node_id).toBe(forged.node);
    // Positive control: the victim's own MAC still boots the victim.
    expect((await bootFor(`mac=52:54:00:a3:00:01&uuid=${uuid}&serial=VICTIM-3`)).node).toBe(victim.nodeId);
    expect((await victim.checkin()).status).toBe(200);
  });

  it('an agent token rotates only its own node', async () => {
    const victim = new ProtocolNode(t, ['52:54:00:a4:00:01'], { v: 4 }, 'VICTIM-4');
    const attacker = new ProtocolNode(t, ['52:54:00:a4:00:66'], { v: 5 }, 'ATTACKER-4');
    for (const n of [victim, attacker]) {
      await n.boot();
      await n.register();
    }
    const body = { hw_id: 'x', node_id: victim.nodeId, macs: ['52:54:00:a4:00:66'], token: attacker.agentToken, facts: {} };
    expect((await t.node('POST', '/api/v1/register', body)).status).toBe(403);
    expect((await t.node('POST', '/api/v1/checkin', { ...checkinBody(victim), agent_token: attacker.agentToken })).status).toBe(403);
    expect((await victim.checkin()).status).toBe(200); // the victim's token was not rotated
    // Positive control: the holder rotates its own token.
    const before = attacker.agentToken;
    expect((await attacker.register()).status).toBe(200);
    expect(attacker.agentToken).not.toBe(before);
    expect((await t.node('POST', '/api/v1/checkin', { ...checkinBody(attacker), agent_token: before })).status).toBe(403);
  });
});

describe('enrolment tokens expire', () => {
  it('refuses an enrolment token past enrol_token_ttl_s and accepts a fresh one', async () => {
    let skewMs = 0;
    const c = await startTestAppliance({}, { now: () => new Date(Date.now() + skewMs), settings: { enrol_token_ttl_s: 60 } });
    try {
      const n = new ProtocolNode(c, ['52:54:00:a5:00:01'], { v: 6 }, 'TTL-1');
      await n.boot();
      skewMs = 61_000;
      const late = await n.register();
      expect(late.status).toBe(403);
      expect(late.body.message).toMatch(/expired/);
      const ev = (await c.admin('GET', `/api/v1/events?type=node.token_refused`)).body.events as { node_id: number }[];
      expect(ev.map((e) => e.node_id)).toContain(kernelArgs(n.script).node);
      await n.boot(); // a new boot, a new token
      expect((await n.register()).status).toBe(200);
    } finally {
      await c.stop();
    }
  });
});

function checkinBody(n: ProtocolNode) {
  return { node_id: n.nodeId, agent_token: n.agentToken, state: 'running', facts_hash: 'x', first_checkin: false };
}
