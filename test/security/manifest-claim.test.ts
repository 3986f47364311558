/**
 * Taking over an expected machine's record with a copied UUID (docs/identity.md 1, docs/manifest.md "When a machine
 * arrives"), over real sockets to the node plane: the UUID is in every DHCP packet the real machine broadcasts
 * (option 97), so a forger that asks `/boot` with it before the real machine does must not get the row's policy, its
 * answer files, its install token or its DHCP reservation. Beside each attack, the honest machine's flow works: a row
 * that lists the machine's MAC binds by itself, a UUID-only row binds once the operator accepts the claim.
 * Full DHCP on loopback (no NIC, so no DHCP socket): each machine speaks from its own 127.0.0.x address, which the
 * lease store says the appliance leased to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { putBoundLease } from '../support/bound-lease.ts';
import { kernelArgs } from '../support/protocol-node.ts';
import { httpFrom } from './helpers/http-from.ts';

const TASK = {
  name: 'row-task',
  ipxe: '#!ipxe\n# crashcart: stage_url={{stage_url}}\nkernel {{server_url}}/images/x/vmlinuz url={{files_base}}/answer.cfg\nboot\n',
  templates: { 'answer.cfg': 'rootpw --iscrypted $6$row-secret\nhost {{hostname}}\n' },
};

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance({
    dhcp: 'full',
    address: { ip: '127.0.0.1', prefix: 8 },
    range: { start: '127.0.0.30', end: '127.0.0.90' },
  });
  expect((await t.admin('POST', '/api/v1/tasks', TASK)).status).toBe(201);
  // Tag-less: only the manifest (or the operator) binds it.
  expect((await t.admin('POST', '/api/v1/policies', { name: 'row-policy', task: 'row-task' })).status).toBe(201);
});
afterAll(() => t.stop());

/** The appliance's DHCP leased `ip` to `mac` (written the way the DHCP server writes it). */
const lease = (mac: string, ip: string) => putBoundLease(t, mac, ip);
const node = async (id: number) => (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
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
    // Its next boot: the reservation of the row's address for its MAC, and its task with the install token.
    const task = await boot('127.0.0.32', `mac=${mac}`);
    expect(task.text).toContain('stage_url');
    expect((await node(id!)).reservation).toEqual({ mac, ip: '127.0.0.72', hostname: 'web-22' });
    const answer = /url=(\S+answer\.cfg)/.exec(task.text)![1]!;
    const file = await httpFrom('127.0.0.32', 'GET', answer);
    expect(file.status).toBe(200);
    expect(file.text).toContain('host web-22');
  });
});
