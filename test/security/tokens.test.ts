/**
 * Install and enrolment tokens over the real node plane (docs/identity.md 2): install tokens are stored
 * hashed, minted by /boot, end with the install; in full-DHCP mode both kinds work only from an address
 * leased or reserved to the node. Several rack machines are played from 127.0.0.x source addresses; the
 * leases are written into the lease store the way the DHCP server writes them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { putBoundLease } from '../support/bound-lease.ts';
import { ProtocolNode, kernelArgs } from '../support/protocol-node.ts';
import { httpFrom } from './helpers/http-from.ts';
import { install, setupInstallTask as setup } from './helpers/install-task.ts';

describe('install tokens', () => {
  let t: TestAppliance;
  let skewMs = 0;
  beforeAll(async () => {
    t = await startTestAppliance({}, { now: () => new Date(Date.now() + skewMs), settings: { install_token_ttl_s: 600 } });
    await setup(t);
  });
  afterAll(() => t.stop());

  it('are stored as sha256 only: the data dir never holds the token', async () => {
    const n = new ProtocolNode(t, ['52:54:00:b1:00:01'], { v: 1 });
    await n.boot();
    await n.register();
    const { token, answer } = await install(t, n);
    expect((await fetch(answer)).status).toBe(200);
    await t.app.ctx.repo.flush();
    const db = await fs.readFile(path.join(t.dataDir, 'db', 'nodes.db'), 'utf8');
    expect(db).toContain(createHash('sha256').update(token).digest('hex'));
    expect(db).not.toContain(token);
  });

  it('stop working when the node reaches installed, and after an error, unbind or reinstall', async () => {
    const n = new ProtocolNode(t, ['52:54:00:b1:00:02'], { v: 2 });
    await n.boot();
    await n.register();
    let s = await install(t, n);
    expect((await fetch(`${s.stage}&name=installed`)).status).toBe(200);
    expect((await fetch(`${s.stage}&name=installing`)).status).toBe(403);
    expect((await fetch(s.answer)).status).toBe(403);

    // Reinstall: the old token is dead, the one the next /boot mints works.
    expect((await t.admin('POST', '/api/v1/nodes/reinstall', { node_ids: [n.nodeId] })).body.results[0].ok).toBe(true);
    expect((await fetch(s.answer)).status).toBe(403);
    s = await install(t, n);
    expect((await fetch(s.answer)).status).toBe(200);
    expect((await fetch(`${s.stage}&name=failed&detail=disk`)).status).toBe(200);
    expect((await fetch(s.answer)).status).toBe(403);

    s = await install(t, n);
    expect((await t.admin('POST', '/api/v1/nodes/unbind', { node_ids: [n.nodeId] })).body.results[0].ok).toBe(true);
    expect((await fetch(s.answer)).status).toBe(403);
  });

  it('expire after install_token_ttl_s', async () => {
    const n = new ProtocolNode(t, ['52:54:00:b1:00:03'], { v: 3 });
    await n.boot();
    await n.register();
    const s = await install(t, n);
    expect((await fetch(s.answer)).status).toBe(200);
    skewMs = 601_000;
    try {
      const late = await fetch(`${s.stage}&name=installed`);
      expect(late.status).toBe(403);
      expect(((await late.json()) as { message: string }).message).toMatch(/expired/);
    } finally {
      skewMs = 0;
    }
  });
});

describe("full DHCP: tokens only from the node's own addresses", () => {
  let t: TestAppliance;
  const lease = (mac: string, ip: string) => putBoundLease(t, mac, ip);
  beforeAll(async () => {
    // Full DHCP on loopback (no NIC, so no DHCP socket): the pool lets a reservation be made.
    t = await startTestAppliance({
      dhcp: 'full',
      address: { ip: '127.0.0.1', prefix: 8 },
      range: { start: '127.0.0.30', end: '127.0.0.60' },
    });
    await setup(t);
  });
  afterAll(() => t.stop());

  /** One rack machine: a MAC and the address the DHCP server leased it. */
  const machine = async (mac: string, ip: string, extra: string[] = []) => {
    await lease(mac, ip);
    const n = new ProtocolNode(t, [mac, ...extra], { mac });
    const script = (await httpFrom(ip, 'GET', `${t.nodeUrl}/boot?mac=${mac}`)).text;
    const ka = kernelArgs(script);
    const register = (from: string, token = ka.token) =>
      httpFrom(from, 'POST', `${t.nodeUrl}/api/v1/register`, { hw_id: mac, node_id: ka.node, macs: n.macs, token, facts: n.facts });
    return { n, ka, register };
  };

  it("an enrolment token works from the node's lease and from a new NIC of the same boot, not from elsewhere", async () => {
    const m = await machine('52:54:00:b2:00:01', '127.0.0.11', ['52:54:00:b2:00:02']);
    // Its second NIC got its own lease in the microkernel; the kernel may route the register through it.
    await lease('52:54:00:b2:00:02', '127.0.0.12');
    await lease('52:54:00:b2:00:66', '127.0.0.66'); // an attacker's machine with its own lease
    const stolen = await m.register('127.0.0.66');
    expect(stolen.status).toBe(403);
    expect(stolen.body.message).toMatch(/not leased or reserved/);
    const ok = await m.register('127.0.0.12');
    expect(ok.status, ok.text).toBe(200);
    expect((await t.admin('GET', `/api/v1/nodes/${m.ka.node}`)).body.macs).toEqual(['52:54:00:b2:00:01', '52:54:00:b2:00:02']);
  });

  it("a token /boot gave to a forged request stays bound to the MAC owner's address", async () => {
    const victim = await machine('52:54:00:b3:00:01', '127.0.0.21');
    expect(victim.ka.token).toBeTruthy();
    // The attacker asks /boot for the victim's MAC from its own leased address and gets a token...
    await lease('52:54:00:b3:00:66', '127.0.0.26');
    const forged = kernelArgs((await httpFrom('127.0.0.26', 'GET', `${t.nodeUrl}/boot?mac=52:54:00:b3:00:01`)).text);
    expect(forged.node).toBe(victim.ka.node);
    // ...which it cannot use from there, not even by listing its own MAC as a new NIC of the victim.
    const r = await httpFrom('127.0.0.26', 'POST', `${t.nodeUrl}/api/v1/register`, {
      hw_id: 'x',
      macs: ['52:54:00:b3:00:01', '52:54:00:b3:00:66'],
      token: forged.token,
      facts: {},
    });
    expect(r.status).toBe(403);
    const events = (await t.admin('GET', `/api/v1/events?type=node.token_refused`)).body.events as { data: { ip: string } }[];
    expect(events.some((e) => e.data.ip === '127.0.0.26')).toBe(true);
    // Positive control: from the victim's own lease the (latest) token works.
    expect((await victim.register('127.0.0.21', forged.token)).status).toBe(200);
  });

  it('an install token works from a lease or reservation of the node, and nowhere else', async () => {
    const m = await machine('52:54:00:b4:00:01', '127.0.0.31');
    const reg = await m.register('127.0.0.31');
    expect(reg.status).toBe(200);
    expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [m.ka.node], policy: 'sec-policy' })).body.results[0].ok).toBe(true);
    const script = (await httpFrom('127.0.0.31', 'GET', `${t.nodeUrl}/boot?mac=52:54:00:b4:00:01`)).text;
    const answer = /url=(\S+answer\.cfg)/.exec(script)![1]!;
    expect((await httpFrom('127.0.0.39', 'GET', answer)).status).toBe(403);
    expect((await httpFrom('127.0.0.31', 'GET', answer)).status).toBe(200);
    // An installed OS with a static address: covered by a reservation.
    expect((await httpFrom('127.0.0.32', 'GET', answer)).status).toBe(403);
    await t.app.ctx.reservations.setReservation('52:54:00:b4:00:01', '127.0.0.32');
    try {
      expect((await httpFrom('127.0.0.32', 'GET', answer)).status).toBe(200);
    } finally {
      await t.app.ctx.reservations.setReservation('52:54:00:b4:00:01', null);
    }
  });
});
