/**
 * Taking over an expected machine's record with a copied UUID (docs/identity.md 1, docs/manifest.md "When a machine
 * arrives"), over real sockets to the node plane: the UUID is in every DHCP packet the real machine broadcasts
 * (option 97), so a forger that asks `/boot` with it before the real machine does must not get the row's policy, its
 * answer files, its install token or its DHCP reservation. Beside each attack, the honest machine's flow works: a row
 * that lists the machine's MAC binds by itself, a UUID-only row binds once the operator accepts the claim.
 * Full DHCP on loopback (no NIC, so no DHCP socket): each machine speaks from its own 127.0.0.x address, which the
 * lease store says the appliance leased to it. Where what DHCP offers is the point, the appliance's own DHCP plugin
 * runs on an in-memory transport over its store, reservations and boot hooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { putBoundLease } from '../support/bound-lease.ts';
import { kernelArgs } from '../support/protocol-node.ts';
import { httpFrom } from './helpers/http-from.ts';
import { createDhcpPlugin, type DhcpPlugin } from '../../server/dhcp/plugin.ts';
import { decode } from '../../server/dhcp/codec.ts';
import { bootHooks } from '../../server/nodes/boot-hooks-impl.ts';
import { MemoryIo } from '../dhcp/memory-io.ts';
import { clientPacket, memoryLogger } from '../dhcp/helpers.ts';

const TASK = {
  name: 'row-task',
  ipxe: '#!ipxe\n# crashcart: stage_url={{stage_url}}\nkernel {{server_url}}/images/x/vmlinuz url={{files_base}}/answer.cfg\nboot\n',
  templates: { 'answer.cfg': 'rootpw --iscrypted $6$row-secret\nhost {{hostname}}\n' },
};

let t: TestAppliance;
let dhcp: DhcpPlugin;
const io = new MemoryIo();
beforeAll(async () => {
  t = await startTestAppliance({
    dhcp: 'full',
    address: { ip: '127.0.0.1', prefix: 8 },
    range: { start: '127.0.0.30', end: '127.0.0.90' },
  });
  expect((await t.admin('POST', '/api/v1/tasks', TASK)).status).toBe(201);
  // Tag-less: only the manifest (or the operator) binds it.
  expect((await t.admin('POST', '/api/v1/policies', { name: 'row-policy', task: 'row-task' })).status).toBe(201);
  // The appliance's DHCP as serve wires it (server/compose/network-services.ts), on memory sockets instead of a NIC.
  const ctx = t.app.ctx;
  dhcp = createDhcpPlugin({
    config: { ...ctx.config, iface: 'lo', ifindex: 1, force: true },
    leases: ctx.store.leases,
    reservations: ctx.reservations,
    events: ctx.events,
    hooks: bootHooks(ctx),
    log: memoryLogger(),
    io: io.factory,
  });
  await dhcp.start();
});
afterAll(async () => {
  await dhcp?.stop();
  await t.stop();
});

/** The address the appliance's DHCP offers `mac` for a PXE client's DISCOVER. */
async function offered(mac: string): Promise<string> {
  const pxe: [number, number[] | string][] = [
    [53, [1]],
    [60, 'PXEClient:Arch:00007:UNDI:003016'],
    [93, [0, 7]],
  ];
  return decode((await io.ask(67, clientPacket({ mac, options: pxe }))).buf).yiaddr;
}

/** The appliance's DHCP leased `ip` to `mac` (written the way the DHCP server writes it). */
const lease = (mac: string, ip: string) => putBoundLease(t, mac, ip);
const node = async (id: number) => (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
const reservation = async (mac: string) => (await t.admin('GET', `/api/v1/reservations/${mac}`)).body;
const importCsv = async (content: string): Promise<number[]> => {
  const r = await t.admin('POST', '/api/v1/manifest/import', { format: 'csv', content, source: 'rack9.csv' });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.rows.map((x: { node_id: number }) => x.node_id);
};
const boot = (ip: string, q: string) => httpFrom(ip, 'GET', `${t.nodeUrl}/boot?${q}&arch=x86_64&platform=efi`);
/** Register as the microkernel's agent would, with the enrolment token of `script`, from `ip`. */
const register = (ip: string, script: string, macs: string[], uuid?: string) =>
  httpFrom(ip, 'POST', `${t.nodeUrl}/api/v1/register`, {
    hw_id: macs[0],
    node_id: kernelArgs(script).node,
    macs,
    ...(uuid ? { uuid } : {}),
    token: kernelArgs(script).token,
    facts: { manufacturer: 'QEMU' },
  });

describe('attack: a copied UUID claims an expected record before its machine boots', () => {
  it('the forger gets the record and its name, but not the row policy, its answer files or its address', async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c701';
    const [id] = await importCsv(`uuid,hostname,ip,policy,bmc_address\n${uuid},db-07,127.0.0.57,row-policy,10.99.0.7\n`);
    const forger = '02:00:00:00:00:01';
    await lease(forger, '127.0.0.31');
    const b = await boot('127.0.0.31', `mac=${forger}&uuid=${uuid}`);
    expect(b.status, b.text).toBe(200);
    expect(kernelArgs(b.text).node).toBe(id);
    // Its agent registers from its own lease: a real microkernel would.
    const reg = await register('127.0.0.31', b.text, [forger], uuid);
    expect(reg.status, reg.text).toBe(200);
    const n = await node(id!);
    // The manifest's policy did not bind, and the node page says why and what to do.
    expect(n).toMatchObject({ state: 'registered', policy: null, hostname: 'db-07', reservation: null });
    expect(n.manifest.claimed_at).not.toBeNull();
    expect(n.manifest.mismatch).toEqual([
      expect.stringMatching(/^claim not confirmed: matched by uuid alone.*accept if 02:00:00:00:00:01/),
    ]);
    expect((await t.admin('GET', '/api/v1/manifest')).body.mismatched).toBeGreaterThanOrEqual(1);
    expect((await t.admin('GET', `/api/v1/reservations/${forger}`)).status).toBe(404);
    // Its next boot is the microkernel again: no task, so no install token and no answer file.
    const again = await boot('127.0.0.31', `mac=${forger}&uuid=${uuid}`);
    expect(again.status).toBe(200);
    expect(again.text).not.toContain('stage_url');
    expect(again.text).not.toContain('answer.cfg');
    expect(kernelArgs(again.text).token).toBeTruthy();
  });

  it("a row that lists a MAC, claimed by the row's UUID from another MAC: the claim waits, the row's MAC keeps its address", async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c709';
    const rowMac = '52:54:00:c7:00:09';
    const [id] = await importCsv(`mac,uuid,hostname,ip,policy\n${rowMac},${uuid},db-09,127.0.0.59,row-policy\n`);
    const forger = '02:00:00:00:00:09';
    await lease(forger, '127.0.0.39');
    const b = await boot('127.0.0.39', `mac=${forger}&uuid=${uuid}`);
    expect(kernelArgs(b.text).node).toBe(id);
    expect((await t.admin('GET', `/api/v1/reservations/${rowMac}`)).body).toMatchObject({ mac: rowMac, ip: '127.0.0.59' });
    expect((await t.admin('GET', `/api/v1/reservations/${forger}`)).status).toBe(404);
    expect((await node(id!)).manifest.mismatch).toHaveLength(1);
  });

  it('a record the operator bound by hand before its machine arrived serves the forger no task', async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c708';
    const [id] = await importCsv(`uuid,hostname\n${uuid},db-08\n`);
    const bound = await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [id], policy: 'row-policy' });
    expect(bound.body.results[0].ok).toBe(true);
    expect((await node(id!)).state).toBe('bound');
    const forger = '02:00:00:00:00:08';
    await lease(forger, '127.0.0.38');
    const b = await boot('127.0.0.38', `mac=${forger}&uuid=${uuid}`);
    expect(b.status, b.text).toBe(200);
    expect(b.text).not.toContain('stage_url');
    expect(kernelArgs(b.text).node).toBe(id);
    // The binding waits with the claim: it is the policy the record binds once the operator accepts.
    const n = await node(id!);
    expect(n).toMatchObject({ policy: null, state: 'booting-microkernel' });
    expect(n.manifest.policy).toBe('row-policy');
    expect(n.manifest.mismatch).toHaveLength(1);
  });
});

describe('the honest machine', () => {
  it('whose row lists its MAC: claims it at boot and binds at registration, no click', async () => {
    const mac = '52:54:00:c7:00:21';
    const [id] = await importCsv(`mac,uuid,hostname,ip,policy\n${mac},5e1f0000-0000-4000-8000-00000000c721,web-21,127.0.0.71,row-policy\n`);
    // Its DHCP lease is its reservation, made at import.
    const b = await boot('127.0.0.71', `mac=${mac}&uuid=5e1f0000-0000-4000-8000-00000000c721`);
    expect(kernelArgs(b.text).node).toBe(id);
    expect((await register('127.0.0.71', b.text, [mac])).status).toBe(200);
    expect(await node(id!)).toMatchObject({ state: 'bound', policy: 'row-policy', manifest: { mismatch: [] } });
    const task = await boot('127.0.0.71', `mac=${mac}`);
    expect(task.text).toContain('stage_url');
  });

  it('of a UUID-only row: its claim waits for the operator, then it binds, gets its reservation and its answer file', async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c722';
    const mac = '52:54:00:c7:00:22';
    const [id] = await importCsv(`uuid,hostname,ip,policy\n${uuid},web-22,127.0.0.72,row-policy\n`);
    await lease(mac, '127.0.0.32');
    const b = await boot('127.0.0.32', `mac=${mac}&uuid=${uuid}`);
    expect(kernelArgs(b.text).node).toBe(id);
    expect((await register('127.0.0.32', b.text, [mac], uuid)).status).toBe(200);
    expect((await node(id!)).state).toBe('registered');
    // One click: the node page's "Accept what the machine reported".
    const ok = await t.admin('POST', `/api/v1/nodes/${id}/manifest/accept`, {});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'bound', policy: 'row-policy' });
    // Its next boot: its task with the install token, and the reservation the accept made of the row's address for its MAC.
    const task = await boot('127.0.0.32', `mac=${mac}`);
    expect(task.text).toContain('stage_url');
    expect((await node(id!)).reservation).toEqual({ mac, ip: '127.0.0.72', hostname: 'web-22' });
    const answer = /url=(\S+answer\.cfg)/.exec(task.text)![1]!;
    const file = await httpFrom('127.0.0.32', 'GET', answer);
    expect(file.status).toBe(200);
    expect(file.text).toContain('host web-22');
  });
});

describe('the operator accepts a held claim', () => {
  it("reserves the row's address for the machine's MAC at once: DHCP offers it before the machine boots again", async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c723';
    const mac = '52:54:00:c7:00:23';
    const [id] = await importCsv(`uuid,hostname,ip,policy\n${uuid},web-23,127.0.0.73,row-policy\n`);
    await lease(mac, '127.0.0.33');
    const b = await boot('127.0.0.33', `mac=${mac}&uuid=${uuid}`);
    expect(kernelArgs(b.text).node).toBe(id);
    expect((await register('127.0.0.33', b.text, [mac], uuid)).status).toBe(200);
    // Held: DHCP does not give the MAC the row's address.
    expect(await offered(mac)).not.toBe('127.0.0.73');
    const ok = await t.admin('POST', `/api/v1/nodes/${id}/manifest/accept`, {});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'bound', policy: 'row-policy', reservation: { mac, ip: '127.0.0.73', hostname: 'web-23' } });
    // Stored when the accept answered, and what DHCP offers the MAC now, with no /boot in between.
    expect(await t.app.ctx.store.reservations.findOne({ _id: mac })).toMatchObject({ mac, ip: '127.0.0.73' });
    expect(await reservation(mac)).toMatchObject({ mac, ip: '127.0.0.73' });
    expect(await offered(mac)).toBe('127.0.0.73');
    // Made once: the machine's next boot, from its reserved address, gets its task and reserves nothing again.
    const task = await boot('127.0.0.73', `mac=${mac}`);
    expect(task.text).toContain('stage_url');
    const events = (await t.admin('GET', `/api/v1/events?node_id=${id}&type=node.address`)).body.events;
    expect(events.map((e: { message: string }) => e.message)).toEqual([
      `Claim accepted by the operator: static address 127.0.0.73 reserved for ${mac}`,
    ]);
  });
});

describe('the operator accepts a held claim, of a row that lists another MAC', () => {
  it("moves the row's address from the listed MAC to the MAC the machine boots with, at once", async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c724';
    const rowMac = '52:54:00:c7:00:24';
    const [id] = await importCsv(`mac,uuid,hostname,ip,policy\n${rowMac},${uuid},web-24,127.0.0.74,row-policy\n`);
    // The machine boots from a NIC its row does not list (the row names its other one).
    const mac = '52:54:00:c7:10:24';
    await lease(mac, '127.0.0.34');
    const b = await boot('127.0.0.34', `mac=${mac}&uuid=${uuid}`);
    expect(kernelArgs(b.text).node).toBe(id);
    expect(await reservation(rowMac)).toMatchObject({ ip: '127.0.0.74' });
    const ok = await t.admin('POST', `/api/v1/nodes/${id}/manifest/accept`, {});
    expect(ok.status).toBe(200);
    expect(ok.body.reservation).toEqual({ mac, ip: '127.0.0.74', hostname: 'web-24' });
    expect((await t.admin('GET', `/api/v1/reservations/${rowMac}`)).status).toBe(404);
    expect(await offered(mac)).toBe('127.0.0.74');
  });
});

describe('attack: a copied UUID claims an expected record, then its machine boots with the MAC its row lists', () => {
  it("the row's MAC takes the row at once; the forger is split off with nothing of the row's, and the operator is told", async () => {
    const uuid = '5e1f0000-0000-4000-8000-00000000c711';
    const rowMac = '52:54:00:c7:00:11';
    const [id] = await importCsv(`mac,uuid,hostname,ip,policy\n${rowMac},${uuid},db-11,127.0.0.61,row-policy\n`);
    const forger = '02:00:00:00:00:11';
    await lease(forger, '127.0.0.41');
    const fb = await boot('127.0.0.41', `mac=${forger}&uuid=${uuid}`);
    expect(kernelArgs(fb.text).node).toBe(id);
    const freg = await register('127.0.0.41', fb.text, [forger], uuid);
    expect(freg.status, freg.text).toBe(200);
    expect((await node(id!)).manifest.mismatch).toEqual([expect.stringMatching(/^claim not confirmed/)]);
    // The real machine's firmware: DHCP offers it the row's address (its reservation since the import). A DHCP packet
    // takes nothing over by itself: the microkernel asks DHCP on every NIC, the held machine's too.
    expect(await offered(rowMac)).toBe('127.0.0.61');
    expect((await node(id!)).macs).toContain(forger);
    // iPXE asks with the MAC the row lists: the strong claim, at once.
    const b = await boot('127.0.0.61', `mac=${rowMac}&uuid=${uuid}`);
    expect(b.status, b.text).toBe(200);
    expect(kernelArgs(b.text).node).toBe(id);
    expect((await register('127.0.0.61', b.text, [rowMac], uuid)).status).toBe(200);
    expect(await node(id!)).toMatchObject({
      state: 'bound',
      policy: 'row-policy',
      hostname: 'db-11',
      macs: [rowMac],
      boot_mac: rowMac,
      uuid,
      conflicts: [],
      manifest: { mismatch: [] },
      reservation: { mac: rowMac, ip: '127.0.0.61' },
    });
    expect((await boot('127.0.0.61', `mac=${rowMac}`)).text).toContain('stage_url');
    // The operator is told, both MACs named; the forger's MAC has a record of its own with a conflict to look at.
    const claimed = (await t.admin('GET', `/api/v1/events?node_id=${id}&type=node.claimed`)).body.events;
    const split = claimed.find((e: { data: { split_to?: number } }) => e.data.split_to !== undefined);
    expect(split.data).toEqual({ row: expect.any(Number), mac: rowMac, held_macs: [forger], split_to: expect.any(Number) });
    expect(split.message).toContain(rowMac);
    expect(split.message).toContain(forger);
    const other = await node(split.data.split_to);
    expect(other).toMatchObject({
      macs: [forger],
      state: 'registered',
      policy: null,
      manifest: null,
      reservation: null,
      conflicts: [{ node_id: id, field: 'uuid', value: uuid }],
    });
    // None of the row's for the forger: no reservation, no task, no install token, and its agent token is its own record's.
    expect((await t.admin('GET', `/api/v1/reservations/${forger}`)).status).toBe(404);
    expect(await offered(forger)).not.toBe('127.0.0.61');
    const again = await boot('127.0.0.41', `mac=${forger}&uuid=${uuid}`);
    expect(kernelArgs(again.text).node).toBe(other.id);
    expect(again.text).not.toContain('stage_url');
    const checkin = { node_id: id, agent_token: freg.body.agent_token, state: 'running', facts_hash: 'x', first_checkin: false };
    expect((await t.node('POST', '/api/v1/checkin', checkin)).status).toBe(403);
  });
});
