/**
 * The rack manifest over the admin API and the real node plane (issue 15, docs/identity.md 1 and 3):
 * preview, import, expected records with DHCP reservations, machines claiming their rows at /boot and
 * registration (by MAC or by serial), conflicts left to the operator, approval, hostile files.
 * Full DHCP on loopback (no NIC, so no DHCP socket): each machine speaks from its own 127.0.0.x address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { putBoundLease } from '../support/bound-lease.ts';
import { kernelArgs } from '../support/protocol-node.ts';
import { httpFrom } from '../security/helpers/http-from.ts';

let t: TestAppliance;
beforeAll(async () => {
  t = await startTestAppliance({
    dhcp: 'full',
    address: { ip: '127.0.0.1', prefix: 8 },
    range: { start: '127.0.0.30', end: '127.0.0.90' },
  });
  await t.admin('POST', '/api/v1/policies', { name: 'rack-web', task: 'local-disk' });
});
afterAll(() => t.stop());

const preview = (content: string, format = 'csv') => t.admin('POST', '/api/v1/manifest/preview', { format, content });
const importCsv = (content: string, extra: Record<string, unknown> = {}) =>
  t.admin('POST', '/api/v1/manifest/import', { format: 'csv', content, source: 'rack7.csv', ...extra });
const node = async (id: number) => (await t.admin('GET', `/api/v1/nodes/${id}`)).body;
/** The appliance's DHCP leased `ip` to `mac` (written the way the DHCP server writes it). */
const lease = (mac: string, ip: string) => putBoundLease(t, mac, ip);
const nodes = async (q = '') => (await t.admin('GET', `/api/v1/nodes?limit=1000${q}`)).body.nodes as any[];

/** A machine at /boot from its own address, then its agent registering from there. */
async function machine(ip: string, mac: string, serial: string, extraMacs: string[] = []) {
  const boot = await httpFrom(ip, 'GET', `${t.nodeUrl}/boot?mac=${mac}&serial=${serial}&arch=x86_64&platform=efi`);
  expect(boot.status, boot.text).toBe(200);
  const ka = kernelArgs(boot.text);
  const register = () =>
    httpFrom(ip, 'POST', `${t.nodeUrl}/api/v1/register`, {
      hw_id: mac,
      node_id: ka.node,
      macs: [mac, ...extraMacs],
      serial,
      token: ka.token,
      facts: { serialnumber: serial, manufacturer: 'Dell Inc.' },
      agent_version: '0.1.0+abc',
      microkernel_version: 'mk-test-1',
    });
  return { ka, register };
}

describe('preview and import', () => {
  const CSV = [
    'serial,mac,hostname,ip,policy,bmc_address,role,rack_u',
    'SRV-0001,,web-01,127.0.0.41,rack-web,10.99.0.1,web,12', // serial only: waits for a machine with that serial
    ',52:54:00:7a:00:02,web-02,127.0.0.42,rack-web,,web,13', // MAC only: reserved in DHCP now
    'SRV-0003,52:54:00:7a:00:03,db-01,,,,"=HYPERLINK(""http://evil/"")",14', // formula cell: a warning
    'SRV-0004,,bad_host,10.0.0.300,,,,', // errors
    ',,nobody,,,,,', // no identifier
    'SRV-0001,,dup,,,,,', // serial of row 2 again
    'SRV-0007,,x07,,ghost-policy,,,', // unknown policy
  ].join('\r\n');

  it('preview says per row what would change, and changes nothing', async () => {
    const before = (await nodes()).length;
    const r = await preview(CSV);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.applied).toBe(false);
    expect(r.body.counts).toEqual({ create: 3, update: 0, unchanged: 0, conflict: 0, error: 4 });
    const by = Object.fromEntries(r.body.rows.map((x: any) => [x.row, x]));
    expect(by[2]).toMatchObject({ action: 'create', label: 'SRV-0001', hostname: 'web-01' });
    expect(by[2].changes).toEqual(
      expect.arrayContaining(['static address 127.0.0.41', 'policy rack-web', 'BMC address 10.99.0.1', 'metadata role=web']),
    );
    expect(by[4].warnings.join()).toMatch(/role: "=HYPERLINK.*spreadsheet formula/);
    expect(by[5].problems).toEqual([expect.stringContaining('hostname "bad_host"'), expect.stringContaining('ip "10.0.0.300"')]);
    expect(by[6].problems).toEqual(['no serial, mac or uuid: nothing to recognise the machine by']);
    expect(by[7].problems).toEqual(['serial SRV-0001 is also in row 2']);
    expect(by[8].problems[0]).toContain('no policy named "ghost-policy"');
    expect((await nodes()).length).toBe(before);
  });

  it('import refuses the whole file while rows are bad, then imports the good ones when told to skip', async () => {
    const refused = await importCsv(CSV);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('CC_ERR_MANIFEST_ROWS');
    expect(refused.body.message).toContain('rows 5, 6, 7, 8');
    expect((await nodes('&state=expected')).length).toBe(0);

    const r = await importCsv(CSV, { skip_invalid: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.applied).toBe(true);
    const expected = await nodes('&state=expected');
    expect(expected.map((n) => n.hostname).sort()).toEqual(['db-01', 'web-01', 'web-02']);
    const web1 = expected.find((n) => n.hostname === 'web-01');
    expect(web1).toMatchObject({
      serial: 'SRV-0001',
      macs: [],
      hostname_locked: true,
      ip_reserved: '127.0.0.41',
      reservation: null,
      metadata: { role: 'web', rack_u: '12' },
      manifest: {
        row: 2,
        source: 'rack7.csv',
        policy: 'rack-web',
        ip: '127.0.0.41',
        bmc_address: '10.99.0.1',
        claimed_at: null,
        mismatch: [],
      },
    });
    const web2 = expected.find((n) => n.hostname === 'web-02');
    expect(web2.reservation).toEqual({ mac: '52:54:00:7a:00:02', ip: '127.0.0.42', hostname: 'web-02' });
    expect((await t.admin('GET', '/api/v1/reservations/52:54:00:7a:00:02')).body.ip).toBe('127.0.0.42');
    expect((await t.admin('GET', '/api/v1/manifest')).body).toEqual({ waiting: 3, arrived: 0, unexpected: 0, mismatched: 0 });
    expect((await nodes('&manifest=waiting')).length).toBe(3);
  });

  it('importing the same file again changes nothing', async () => {
    const good = CSV.split('\r\n').slice(0, 4).join('\r\n');
    const r = await importCsv(good);
    expect(r.body.counts).toEqual({ create: 0, update: 0, unchanged: 3, conflict: 0, error: 0 });
  });
});

describe('machines claim their rows', () => {
  it('by MAC: the first /boot takes the record, the reservation holds, registration binds the manifest policy', async () => {
    const [web2] = (await nodes('&state=expected')).filter((n) => n.hostname === 'web-02');
    const m = await machine('127.0.0.42', '52:54:00:7a:00:02', 'SRV-0002');
    expect(m.ka.node).toBe(web2.id);
    const claimed = await node(web2.id);
    expect(claimed.state).toBe('booting-microkernel');
    expect(claimed.manifest.claimed_at).not.toBeNull();
    const reg = await m.register();
    expect(reg.status, reg.text).toBe(200);
    expect(reg.body.node_id).toBe(web2.id);
    const after = await node(web2.id);
    // The manifest's policy binds (approval is off); the manifest's hostname survives the policy's template.
    expect(after).toMatchObject({
      state: 'bound',
      policy: 'rack-web',
      hostname: 'web-02',
      microkernel_version: 'mk-test-1',
      agent_version: '0.1.0+abc',
    });
    const ev = (await t.admin('GET', `/api/v1/nodes/${web2.id}/events`)).body.events.map((e: any) => e.type);
    expect(ev).toEqual(expect.arrayContaining(['node.expected', 'node.claimed', 'node.registered', 'node.bound']));
  });

  it('by serial: a new MAC folds into the expected record (its id); binding and reservation wait for the operator', async () => {
    const [web1] = (await nodes('&state=expected')).filter((n) => n.hostname === 'web-01');
    // Full DHCP: the machine's firmware got a lease first (the appliance's DHCP would have created a record).
    await lease('52:54:00:7a:00:01', '127.0.0.35');
    const m = await machine('127.0.0.35', '52:54:00:7a:00:01', 'SRV-0001');
    expect(m.ka.node).toBe(web1.id);
    const n = await node(web1.id);
    expect(n).toMatchObject({
      macs: ['52:54:00:7a:00:01'],
      boot_mac: '52:54:00:7a:00:01',
      serial: 'SRV-0001',
      state: 'booting-microkernel',
      reservation: null,
    });
    // A serial can be copied from anyone's boot: the claim is held (docs/identity.md 1).
    expect(n.manifest.mismatch).toEqual([expect.stringMatching(/^claim not confirmed: matched by serial alone/)]);
    const reg = await m.register();
    expect(reg.status, reg.text).toBe(200);
    expect((await node(web1.id)).state).toBe('registered');
    expect((await t.admin('POST', `/api/v1/nodes/${web1.id}/manifest/accept`, {})).body.state).toBe('bound');
    // Its next contact makes the reservation of the row's address for the MAC it booted with.
    await httpFrom('127.0.0.35', 'GET', `${t.nodeUrl}/boot?mac=52:54:00:7a:00:01&serial=SRV-0001`);
    expect((await node(web1.id)).reservation).toEqual({ mac: '52:54:00:7a:00:01', ip: '127.0.0.41', hostname: 'web-01' });
    expect((await nodes()).filter((x) => x.serial === 'SRV-0001')).toHaveLength(1);
  });

  it('a second machine claiming the same serial is a conflict for the operator; the record stays', async () => {
    const [web1] = (await nodes()).filter((n) => n.hostname === 'web-01');
    const intruder = await httpFrom('127.0.0.66', 'GET', `${t.nodeUrl}/boot?mac=52:54:00:7a:00:66&serial=SRV-0001`);
    const id = kernelArgs(intruder.text).node!;
    expect(id).not.toBe(web1.id);
    const n = await node(id);
    expect(n.serial).toBeNull();
    expect(n.conflicts).toEqual([{ node_id: web1.id, field: 'serial', value: 'SRV-0001' }]);
    expect((await node(web1.id)).macs).toEqual(['52:54:00:7a:00:01']);
  });

  it('a serial and a MAC pointing at different expected records claim neither', async () => {
    await importCsv('serial,mac,hostname\nSRV-0100,,split-a\n,52:54:00:7a:01:00,split-b\n');
    const [a, b] = ['split-a', 'split-b'].map(async (h) => (await nodes()).find((n) => n.hostname === h));
    const [na, nb] = [await a, await b];
    // Full DHCP: the machine's token works only from an address of its own (here: its lease).
    await lease('52:54:00:7a:01:01', '127.0.0.47');
    const r = await httpFrom('127.0.0.47', 'GET', `${t.nodeUrl}/boot?mac=52:54:00:7a:01:01&serial=SRV-0100`);
    // The MAC is new and the serial alone matches split-a: claimed by serial. Its second NIC (split-b's MAC) then
    // conflicts at registration: one machine may not take two rows.
    const id = kernelArgs(r.text).node!;
    expect(id).toBe(na.id);
    const reg = await httpFrom('127.0.0.47', 'POST', `${t.nodeUrl}/api/v1/register`, {
      hw_id: 'x',
      macs: ['52:54:00:7a:01:01', '52:54:00:7a:01:00'],
      serial: 'SRV-0100',
      token: kernelArgs(r.text).token,
      facts: {},
    });
    expect(reg.status, reg.text).toBe(200);
    const after = await node(na.id);
    expect(after.conflicts).toEqual([{ node_id: nb.id, field: 'mac', value: '52:54:00:7a:01:00' }]);
    expect((await node(nb.id)).state).toBe('expected');
    // A machine whose serial is one row's and MAC another's, both unclaimed: no claim at all.
    await importCsv('serial,mac,hostname\nSRV-0200,,pair-a\n,52:54:00:7a:02:00,pair-b\n');
    const r2 = await httpFrom('127.0.0.68', 'GET', `${t.nodeUrl}/boot?mac=52:54:00:7a:02:00&serial=SRV-0200`);
    const pb = (await nodes()).find((n) => n.hostname === 'pair-b');
    const pa = (await nodes()).find((n) => n.hostname === 'pair-a');
    // The MAC is pair-b's own: the machine is pair-b; the serial is pair-a's: a conflict, pair-a stays expected.
    expect(kernelArgs(r2.text).node).toBe(pb.id);
    expect((await node(pb.id)).conflicts).toEqual([{ node_id: pa.id, field: 'serial', value: 'SRV-0200' }]);
    expect(pa.state).toBe('expected');
  });

  it('a machine reporting another serial than its row is noted; manifest binding waits until the operator accepts', async () => {
    await importCsv('serial,mac,hostname,policy\nSRV-0300,52:54:00:7a:03:00,mism,rack-web\n');
    const e = (await nodes()).find((n) => n.hostname === 'mism');
    await t.admin('PUT', `/api/v1/nodes/${e.id}/address`, { ip: '127.0.0.43' });
    const before = (await t.admin('GET', '/api/v1/manifest')).body.mismatched;
    const m = await machine('127.0.0.43', '52:54:00:7a:03:00', 'OTHER-SERIAL');
    expect((await m.register()).status).toBe(200);
    const n = await node(e.id);
    expect(n.manifest.mismatch).toEqual(['serial: the row says SRV-0300, the machine OTHER-SERIAL']);
    expect(n.state).toBe('registered');
    expect((await t.admin('GET', '/api/v1/manifest')).body.mismatched).toBe(before + 1);
    const ok = await t.admin('POST', `/api/v1/nodes/${e.id}/manifest/accept`, {});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'bound', policy: 'rack-web' });
  });

  it('with approval required, manifest binding waits for the operator', async () => {
    await t.admin('PATCH', '/api/v1/settings', { approval_required: true });
    try {
      await importCsv('serial,mac,hostname,policy\nSRV-0400,52:54:00:7a:04:00,appr,rack-web\n');
      const e = (await nodes()).find((n) => n.hostname === 'appr');
      expect(e.approved).toBe(false);
      await t.admin('PUT', `/api/v1/nodes/${e.id}/address`, { ip: '127.0.0.44' });
      const m = await machine('127.0.0.44', '52:54:00:7a:04:00', 'SRV-0400');
      expect((await m.register()).status).toBe(200);
      expect((await node(e.id)).state).toBe('registered');
      const ap = await t.admin('POST', '/api/v1/nodes/approve', { node_ids: [e.id] });
      expect(ap.body.results[0]).toMatchObject({ ok: true, state: 'bound' });
    } finally {
      await t.admin('PATCH', '/api/v1/settings', { approval_required: false });
    }
  });

  it('shows which machines arrived that nobody expected', async () => {
    const s = (await t.admin('GET', '/api/v1/manifest')).body;
    expect(s.unexpected).toBeGreaterThanOrEqual(1); // the intruder of the serial test
    const unexpected = await nodes('&manifest=unexpected');
    expect(unexpected.every((n) => n.manifest === null)).toBe(true);
    expect(unexpected.some((n) => n.macs.includes('52:54:00:7a:00:66'))).toBe(true);
  });

  it('a row matching a known machine updates it (no new record), and the address follows', async () => {
    const intruder = (await nodes()).find((n) => n.macs.includes('52:54:00:7a:00:66'));
    const r = await importCsv('mac,hostname,ip,owner\n52:54:00:7a:00:66,lab-66,127.0.0.45,ops\n');
    expect(r.body.rows[0]).toMatchObject({ action: 'update', node_id: intruder.id });
    const n = await node(intruder.id);
    expect(n).toMatchObject({ hostname: 'lab-66', ip_reserved: '127.0.0.45', metadata: { owner: 'ops' } });
    expect(n.manifest.claimed_at).not.toBeNull(); // it had been seen: it counts as arrived
    expect(n.reservation).toMatchObject({ mac: '52:54:00:7a:00:66', ip: '127.0.0.45' });
  });
});

describe('hostile manifests', () => {
  it('bad UTF-8 names the line and byte; a lone surrogate is refused', async () => {
    const bytes = Buffer.concat([Buffer.from('serial,hostname\nA1,ok\nA2,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const r = await t.admin('POST', '/api/v1/manifest/preview', { format: 'csv', content_base64: bytes.toString('base64') });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('CC_ERR_MANIFEST_INVALID');
    expect(r.body.message).toContain('bad byte 0xc3 at byte 25 (line 3)');
    const s = await t.admin('POST', '/api/v1/manifest/preview', { format: 'csv', content: 'serial\n\ud800\n' });
    expect(s.body.message).toContain('surrogate');
  });

  it('an unclosed quote, a missing header, duplicate columns: the file is refused saying where', async () => {
    expect((await preview('serial,note\nA,"open\nB,x\n')).body.message).toContain('line 2, column 3');
    expect((await preview('hostname,ip\nweb,10.0.0.1\n')).body.message).toContain('no serial, mac or uuid column');
    expect((await preview('serial,Serial\nA,B\n')).body.message).toContain('twice');
    expect((await preview('')).body.message).toContain('empty');
    expect((await t.admin('POST', '/api/v1/manifest/preview', { format: 'csv' })).body.code).toBe('CC_ERR_MANIFEST_INVALID');
  });

  it('a file over the size limit or over 10,000 machines is refused whole', async () => {
    const huge = `serial,note\n${'A,'.padEnd(200, 'x')}\n`.repeat(1).padEnd(4 * 1024 * 1024 + 10, 'x');
    const r = await t.admin('POST', '/api/v1/manifest/preview', { format: 'csv', content: huge });
    expect(r.status).toBe(400);
    const many = `serial\n${Array.from({ length: 10_001 }, (_, i) => `S${i}`).join('\n')}\n`;
    const m = await preview(many);
    expect(m.status).toBe(400);
    expect(m.body.message).toContain('more than 10001 rows');
  });

  it('JSON manifests: an array or {machines}, extra keys become metadata, nested objects are refused per row', async () => {
    const doc = {
      machines: [
        { serial: 'J-1', hostname: 'json-1', rack: 'B4', metadata: { owner: 'team-x' } },
        { serial: 'J-2', nested: { no: 1 } },
        'not an object',
      ],
    };
    const r = await preview(JSON.stringify(doc), 'json');
    expect(r.body.rows.map((x: any) => x.action)).toEqual(['create', 'error', 'error']);
    expect(r.body.rows[0].changes).toEqual(expect.arrayContaining(['metadata rack=B4', 'metadata owner=team-x']));
    expect((await preview('{"machines": 3}', 'json')).body.message).toContain('expected an array');
    expect((await preview('[{"serial": "x"', 'json')).body.code).toBe('CC_ERR_MANIFEST_INVALID');
  });
});
