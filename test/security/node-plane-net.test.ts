/**
 * The node plane on a real (namespaced) network, the real binary in full-DHCP mode on a laptop with two
 * NICs: the rack and the office LAN. Attacks: a host on the office LAN routes the rack subnet through the
 * laptop and talks to the node plane; a rack machine with its own DHCP lease uses a token /boot gave it
 * for another machine's MAC; a rack machine floods DHCP with forged PXE clients, and with forged plain
 * clients to push the operator's history out of the event log. Real DHCP clients
 * (udhcpc), real curl, real packets.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../support/netns-lab.ts';
import { waitFor } from '../support/wait-for.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { spawnAppliance } from '../support/appliance.ts';
import { bucketBound } from '../support/bucket-bound.ts';

const lab = new Lab('sec', 'net');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-sec-net-'));
const dataDir = path.join(tmp, 'data');
const RACK_IP = '10.77.0.1';
const NODE = `http://${RACK_IP}:8026`;
const ADMIN = 'http://127.0.0.1:8027';
const M1 = '02:5e:c1:00:00:01';
const M2 = '02:5e:c1:00:00:66';

function run(ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', lab.ns(ns), cmd, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** curl from a namespace: status code and body (`code` 0 = an HTTP answer came). */
async function curl(ns: string, method: string, url: string, body?: unknown, headers: string[] = []) {
  const args = ['-s', '--max-time', '5', '-o', '-', '-w', '\n%{http_code}', '-X', method, ...headers.flatMap((h) => ['-H', h])];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  const r = await run(ns, 'curl', [...args, url]);
  const i = r.out.lastIndexOf('\n');
  const text = r.out.slice(0, i);
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { code: r.code, status: Number(r.out.slice(i + 1)), text, body: parsed };
}

const admin = (method: string, url: string, body?: unknown) =>
  curl('lap', method, `${ADMIN}${url}`, body, [
    `authorization: Bearer ${fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()}`,
  ]);

/** Lease an address with udhcpc in `ns` and configure it; returns the address. */
async function lease(ns: string): Promise<string> {
  const script = path.join(tmp, 'udhcpc.sh');
  fs.writeFileSync(
    script,
    '#!/bin/sh\ncase "$1" in bound|renew) ip addr replace "$ip/24" dev "$interface"; echo "LEASE $ip" ;; esac\nexit 0\n',
    {
      mode: 0o755,
    },
  );
  const r = await run(ns, 'udhcpc', ['-i', 'e0', '-n', '-q', '-f', '-t', '8', '-T', '2', '-s', script], 40_000);
  const ip = /LEASE (\S+)/.exec(r.out)?.[1];
  if (!ip) throw new Error(`no lease in ${ns}: ${r.out}`);
  return ip;
}

beforeAll(async () => {
  lab.addSwitch();
  for (const n of ['lap', 'office', 'm1', 'm2']) lab.addNs(n);
  lab.plug('lap', 'rack0', `${RACK_IP}/24`);
  lab.plug('lap', 'office0', '192.168.77.1/24', { peerNs: 'office', peerIf: 'o0', peerCidr: '192.168.77.50/24' });
  // The office host reaches the rack subnet through the laptop (which routes, as a laptop sharing a link would).
  lab.exec('lap', 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  lab.exec('office', 'ip', ['route', 'add', '10.77.0.0/24', 'via', '192.168.77.1']);
  lab.plug('m1', 'e0', null);
  lab.plug('m2', 'e0', null);
  lab.exec('m1', 'ip', ['link', 'set', 'e0', 'address', M1]);
  lab.exec('m2', 'ip', ['link', 'set', 'e0', 'address', M2]);
  const args = ['--iface', 'rack0', '--dhcp', 'full', '--range', '10.77.0.100-10.77.0.150', '--admin-listen', '127.0.0.1:8027'];
  const proc = await spawnAppliance([...args, '--log-level', 'error'], {
    dataDir,
    netns: lab.ns('lap'),
    httpPort: 8026,
    testDefaults: false,
  });
  lab.children.push(proc.child);
  // Full mode goes live after its foreign-server probe.
  await waitFor('DHCP running', 30_000, async () => {
    const s = await admin('GET', '/api/v1/status');
    return s.body?.services?.some((x: { name: string; state: string }) => x.name === 'dhcp' && x.state === 'running');
  });
}, 90_000);

afterAll(async () => {
  await lab.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the node plane is pinned to the rack NIC', () => {
  it('refuses an office host that routes the rack subnet through the laptop; rack hosts are served', async () => {
    // Control: the route works. An ordinary (unpinned) listener on the laptop's rack address answers the office.
    const probe = lab.spawnIn('lap', process.execPath, [
      '-e',
      `require('net').createServer((c) => c.end('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nup')).listen(9999, '${RACK_IP}', () => console.log('ready'))`,
    ]);
    await new Promise<void>((r) => probe.stdout!.once('data', () => r()));
    expect((await curl('office', 'GET', `http://${RACK_IP}:9999/`)).text).toBe('up');
    probe.kill('SIGKILL');

    // The attack: the same route to the node plane gets no answer.
    const office = await curl('office', 'GET', `${NODE}/health`);
    expect(office.code).not.toBe(0);
    expect(office.status).toBe(0);

    // Positive control: a rack machine with a lease from the appliance is served.
    await lease('m1');
    const rack = await curl('m1', 'GET', `${NODE}/health`);
    expect(rack.status).toBe(200);
  });
});

describe('full DHCP: a token works only from the leases of the node it names', () => {
  it("a rack machine cannot use a token /boot gave it for another machine's MAC", async () => {
    const ip1 = await lease('m1');
    const ip2 = await lease('m2');
    expect(ip1).not.toBe(ip2);
    // The attacker asks what the victim should boot, and receives a token for the victim's record...
    const forged = await curl('m2', 'GET', `${NODE}/boot?mac=${M1}`);
    const token = /crashcart\.token=(\S+)/.exec(forged.text)?.[1];
    const nodeId = Number(/crashcart\.node=(\d+)/.exec(forged.text)?.[1]);
    expect(token).toBeTruthy();
    // ...which is refused from its own lease, even listing its own NIC as a new NIC of the victim.
    const stolen = await curl('m2', 'POST', `${NODE}/api/v1/register`, { hw_id: 'x', macs: [M1, M2], token, facts: {} });
    expect(stolen.status).toBe(403);
    expect(stolen.body.message).toContain(`presented from ${ip2}`);
    // Positive control: from the victim's own lease the same token enrols the victim.
    const own = await curl('m1', 'POST', `${NODE}/api/v1/register`, { hw_id: 'x', macs: [M1], token, facts: { v: 1 } });
    expect(own.status).toBe(200);
    expect(own.body.node_id).toBe(nodeId);
    const rec = await admin('GET', `/api/v1/nodes/${nodeId}`);
    expect(rec.body).toMatchObject({ macs: [M1], state: 'registered', ip: ip1 });
  });
});

describe('DHCP sightings', () => {
  it('create at most node_create_dhcp_per_min records from a flood of forged PXE clients; DHCP keeps answering', async () => {
    expect((await admin('PATCH', '/api/v1/settings', { node_create_dhcp_per_min: 10 })).status).toBe(200);
    const before = (await admin('GET', '/api/v1/nodes')).body.total as number;
    const t0 = Date.now();
    const flood = await run(
      'm2',
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), path.join(REPO_ROOT, 'test/security/helpers/pxe-flood.ts'), '40'],
      60_000,
    );
    const line = flood.out.split('\n').find((l) => l.startsWith('{"sent"'));
    expect(line, flood.out).toBeTruthy();
    const { sent, offers } = JSON.parse(line!) as { sent: number; offers: number };
    expect(sent).toBe(40);
    // DHCP answered past the creation limit (boots go on; /boot records them later, within its own limit).
    expect(offers).toBeGreaterThan(10);
    const after = (await admin('GET', '/api/v1/nodes')).body.total as number;
    // A full bucket of 10 at once, then 10 a minute refilled over however long the flood took (the real binary's clock).
    expect(after - before).toBeGreaterThanOrEqual(10);
    expect(after - before).toBeLessThanOrEqual(bucketBound(10, t0));
    expect(after - before).toBeLessThan(40);
    const ev = (await admin('GET', '/api/v1/events?type=node.suppressed')).body.events as { data: { kind: string; source: string } }[];
    expect(ev.some((e) => e.data.kind === 'create' && e.data.source === 'dhcp')).toBe(true);
  }, 90_000);

  it('record at most dhcp_events_per_min per-packet events of a flood of forged plain clients, count the rest, and keep answering', async () => {
    type Ev = {
      seq: number;
      type: string;
      mac: string | null;
      data: { kind?: string; source?: string; dropped?: number; tripped?: boolean };
    };
    // Small: the pool (51 addresses, some leased and offered by the tests above) bounds the OFFERs.
    const BUDGET = 4;
    const SENT = 60;
    const events = async (type: string): Promise<Ev[]> =>
      (await admin('GET', `/api/v1/events?type=${type}&limit=10000`)).body.events as Ev[];
    const flooded = (e: Ev) => e.mac?.startsWith('06:') === true;
    const flood = async (count: number) => {
      const r = await run(
        'm2',
        process.execPath,
        [
          path.join(REPO_ROOT, 'bin', 'run-ts.mjs'),
          path.join(REPO_ROOT, 'test/security/helpers/pxe-flood.ts'),
          String(count),
          'e0',
          'plain',
        ],
        60_000,
      );
      const line = r.out.split('\n').find((l) => l.startsWith('{"sent"'));
      expect(line, r.out).toBeTruthy();
      return JSON.parse(line!) as { sent: number; offers: number };
    };
    expect((await admin('PATCH', '/api/v1/settings', { dhcp_events_per_min: BUDGET })).status).toBe(200);
    const seq0 = Math.max(0, ...(await events('')).map((e) => e.seq));
    const t0 = Date.now();
    const { sent, offers } = await flood(SENT);
    expect(sent).toBe(SENT);
    // DHCP answered more clients than the budget records events for (each has a DISCOVER and an OFFER event):
    // answering does not wait on recording.
    expect(offers).toBeGreaterThan(BUDGET);
    const recorded = (await events('dhcp.')).filter((e) => e.seq > seq0 && flooded(e));
    // A bucket starts full (a minute's allowance as a burst) and refills BUDGET a minute while the flood lasts.
    expect(recorded.length).toBeGreaterThanOrEqual(BUDGET);
    expect(recorded.length).toBeLessThanOrEqual(bucketBound(BUDGET, t0));
    const budgetEvents = () => events('node.suppressed').then((l) => l.filter((e) => e.seq > seq0 && e.data.kind === 'dhcp_events'));
    const tripped = await budgetEvents();
    expect(tripped.map((e) => [e.data.source, e.data.tripped])).toEqual([['dhcp', true]]);
    // Lifted, the next packet ends the flood: one summary with what was counted. Every event of the flood was either
    // recorded or counted, one per DISCOVER received and one per OFFER sent.
    expect((await admin('PATCH', '/api/v1/settings', { dhcp_events_per_min: 0 })).status).toBe(200);
    const control = await flood(3);
    expect(control.sent).toBe(3);
    const over = (await budgetEvents()).filter((e) => e.data.tripped === false);
    expect(over).toHaveLength(1);
    expect(over[0]!.data.source).toBe('dhcp');
    expect(recorded.length + over[0]!.data.dropped!).toBe(SENT + offers);
    // The positive control: with the limit lifted, every event of the next packets is recorded.
    const after = (await events('dhcp.discover')).filter((e) => e.seq > over[0]!.seq && flooded(e));
    expect(after).toHaveLength(3);
  }, 120_000);
});

describe('TFTP requests', () => {
  it('record at most tftp_events_per_min transfer events of a flood of requests for missing files, count the rest, keep answering', async () => {
    type Ev = { seq: number; data: { client?: string; kind?: string; source?: string; dropped?: number; tripped?: boolean } };
    const BUDGET = 4;
    const SENT = 40;
    const events = async (type: string): Promise<Ev[]> =>
      (await admin('GET', `/api/v1/events?type=${type}&limit=10000`)).body.events as Ev[];
    const ip = (await run('m2', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'e0'])).out.match(/inet (\S+)\//)?.[1];
    expect(ip, 'm2 has its lease from the tests above').toBeTruthy();
    const fromM2 = (e: Ev) => e.data.client === ip;
    /** A real TFTP client (curl), one process asking for `n` missing files in turn: each answer is "file not found". */
    const ask = async (n: number, tag: string) => {
      const r = await run(
        'm2',
        'curl',
        ['-s', '--max-time', '3', '-w', '%{exitcode}\n', `tftp://${RACK_IP}/missing-${tag}-[1-${n}]`],
        60_000,
      );
      return r.out.split('\n').filter((l) => l === '68').length; // CURLE_TFTP_NOTFOUND: the server answered
    };
    expect((await admin('PATCH', '/api/v1/settings', { tftp_events_per_min: BUDGET })).status).toBe(200);
    const seq0 = Math.max(0, ...(await events('')).map((e) => e.seq));
    const t0 = Date.now();
    // Every request was answered: recording does not gate the answers.
    expect(await ask(SENT, 'a')).toBe(SENT);
    const recorded = (await events('tftp.error')).filter((e) => e.seq > seq0 && fromM2(e));
    expect(recorded.length).toBeGreaterThanOrEqual(BUDGET);
    // A minute's allowance at once, then BUDGET a minute refilled over however long the flood took.
    expect(recorded.length).toBeLessThanOrEqual(bucketBound(BUDGET, t0));
    const budgetEvents = () => events('node.suppressed').then((l) => l.filter((e) => e.seq > seq0 && e.data.kind === 'tftp_events'));
    const tripped = await budgetEvents();
    expect(tripped).toHaveLength(1);
    expect(tripped[0]!.data.tripped).toBe(true);
    // Lifted, the next request ends the flood: one summary with what was counted; recorded + counted is every request.
    expect((await admin('PATCH', '/api/v1/settings', { tftp_events_per_min: 0 })).status).toBe(200);
    expect(await ask(2, 'b')).toBe(2);
    const over = (await budgetEvents()).filter((e) => e.data.tripped === false);
    expect(over).toHaveLength(1);
    expect(over[0]!.data.source).toBe(tripped[0]!.data.source);
    expect(recorded.length + over[0]!.data.dropped!).toBe(SENT);
    // The positive control: with the limit lifted, both of the next requests are recorded.
    expect((await events('tftp.error')).filter((e) => e.seq > over[0]!.seq && fromM2(e))).toHaveLength(2);
  }, 90_000);
});
