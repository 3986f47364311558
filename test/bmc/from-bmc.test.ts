/**
 * A BMC for a machine never seen (POST /api/v1/nodes/from-bmc, POST /api/v1/nodes/ID/bmc/identify) against real
 * BMCs: sushy-tools (Redfish: UUID and the NICs' MACs) and ipmi_sim (IPMI: System GUID and FRU serial). The
 * expected record carries the BMC; the machine's first boot claims it (docs/identity.md 1). Attacks: a machine
 * naming the record's UUID with a forged identity while the real machine exists is a conflict, never a take-over.
 * No QEMU guest is started: the BMCs are only read.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeFromBmcAnswer } from '../../contract/index.ts';
import type { Logger } from '../../server/core/plugin.ts';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { startIpmiSim, type IpmiSimPeer } from './peers/ipmi-sim.ts';
import { startSushy, type SushyPeer } from './peers/sushy.ts';
import { makeCert } from './peers/tls-cert.ts';

const RF_USER = 'root';
const RF_PASSWORD = 'Redfish-Pw-7731';
const RF_UUID = '0badc0de-0000-4000-8000-0000000000b1';
const RF_MACS = ['52:54:00:b1:00:01', '52:54:00:b1:00:02'];
const RF2_UUID = '0badc0de-0000-4000-8000-0000000000b2';
const RF2_MAC = '52:54:00:b2:00:01';
const IPMI_UUID = '0badc0de-0000-4000-8000-0000000000b3';
const IPMI_SERIAL = 'CC-FROM-BMC-03';

let dir: string;
let t: TestAppliance;
let sim: IpmiSimPeer;
let bare: IpmiSimPeer;
let sushy: SushyPeer;
const logged: string[] = [];
const log: Logger = Object.fromEntries(
  ['debug', 'info', 'warn', 'error'].map((k) => [k, (o: unknown, m?: string) => logged.push(`${JSON.stringify(o)} ${m ?? ''}`)]),
) as unknown as Logger;

const view = async (id: number): Promise<Node> => (await t.admin('GET', `/api/v1/nodes/${id}`)).body as Node;
const redfish = (system: string) => ({
  driver: 'redfish',
  address: '127.0.0.1',
  port: sushy.port,
  username: RF_USER,
  password: RF_PASSWORD,
  system_path: `/redfish/v1/Systems/${system}`,
});
const events = async () =>
  (await t.admin('GET', '/api/v1/events?after=0&limit=10000')).body.events as { type: string; node_id: number; message: string }[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-frombmc-`));
  [sim, bare, sushy] = await Promise.all([
    startIpmiSim({ systemUuid: IPMI_UUID, fruSerial: IPMI_SERIAL }),
    startIpmiSim(),
    startSushy({
      dir,
      cert: makeCert(dir, 'from-bmc'),
      username: RF_USER,
      password: RF_PASSWORD,
      systems: [
        {
          uuid: RF_UUID,
          name: 'rf-1',
          power_state: 'Off',
          external_notifier: false,
          nics: RF_MACS.map((mac, i) => ({ mac, ip: `10.66.0.${170 + i}` })),
        },
        { uuid: RF2_UUID, name: 'rf-2', power_state: 'Off', external_notifier: false, nics: [{ mac: RF2_MAC, ip: '10.66.0.180' }] },
      ],
      // No system notifies (external_notifier false): nothing listens here.
      notifierUrl: 'http://127.0.0.1:9',
    }),
  ]);
  t = await startTestAppliance({}, { log, settings: { power_poll_interval_s: 0, bmc_request_timeout_s: 15 } });
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await sim?.stop();
  await bare?.stop();
  await sushy?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (t) fs.rmSync(t.dataDir, { recursive: true, force: true });
});

describe('a machine known only by its BMC', () => {
  it('Redfish: the UUID and every NIC MAC become the expected record, which carries the BMC (pinned on first contact)', async () => {
    const r = await t.admin('POST', '/api/v1/nodes/from-bmc', { bmc: redfish(RF_UUID), hostname: 'rf-one' });
    expect(r.status).toBe(201);
    const a = r.body as NodeFromBmcAnswer;
    expect(a.identity).toMatchObject({ uuid: RF_UUID, serial: null, macs: RF_MACS });
    expect(a.node).toMatchObject({ state: 'expected', uuid: RF_UUID, macs: RF_MACS, hostname: 'rf-one', hostname_locked: true });
    expect(a.node.manifest).toMatchObject({ origin: 'bmc', claimed_at: null, bmc_address: '127.0.0.1' });
    expect(a.node.bmc).toMatchObject({ driver: 'redfish', password_set: true, tls: 'pin' });
    expect(a.node.bmc?.tls_fingerprint).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    expect(JSON.stringify(a)).not.toContain(RF_PASSWORD);
  });

  it('the machine booting with one of those MACs claims the record: same id, its BMC, no conflict', async () => {
    const before = (await t.admin('GET', '/api/v1/nodes?limit=100')).body.nodes.find((n: Node) => n.uuid === RF_UUID) as Node;
    const m = new ProtocolNode(t, [RF_MACS[1]!], { manufacturer: 'QEMU' }, 'RF-SERIAL-1', RF_UUID);
    await m.boot();
    expect((await m.register()).status).toBe(200);
    expect(m.nodeId).toBe(before.id);
    const n = await view(before.id);
    expect(n).toMatchObject({ state: 'registered', hostname: 'rf-one', conflicts: [] });
    expect(n.manifest?.claimed_at).toBeTruthy();
    expect(n.bmc?.driver).toBe('redfish');
    expect((await events()).some((e) => e.type === 'node.claimed' && e.node_id === before.id && /made from BMC/.test(e.message))).toBe(
      true,
    );
  });

  it('IPMI: the System GUID (SMBIOS order) and the FRU product serial', async () => {
    const r = await t.admin('POST', '/api/v1/nodes/from-bmc', {
      bmc: { driver: 'ipmi', address: sim.addr, port: sim.lanPort, username: sim.admin.username, password: sim.admin.password },
    });
    expect(r.status).toBe(201);
    const a = r.body as NodeFromBmcAnswer;
    expect(a.identity).toMatchObject({ uuid: IPMI_UUID, serial: IPMI_SERIAL, macs: [] });
    expect(a.identity.sources).toEqual(['uuid: IPMI Get System GUID', 'serial: IPMI FRU 0 Product Serial']);
    expect(a.node).toMatchObject({ state: 'expected', uuid: IPMI_UUID, serial: IPMI_SERIAL, macs: [], boot_mac: null });
    // Claimed by its UUID (IPMI lists no host MACs): the machine's own /boot takes it.
    const m = new ProtocolNode(t, ['52:54:00:b3:00:01'], {}, IPMI_SERIAL, IPMI_UUID);
    await m.boot();
    expect((await m.register()).status).toBe(200);
    expect(m.nodeId).toBe(a.node.id);
  });

  it('an IPMI BMC without FRU data gives the GUID alone, with a warning', async () => {
    const r = await t.admin('POST', '/api/v1/nodes/from-bmc', {
      bmc: { driver: 'ipmi', address: bare.addr, port: bare.lanPort, username: bare.admin.username, password: bare.admin.password },
    });
    expect(r.status).toBe(201);
    const a = r.body as NodeFromBmcAnswer;
    expect(a.identity.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.identity.serial).toBeNull();
    expect(a.warnings.join(' ')).toMatch(/no readable FRU 0/);
  });

  it('bad credentials, no password, a BMC describing a known machine: clear errors, nothing created', async () => {
    const count = async () => ((await t.admin('GET', '/api/v1/nodes?limit=1000')).body.nodes as Node[]).length;
    const n0 = await count();
    const bad = await t.admin('POST', '/api/v1/nodes/from-bmc', { bmc: { ...redfish(RF2_UUID), password: 'wrong-password' } });
    expect(bad.status).toBe(502);
    expect(bad.body.code).toBe('CC_ERR_BMC_AUTH');
    const badIpmi = await t.admin('POST', '/api/v1/nodes/from-bmc', {
      bmc: { driver: 'ipmi', address: sim.addr, port: sim.lanPort, username: 'admin', password: 'nope-nope' },
    });
    expect(badIpmi.body.code).toBe('CC_ERR_BMC_AUTH');
    const { password: _, ...noPw } = redfish(RF2_UUID);
    const none = await t.admin('POST', '/api/v1/nodes/from-bmc', { bmc: noPw });
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/password/);
    // rf-1 is a node now: a second record for it is refused, naming the node and the fix.
    const known = await t.admin('POST', '/api/v1/nodes/from-bmc', { bmc: redfish(RF_UUID) });
    expect(known.status).toBe(409);
    expect(known.body.code).toBe('CC_ERR_BMC_MACHINE_KNOWN');
    expect(known.body.message).toMatch(/node \d+ \(uuid 0badc0de/);
    expect(known.body.fix).toMatch(/PUT \/api\/v1\/nodes\/ID\/bmc/);
    expect(await count()).toBe(n0);
  });

  it('a manifest row with a BMC set takes the identifiers its BMC gives (identify)', async () => {
    const imp = await t.admin('POST', '/api/v1/manifest/import', {
      format: 'csv',
      content: 'serial,hostname,bmc_address,rack\nRF-SERIAL-2,rf-two,127.0.0.1,R7\n',
      source: 'rack7.csv',
    });
    expect(imp.status, JSON.stringify(imp.body)).toBe(200);
    const id = imp.body.rows[0].node_id as number;
    const unset = await t.admin('POST', `/api/v1/nodes/${id}/bmc/identify`, {});
    expect(unset.body.code).toBe('CC_ERR_BMC_NOT_CONFIGURED');
    expect((await t.admin('PUT', `/api/v1/nodes/${id}/bmc`, redfish(RF2_UUID))).status).toBe(200);
    const r = await t.admin('POST', `/api/v1/nodes/${id}/bmc/identify`, {});
    expect(r.status).toBe(200);
    expect((r.body as NodeFromBmcAnswer).node).toMatchObject({
      id,
      serial: 'RF-SERIAL-2',
      uuid: RF2_UUID,
      macs: [RF2_MAC],
      hostname: 'rf-two',
      state: 'expected',
    });
    expect((r.body as NodeFromBmcAnswer).node.manifest).toMatchObject({ origin: 'bmc', row: 2, source: 'rack7.csv' });
    // A claimed node is not re-identified from its BMC.
    const claimed = (await t.admin('GET', '/api/v1/nodes?limit=100')).body.nodes.find((n: Node) => n.uuid === RF_UUID) as Node;
    expect((await t.admin('POST', `/api/v1/nodes/${claimed.id}/bmc/identify`, {})).body.code).toBe('CC_ERR_BMC_NOT_EXPECTED');
  });

  it('no BMC password in the log, the events or the data dir', async () => {
    const secrets = [RF_PASSWORD, sim.admin.password, bare.admin.password];
    const all = JSON.stringify(await events()) + logged.join('\n');
    for (const s of secrets) expect(all).not.toContain(s);
    const hits: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && secrets.some((s) => fs.readFileSync(p).includes(s))) hits.push(p);
      }
    };
    walk(t.dataDir);
    expect(hits).toEqual([]);
    expect(fs.readFileSync(path.join(t.dataDir, 'db', 'nodes.db'), 'utf8')).toContain('"password_enc":"ccs1:');
  });
});

describe('attack: a forged UUID never takes a record made from a BMC', () => {
  it('before the real machine boots: a machine naming the UUID without one of its MACs gets a record of its own, with a conflict', async () => {
    // rf-2's record (from the manifest + identify above) holds RF2_UUID and RF2_MAC. A forger copies the UUID from
    // a DHCP packet (option 97) and boots with its own MAC.
    const e = (await t.admin('GET', '/api/v1/nodes?limit=100')).body.nodes.find((n: Node) => n.uuid === RF2_UUID) as Node;
    const forger = new ProtocolNode(t, ['52:54:00:66:66:01'], { manufacturer: 'Evil' }, 'FORGED-1', RF2_UUID);
    await forger.boot();
    expect((await forger.register()).status).toBe(200);
    expect(forger.nodeId).not.toBe(e.id);
    const f = await view(forger.nodeId);
    expect(f.uuid).toBeNull();
    expect(f.bmc ?? null).toBeNull();
    expect(f.conflicts).toContainEqual({ node_id: e.id, field: 'uuid', value: RF2_UUID });
    const still = await view(e.id);
    expect(still).toMatchObject({ state: 'expected', uuid: RF2_UUID, macs: [RF2_MAC], hostname: 'rf-two' });
    expect(still.manifest?.claimed_at).toBeNull();
    expect(still.bmc?.driver).toBe('redfish');
    // The real machine then boots with its MAC and claims its record.
    const real = new ProtocolNode(t, [RF2_MAC], { manufacturer: 'QEMU' }, 'RF-SERIAL-2', RF2_UUID);
    await real.boot();
    expect((await real.register()).status).toBe(200);
    expect(real.nodeId).toBe(e.id);
    expect((await view(e.id)).manifest?.claimed_at).toBeTruthy();
  });

  it('after the real machine claimed it: a second machine with the same UUID is a conflict, the record stays the real one', async () => {
    const e = (await t.admin('GET', '/api/v1/nodes?limit=100')).body.nodes.find((n: Node) => n.uuid === RF_UUID) as Node;
    const forger = new ProtocolNode(t, ['52:54:00:66:66:02'], {}, 'FORGED-2', RF_UUID);
    await forger.boot();
    expect((await forger.register()).status).toBe(200);
    expect(forger.nodeId).not.toBe(e.id);
    expect((await view(forger.nodeId)).conflicts).toContainEqual({ node_id: e.id, field: 'uuid', value: RF_UUID });
    const still = await view(e.id);
    expect(still.macs).toEqual(expect.arrayContaining(RF_MACS));
    expect(still.macs).not.toContain('52:54:00:66:66:02');
    expect(still.bmc?.driver).toBe('redfish');
  });
});
