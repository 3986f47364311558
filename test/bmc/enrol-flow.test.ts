/**
 * In-band enrolment through the whole appliance, with the real agent loop and a real BMC (ipmi_sim): the
 * check-in asks, the agent enrols (the IPMI commands it sends over KCS in the microkernel, here over RMCP+),
 * reports with its agent token, the appliance seals the password, sets the node's BMC, reads the power state
 * with the new credentials and records that no Redfish answers there. Then the operator's power API works
 * with the enrolled credentials, the poller emits only changes, and the password is nowhere in clear.
 * No QEMU: the guest is never powered on.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Node } from '../../contract/index.ts';
import { recordingLogger } from '../support/recording-logger.ts';
import { AgentLoop } from '../../agent/loop/agent-loop.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';
import { enrolBmc } from '../../agent/bmc/enrol-bmc.ts';
import { enrolOutcome, type BmcEnrolOutcome } from '../../agent/bmc/enrol-outcome.ts';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { inventory, kernelArgs } from '../support/protocol-node.ts';
import { startIpmiSim, type IpmiSimPeer } from './peers/ipmi-sim.ts';
import { lanRunner } from './peers/ipmi-lan-runner.ts';
import { waitFor } from './peers/net.ts';

/** A loopback address of this test's own (127/8 is all loopback): the BMC must sit on port 623 there. */
const BMC_IP = `127.77.${(process.pid >> 8) & 255}.${process.pid & 255 || 1}`;

let t: TestAppliance;
let sim: IpmiSimPeer;
const { log, logged } = recordingLogger();
let reported: BmcEnrolOutcome | null = null;
let nodeId = 0;

const node = async (id: number): Promise<Node> => (await t.admin('GET', `/api/v1/nodes/${id}`)).body as Node;
const events = async (type: string) =>
  ((await t.admin('GET', '/api/v1/events?after=0&limit=10000')).body.events as { type: string; node_id: number; message: string }[]).filter(
    (e) => e.type === type,
  );

beforeAll(async () => {
  sim = await startIpmiSim({ addr: BMC_IP, port: 623, lanAddress: { ip: BMC_IP, netmask: '255.0.0.0', mac: '52:54:00:77:00:01' } });
  t = await startTestAppliance(
    {},
    { log, settings: { bmc_enrol_inband: 'on', bmc_allowed_subnets: ['127.77.0.0/16'], power_poll_interval_s: 0 } },
  );
});
afterAll(async () => {
  await t?.stop();
  await sim?.stop();
  if (t) fs.rmSync(t.dataDir, { recursive: true, force: true });
});

describe('in-band enrolment through the appliance (real agent loop, ipmi_sim)', () => {
  it('the check-in asks, the agent enrols and reports, the node gets its BMC and answers with the new credentials', async () => {
    const boot = await t.node('GET', '/boot?mac=52:54:00:77:00:10&serial=CC-ENROL-1');
    const ka = kernelArgs(boot.text);
    const admin = lanRunner({ addr: BMC_IP, port: 623, ...sim.admin });
    let loop: AgentLoop | null = null;
    const done = new Promise<string>((resolve) => {
      loop = new AgentLoop({
        client: new ApplianceClient(t.nodeUrl),
        token: ka.token!,
        nodeId: ka.node,
        inventory: async () => inventory({ nics: [{ name: 'eno1', mac: '52:54:00:77:00:10' }] }),
        hooks: { reboot: () => {}, poweroff: () => {} },
        log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        startDelayMaxMs: 0,
        intervalOverrideMs: 100,
        bmcEnrol: async () => (reported = await enrolOutcome(() => enrolBmc(admin))),
        onEvent: (e) => e.type === 'bmc-enrol' && resolve(e.state),
      });
      void loop.run();
    });
    expect(await done).toBe('enrolled');
    loop!.stop();
    nodeId = ka.node!;
    expect(reported).toMatchObject({ outcome: 'enrolled', address: BMC_IP, username: 'crashcart', channel: 1, user_id: 3 });

    const n = await waitFor('the first status read', async () => {
      const v = await node(nodeId);
      return v.power && v.bmc_redfish ? v : undefined;
    });
    expect(n.bmc).toEqual({
      driver: 'ipmi',
      address: BMC_IP,
      port: 623,
      username: 'crashcart',
      password_set: true,
      system_path: null,
      tls: 'pin',
      tls_fingerprint: null,
      ipmi_cipher_suite: null,
    });
    expect(n.bmc_enrolment).toMatchObject({ state: 'enrolled', address: BMC_IP, username: 'crashcart' });
    expect(n.power?.state).toBe('off');
    expect(n.bmc_redfish).toMatchObject({ detected: false, version: null });
    const trail = (await events('bmc.enrolment')).filter((e) => e.node_id === nodeId).map((e) => e.message);
    expect(trail[0]).toMatch(/asked the agent to enrol/);
    expect(trail[1]).toMatch(
      new RegExp(`BMC enrolled in-band at ${BMC_IP.replace(/\./g, '\\.')} \\(user crashcart \\(slot 3\\) on LAN channel 1`),
    );
    expect(trail[2]).toMatch(/answers with its new credentials \(power off\); no Redfish there/);
  });

  it('the operator powers the node through the enrolled credentials; a node without a BMC is told how to get one', async () => {
    const other = await t.node('GET', '/boot?mac=52:54:00:77:00:20&serial=CC-ENROL-2');
    const otherId = kernelArgs(other.text).node!;
    const r = await t.admin('POST', '/api/v1/nodes/power', { node_ids: [nodeId, otherId, 999999], action: 'status' });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toEqual({ node_id: nodeId, ok: true, power: 'off' });
    expect(r.body.results[1]).toMatchObject({ node_id: otherId, ok: false, code: 'CC_ERR_BMC_NOT_CONFIGURED' });
    expect(r.body.results[1].reason).toMatch(/fix: Set the node's BMC/);
    expect(r.body.results[2]).toMatchObject({ node_id: 999999, ok: false, code: 'CC_ERR_NOT_FOUND' });
    // A combination that means nothing is refused as a whole, before any BMC is touched.
    expect((await t.admin('POST', '/api/v1/nodes/power', { node_ids: [nodeId], action: 'status', boot: 'pxe' })).status).toBe(400);
  });

  it('the poller emits an event only when a state changes (a BMC that stops answering becomes unknown, once)', async () => {
    const poller = t.app.powerPoller;
    const changes = async () => (await events('bmc.power_changed')).filter((e) => e.node_id === nodeId);
    expect(await poller.pollOnce()).toBe(1);
    expect(await changes()).toHaveLength(0); // off, as the enrolment's first read said
    await sim.stop();
    await poller.pollOnce();
    await poller.pollOnce();
    const c = await changes();
    expect(c).toHaveLength(1);
    expect(c[0]!.message).toMatch(/^Power off -> unknown \(The BMC (could not be reached|did not answer in time)/);
    expect((await node(nodeId)).power?.state).toBe('unknown');
  });

  it('the password is in no log, event, API answer or file of the data dir', async () => {
    const password = reported?.outcome === 'enrolled' ? reported.password : '';
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    await t.app.ctx.repo.flush();
    await t.app.ctx.events.flushNow();
    const apiText = JSON.stringify([
      (await t.admin('GET', '/api/v1/nodes?limit=1000')).body,
      (await t.admin('GET', '/api/v1/events?after=0&limit=10000')).body,
    ]);
    expect(apiText).not.toContain(password);
    expect(JSON.stringify((await t.admin('GET', '/api/v1/export/nodes.json')).body)).not.toContain(password);
    expect(logged.join('\n')).not.toContain(password);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true }))
        (e.isDirectory() ? walk : (f: string) => files.push(f))(path.join(d, e.name));
    };
    walk(t.dataDir);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(fs.readFileSync(f).includes(password), f).toBe(false);
    // Positive control: the sealed password is on the node record and opens to the one the agent set.
    const doc = t.app.ctx.repo.get(nodeId)!;
    expect(doc.bmc?.password_enc).toMatch(/^ccs1:/);
    // Asked for, the export carries it (and says so in the event log).
    const withSecrets = await t.admin('GET', '/api/v1/export/nodes.json?with_secrets=true');
    expect(JSON.stringify(withSecrets.body)).toContain(password);
    expect((await events('admin.secrets_exported'))[0]?.message).toMatch(/nodes\.json exported with 1 BMC password/);
  });
});
