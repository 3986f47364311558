/**
 * In-band BMC enrolment as a forged agent would try it (docs/identity.md 2-3, docs/security.md): report
 * credentials without being asked, before approval, with another node's token, over an operator-set BMC, or
 * with a BMC address outside the allowed subnets to have the appliance send credentials there. Each attack
 * fails over the real node plane; each has a positive control beside it.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';

/** Loopback addresses of this test's own, where listeners stand in for BMCs (port 623/udp RMCP, 443/tcp Redfish). */
const base = `127.78.${(process.pid >> 8) & 255}`;
const INSIDE = `${base}.${(process.pid & 127) + 1}`;
const OUTSIDE = `127.79.${(process.pid >> 8) & 255}.${(process.pid & 127) + 1}`;

/** Counts what reaches a fake BMC address. */
async function fakeBmc(ip: string) {
  const seen = { rmcp: 0, https: 0 };
  const udp = dgram.createSocket('udp4');
  udp.on('message', () => seen.rmcp++);
  await new Promise<void>((r) => udp.bind(623, ip, r));
  const tcp = net.createServer((s) => {
    seen.https++;
    s.destroy();
  });
  await new Promise<void>((r) => tcp.listen(443, ip, r));
  return { seen, close: async () => (udp.close(), await new Promise((r) => tcp.close(r))) };
}

let t: TestAppliance;
let n = 0;
const fakes: { close(): Promise<unknown> }[] = [];
beforeAll(async () => {
  t = await startTestAppliance(
    {},
    {
      settings: {
        bmc_enrol_inband: 'on',
        bmc_allowed_subnets: [`${base}.0/24`],
        power_poll_interval_s: 0,
        bmc_request_timeout_s: 3,
      },
    },
  );
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(t.dataDir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function registered(): Promise<ProtocolNode> {
  n++;
  const node = new ProtocolNode(t, [`52:54:00:78:00:${n.toString(16).padStart(2, '0')}`], { manufacturer: 'Forged' });
  await node.boot();
  expect((await node.register()).status).toBe(200);
  return node;
}
const report = (node: ProtocolNode, over: Record<string, unknown> = {}) =>
  t.node('POST', '/api/v1/bmc-enrol', {
    node_id: node.nodeId,
    agent_token: node.agentToken,
    outcome: 'enrolled',
    address: INSIDE,
    channel: 1,
    user_id: 3,
    username: 'crashcart',
    password: 'Forged0123456789',
    reused: false,
    ...over,
  });
const view = async (id: number) => (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in-band enrolment cannot be forced by a node', () => {
  it('a report the appliance did not ask for is refused (setting off); asked, the same report is taken', async () => {
    await t.admin('PATCH', '/api/v1/settings', { bmc_enrol_inband: 'off' });
    const node = await registered();
    expect((await node.checkin()).body.bmc_enrol).toBeUndefined();
    const r = await report(node, { address: null });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('CC_ERR_BMC_ENROL_NOT_REQUESTED');
    expect(await view(node.nodeId)).toMatchObject({ bmc: null, bmc_enrolment: null });
    // Positive control: on, the check-in asks and the report is recorded.
    await t.admin('PATCH', '/api/v1/settings', { bmc_enrol_inband: 'on' });
    expect((await node.checkin()).body.bmc_enrol).toBe(true);
    const ok = await report(node, { address: null });
    expect(ok.body).toEqual({ state: 'no-address' });
  });

  it('with approval required, an unapproved node is never asked and its report is refused until approved', async () => {
    await t.admin('PATCH', '/api/v1/settings', { approval_required: true });
    try {
      const node = await registered();
      expect((await node.checkin()).body.bmc_enrol).toBeUndefined();
      expect((await view(node.nodeId)).bmc_enrolment).toMatchObject({ state: 'awaiting-approval' });
      expect((await report(node, { address: null })).status).toBe(409);
      // Positive control: approved, it is asked at the next check-in.
      await t.admin('POST', '/api/v1/nodes/approve', { node_ids: [node.nodeId] });
      expect((await node.checkin()).body.bmc_enrol).toBe(true);
      expect((await view(node.nodeId)).bmc_enrolment).toMatchObject({ state: 'requested' });
    } finally {
      await t.admin('PATCH', '/api/v1/settings', { approval_required: false });
    }
  });

  it("another node's agent token, or none that matches, is refused", async () => {
    const victim = await registered();
    const attacker = await registered();
    await victim.checkin();
    const r = await t.node('POST', '/api/v1/bmc-enrol', {
      node_id: victim.nodeId,
      agent_token: attacker.agentToken,
      outcome: 'failed',
      reason: 'x',
    });
    expect(r.status).toBe(403);
    expect((await view(victim.nodeId)).bmc_enrolment).toMatchObject({ state: 'requested' });
  });

  it('a BMC address outside the allowed subnets receives nothing until the operator accepts it', async () => {
    const inside = await fakeBmc(INSIDE);
    const outside = await fakeBmc(OUTSIDE);
    fakes.push(inside, outside);
    const forged = await registered();
    await forged.checkin();
    const r = await report(forged, { address: OUTSIDE });
    expect(r.body).toEqual({ state: 'outside-subnets' });
    const v = await view(forged.nodeId);
    expect(v.bmc).toBeNull();
    expect(v.bmc_enrolment).toMatchObject({ state: 'outside-subnets', address: OUTSIDE });
    expect(v.bmc_enrolment.reason).toMatch(/outside bmc_allowed_subnets .*accept it if it is this node's BMC/);
    await t.app.powerPoller.pollOnce();
    await t.admin('POST', '/api/v1/nodes/power', { node_ids: [forged.nodeId], action: 'status' });
    // Positive control: an address inside the subnets is contacted at once (power read over RMCP, Redfish probe).
    const honest = await registered();
    await honest.checkin();
    expect((await report(honest)).body).toEqual({ state: 'enrolled' });
    for (let i = 0; i < 100 && (inside.seen.rmcp === 0 || inside.seen.https === 0); i++) await sleep(100);
    expect(inside.seen.rmcp).toBeGreaterThan(0);
    expect(inside.seen.https).toBeGreaterThan(0);
    expect(outside.seen).toEqual({ rmcp: 0, https: 0 });
    // The operator's decision is what sends it there.
    const acc = await t.admin('POST', `/api/v1/nodes/${forged.nodeId}/bmc/accept`, {});
    expect(acc.status).toBe(200);
    expect(acc.body.bmc).toMatchObject({ address: OUTSIDE, username: 'crashcart', password_set: true });
    for (let i = 0; i < 100 && outside.seen.rmcp === 0; i++) await sleep(100);
    expect(outside.seen.rmcp).toBeGreaterThan(0);
  });

  it('a node whose BMC the operator set cannot replace it by reporting one', async () => {
    const node = await registered();
    const put = await t.admin('PUT', `/api/v1/nodes/${node.nodeId}/bmc`, {
      driver: 'ipmi',
      address: INSIDE,
      username: 'root',
      password: 'operator-secret',
    });
    expect(put.status).toBe(200);
    expect((await node.checkin()).body.bmc_enrol).toBeUndefined();
    expect((await report(node)).status).toBe(409);
    expect((await view(node.nodeId)).bmc).toMatchObject({ username: 'root', address: INSIDE });
  });

  it("only the operator's request asks a node that has a BMC; its report then waits like any other", async () => {
    await t.admin('PATCH', '/api/v1/settings', { bmc_enrol_inband: 'off', approval_required: true });
    try {
      const node = await registered();
      await t.admin('PUT', `/api/v1/nodes/${node.nodeId}/bmc`, {
        driver: 'ipmi',
        address: INSIDE,
        username: 'root',
        password: 'operator-secret',
      });
      expect((await node.checkin()).body.bmc_enrol).toBeUndefined();
      expect((await report(node)).status).toBe(409);
      // Asked by the operator while the node is unapproved: it waits for approval (docs/identity.md 3).
      const asked = await t.admin('POST', `/api/v1/nodes/${node.nodeId}/bmc/enrol`, {});
      expect(asked.status).toBe(200);
      expect(asked.body.bmc_enrolment).toMatchObject({ state: 'awaiting-approval' });
      expect((await node.checkin()).body.bmc_enrol).toBeUndefined();
      expect((await report(node)).status).toBe(409);
      await t.admin('POST', '/api/v1/nodes/approve', { node_ids: [node.nodeId] });
      expect((await node.checkin()).body.bmc_enrol).toBe(true);
      expect((await report(node, { address: OUTSIDE })).body).toEqual({ state: 'outside-subnets' });
      // The operator's BMC stays until the operator accepts; the same report cannot be sent again.
      expect((await view(node.nodeId)).bmc).toMatchObject({ username: 'root', address: INSIDE });
      expect((await report(node, { address: INSIDE })).status).toBe(409);
    } finally {
      await t.admin('PATCH', '/api/v1/settings', { bmc_enrol_inband: 'on', approval_required: false });
    }
  });

  it('accept needs something to accept, and an address when the BMC reported none', async () => {
    const node = await registered();
    expect((await t.admin('POST', `/api/v1/nodes/${node.nodeId}/bmc/accept`, {})).body.code).toBe('CC_ERR_BMC_NOTHING_TO_ACCEPT');
    await node.checkin();
    await report(node, { address: null });
    const none = await t.admin('POST', `/api/v1/nodes/${node.nodeId}/bmc/accept`, {});
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/reported no LAN address; give the address/);
    const given = await t.admin('POST', `/api/v1/nodes/${node.nodeId}/bmc/accept`, { address: INSIDE });
    expect(given.body.bmc_enrolment).toMatchObject({ state: 'enrolled', address: INSIDE });
  });
});
