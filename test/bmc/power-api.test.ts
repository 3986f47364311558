/**
 * The operator's BMC API against real BMCs: ipmi_sim and sushy-tools, each powering a QEMU guest. A node's BMC
 * is set (write-only password), a bulk "power on, PXE once" starts both machines (the boot device ipmi_sim
 * refuses is a warning; sushy gets UEFI because that node booted UEFI), the Redfish certificate is pinned on
 * first use, the poller reports a machine someone else turned off, and nothing stores the passwords in clear.
 * Run under `flock /tmp/cc-qemu.lock`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Node } from '../../contract/index.ts';
import type { Logger } from '../../server/core/plugin.ts';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { startIpmiSim, type IpmiSimPeer } from './peers/ipmi-sim.ts';
import { startNotifier, startSushy, type Notification, type SushyPeer } from './peers/sushy.ts';
import { makeCert, type TestCert } from './peers/tls-cert.ts';
import { waitFor } from './peers/net.ts';
import { guestArgs, guestFiles, runningGuest, type GuestFiles } from './peers/qemu-guest.ts';
import { requireProgram } from './peers/tools.ts';

const RF_USER = 'root';
const RF_PASSWORD = 'Redfish-Pw-4410';
const RF_UUID = '0badc0de-0000-4000-8000-0000000000a1';

let dir: string;
let t: TestAppliance;
let sim: IpmiSimPeer;
let cert: TestCert;
let sushy: SushyPeer;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let rfGuest: GuestFiles;
const qemus: ChildProcess[] = [];
const logged: string[] = [];
const log: Logger = Object.fromEntries(
  ['debug', 'info', 'warn', 'error'].map((k) => [k, (o: unknown, m?: string) => logged.push(`${JSON.stringify(o)} ${m ?? ''}`)]),
) as unknown as Logger;
const ids = { ipmi: 0, redfish: 0, none: 0 };

/** sushy's chassis: On starts the guest, Off kills it. */
function chassis(n: Notification): void {
  if (n.uuid !== RF_UUID) return;
  const want = n.pending_power?.power_state ?? n.power_state;
  const running = runningGuest(rfGuest);
  if (want === 'On' && !running)
    qemus.push(spawn(requireProgram('qemu-system-x86_64', 'qemu-system-x86'), guestArgs(rfGuest), { stdio: 'ignore' }));
  else if (want === 'Off' && running) process.kill(running, 'SIGKILL');
}

const view = async (id: number): Promise<Node> => (await t.admin('GET', `/api/v1/nodes/${id}`)).body as Node;
const eventsOf = async (type: string, id?: number) =>
  (
    (await t.admin('GET', '/api/v1/events?after=0&limit=10000')).body.events as {
      type: string;
      node_id: number;
      message: string;
      data: Record<string, unknown>;
    }[]
  ).filter((e) => e.type === type && (id === undefined || e.node_id === id));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-api-`));
  rfGuest = guestFiles(dir, 'api-redfish-guest');
  cert = makeCert(dir, 'api-bmc');
  notifier = await startNotifier(chassis);
  [sim, sushy] = await Promise.all([
    startIpmiSim(),
    startSushy({
      dir,
      cert,
      username: RF_USER,
      password: RF_PASSWORD,
      systems: [
        {
          uuid: RF_UUID,
          name: 'api-node',
          power_state: 'Off',
          external_notifier: true,
          nics: [{ mac: '52:54:00:a1:00:01', ip: '10.66.0.161' }],
        },
      ],
      notifierUrl: notifier.url,
    }),
  ]);
  t = await startTestAppliance(
    {},
    { log, settings: { power_stagger_s: 1, soft_off_timeout_s: 4, power_poll_interval_s: 0, bmc_request_timeout_s: 15 } },
  );
  // Three machines: two registered (UEFI, from their inventory), one only seen at boot.
  for (const [k, mac] of [
    ['ipmi', '52:54:00:a1:10:01'],
    ['redfish', '52:54:00:a1:10:02'],
  ] as const) {
    const n = new ProtocolNode(t, [mac], { manufacturer: 'QEMU' });
    await n.boot();
    expect((await n.register()).status).toBe(200);
    ids[k] = n.nodeId;
  }
  const none = new ProtocolNode(t, ['52:54:00:a1:10:03'], {});
  await none.boot();
  ids.none = (await t.admin('GET', '/api/v1/nodes?limit=100')).body.nodes.find((x: Node) => x.boot_mac === '52:54:00:a1:10:03').id;
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await sim?.stop();
  await sushy?.stop();
  await notifier?.close();
  const pid = rfGuest ? runningGuest(rfGuest) : null;
  if (pid) process.kill(pid, 'SIGKILL');
  for (const q of qemus) if (q.exitCode === null) q.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (t) fs.rmSync(t.dataDir, { recursive: true, force: true });
});

describe('BMC API against ipmi_sim and sushy-tools', () => {
  it('sets a BMC with a write-only password; bad input is refused with nothing stored', async () => {
    const put = await t.admin('PUT', `/api/v1/nodes/${ids.ipmi}/bmc`, {
      driver: 'ipmi',
      address: '127.0.0.1',
      port: sim.lanPort,
      username: sim.admin.username,
      password: sim.admin.password,
    });
    expect(put.status).toBe(200);
    expect(put.body.bmc).toEqual({
      driver: 'ipmi',
      address: '127.0.0.1',
      port: sim.lanPort,
      username: 'admin',
      password_set: true,
      system_path: null,
      tls: 'pin',
      tls_fingerprint: null,
      ipmi_cipher_suite: null,
    });
    expect(JSON.stringify(put.body)).not.toContain(sim.admin.password);
    for (const bad of [
      { driver: 'ipmi', address: '-oProxyCommand=x', username: 'a', password: 'b' },
      { driver: 'ipmi', address: '127.0.0.1', username: 'a', password: 'line\nbreak' },
      { driver: 'vendor', address: '127.0.0.1', username: 'a', password: 'b' },
      { driver: 'ipmi', address: '127.0.0.1', username: 'a', password: 'b', extra: 1 },
    ]) {
      const r = await t.admin('PUT', `/api/v1/nodes/${ids.ipmi}/bmc`, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.fix).toBeTruthy();
    }
    expect((await view(ids.ipmi)).bmc?.username).toBe('admin');
    // The write-only password left out keeps the stored one (the power-on below uses it); with none stored, refused.
    const edit = await t.admin('PUT', `/api/v1/nodes/${ids.ipmi}/bmc`, {
      driver: 'ipmi',
      address: '127.0.0.1',
      port: sim.lanPort,
      username: sim.admin.username,
    });
    expect(edit.status).toBe(200);
    expect(edit.body.bmc.password_set).toBe(true);
    const noPassword = await t.admin('PUT', `/api/v1/nodes/${ids.none}/bmc`, { driver: 'ipmi', address: '127.0.0.1', username: 'a' });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.message).toMatch(/give password/);
    expect((await view(ids.none)).bmc ?? null).toBeNull();
    expect((await t.admin('PUT', '/api/v1/nodes/999999/bmc', { driver: 'ipmi', address: 'x', username: 'a', password: 'b' })).status).toBe(
      404,
    );
    const rf = await t.admin('PUT', `/api/v1/nodes/${ids.redfish}/bmc`, {
      driver: 'redfish',
      address: '127.0.0.1',
      port: sushy.port,
      username: RF_USER,
      password: RF_PASSWORD,
      system_path: `/redfish/v1/Systems/${RF_UUID}`,
    });
    expect(rf.body.bmc).toMatchObject({ driver: 'redfish', tls: 'pin', tls_fingerprint: null, password_set: true });
    expect((await eventsOf('bmc.configured')).map((e) => e.node_id)).toEqual([ids.ipmi, ids.ipmi, ids.redfish]);
  });

  it('powers the selection on with PXE once: per-node results, warnings, the boot mode of each node, the pin', async () => {
    const r = await t.admin('POST', '/api/v1/nodes/power', { node_ids: [ids.ipmi, ids.redfish, ids.none], action: 'on', boot: 'pxe' });
    expect(r.status).toBe(200);
    const [ipmi, rf, none] = r.body.results;
    expect(ipmi).toMatchObject({ node_id: ids.ipmi, ok: true, power: 'on' });
    // ipmi_sim refuses boot devices: the power-on still happened, with a warning saying so.
    expect(ipmi.warnings.join(' ')).toMatch(/boot device pxe not set: .*the machine boots by its own boot order/);
    expect(rf).toMatchObject({ node_id: ids.redfish, ok: true });
    expect(none).toMatchObject({ node_id: ids.none, ok: false, code: 'CC_ERR_BMC_NOT_CONFIGURED' });
    await waitFor('the IPMI guest', () => (runningGuest(sim.guest) ? true : undefined), 200, 100);
    await waitFor('the Redfish guest', () => (runningGuest(rfGuest) ? true : undefined), 300, 100);
    // The Redfish node registered UEFI: its override says UEFI, once (sushy reports Continuous: a warning).
    expect(notifier.seen.some((n) => n.uuid === RF_UUID && n.boot_device === 'Pxe' && n.boot_mode === 'UEFI')).toBe(true);
    // Trust on first use: the certificate sushy presented is stored on the node, with an event.
    expect((await view(ids.redfish)).bmc?.tls_fingerprint).toBe(cert.fingerprint);
    const pinned = await eventsOf('bmc.tls_pinned', ids.redfish);
    expect(pinned).toHaveLength(1);
    expect(pinned[0]!.data).toMatchObject({ fingerprint: cert.fingerprint });
    expect((await eventsOf('bmc.warning', ids.ipmi)).length).toBeGreaterThan(0);
    expect((await eventsOf('bmc.action')).map((e) => e.node_id).sort()).toEqual([ids.ipmi, ids.redfish].sort());
    expect((await view(ids.ipmi)).power?.state).toBe('on');
  });

  it('the poller tells the operator when someone else turned a machine off, once', async () => {
    expect((await t.app.powerPoller.pollOnce()) >= 2).toBe(true);
    const before = (await eventsOf('bmc.power_changed', ids.ipmi)).length;
    // The IPMI guest stops by itself (as a machine that someone switched off at the socket).
    process.kill(runningGuest(sim.guest)!, 'SIGKILL');
    await waitFor('the guest to go', () => (runningGuest(sim.guest) ? undefined : true), 100, 100);
    await t.app.powerPoller.pollOnce();
    await t.app.powerPoller.pollOnce();
    const changes = (await eventsOf('bmc.power_changed', ids.ipmi)).slice(before);
    expect(changes.map((e) => e.message)).toEqual(['Power on -> off']);
    expect((await view(ids.ipmi)).power?.state).toBe('off');
  });

  it('reinstall and unbind boot the machine again through its BMC (cycle, PXE once)', async () => {
    expect((await t.admin('POST', '/api/v1/policies', { name: 'api-disk', task: 'local-disk', tags: [], enabled: false })).status).toBe(
      201,
    );
    expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [ids.ipmi], policy: 'api-disk' })).body.results[0].ok).toBe(true);
    const cycles = async () => (await eventsOf('bmc.action', ids.ipmi)).filter((e) => e.data['action'] === 'cycle');
    const re = await t.admin('POST', '/api/v1/nodes/reinstall', { node_ids: [ids.ipmi, ids.none] });
    expect(re.status).toBe(200);
    const [mine, none] = re.body.results;
    // The guest was off (switched off above): the cycle powers it on instead, and says so; the refused boot device too.
    expect(mine).toMatchObject({ node_id: ids.ipmi, ok: true, state: 'bound' });
    expect(mine.warnings.join(' | ')).toMatch(/BMC: boot device pxe not set.*\| BMC: the machine was off: powered on instead of cycled/);
    // No BMC: the reinstall is queued for the agent, as before.
    expect(none).toMatchObject({ node_id: ids.none, ok: false });
    expect(none.warnings).toBeUndefined();
    await waitFor('the IPMI guest to start again', () => (runningGuest(sim.guest) ? true : undefined), 200, 100);
    expect((await cycles()).at(-1)!.data).toMatchObject({ action: 'cycle', boot: { device: 'pxe', persistent: false, mode: 'uefi' } });
    // Unbind of a node whose agent runs (it is in the microkernel): no cycle, the agent carries on in discovery.
    const n = (await cycles()).length;
    expect((await t.admin('POST', '/api/v1/nodes/unbind', { node_ids: [ids.ipmi] })).body.results[0].warnings).toBeUndefined();
    expect(await cycles()).toHaveLength(n);
    // Bound again and booted into its task (no agent any more): unbind now cycles it back into discovery.
    await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [ids.ipmi], policy: 'api-disk' });
    expect((await t.node('GET', '/boot?mac=52:54:00:a1:10:01')).status).toBe(200);
    const pid = runningGuest(sim.guest);
    await t.admin('POST', '/api/v1/nodes/unbind', { node_ids: [ids.ipmi] });
    expect(await cycles()).toHaveLength(n + 1);
    await waitFor(
      'a new guest process',
      () => {
        const now = runningGuest(sim.guest);
        return now && now !== pid ? true : undefined;
      },
      300,
      100,
    );
  });

  it('powers off the Redfish machine (forced after the soft-off timeout: its guest has no OS to shut down)', async () => {
    const r = await t.admin('POST', '/api/v1/nodes/power', { node_ids: [ids.redfish], action: 'off' });
    expect(r.body.results[0]).toMatchObject({ ok: true, power: 'off' });
    await waitFor('the Redfish guest to stop', () => (runningGuest(rfGuest) ? undefined : true), 300, 100).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(r.body)} ${JSON.stringify(notifier.seen.slice(-4))}`);
    });
  });

  it('removes a BMC: the node shows none and power actions say how to set one', async () => {
    const del = await t.admin('DELETE', `/api/v1/nodes/${ids.ipmi}/bmc`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ bmc: null, power: null });
    const r = await t.admin('POST', '/api/v1/nodes/power', { node_ids: [ids.ipmi], action: 'status' });
    expect(r.body.results[0]).toMatchObject({ ok: false, code: 'CC_ERR_BMC_NOT_CONFIGURED' });
    expect(await eventsOf('bmc.removed', ids.ipmi)).toHaveLength(1);
  });

  it('no password is written in clear: data dir, events, log', async () => {
    await t.app.ctx.repo.flush();
    await t.app.ctx.events.flushNow();
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }))
        (e.isDirectory() ? walk : (f: string) => files.push(f))(path.join(d, e.name));
    };
    walk(t.dataDir);
    // The walk found the store (where the sealed password is, below), so the loop below has files to read.
    expect(files.length).toBeGreaterThan(3);
    expect(files).toContain(path.join(t.dataDir, 'db', 'nodes.db'));
    const events = JSON.stringify((await t.admin('GET', '/api/v1/events?after=0&limit=10000')).body);
    for (const secret of [sim.admin.password, RF_PASSWORD]) {
      for (const f of files) expect(fs.readFileSync(f).includes(secret), f).toBe(false);
      expect(events).not.toContain(secret);
      expect(logged.join('\n')).not.toContain(secret);
    }
    // Positive control: the Redfish password is stored, sealed.
    expect(fs.readFileSync(path.join(t.dataDir, 'db', 'nodes.db'), 'utf8')).toContain('"password_enc":"ccs1:');
  });
});
