/**
 * The foreign-server probe on a real link (network namespaces): dnsmasq as a
 * proxyDHCP server (answers PXE clients only) and as a full server, and a hostile
 * server (malformed offers, a spoofed server id, huge option lists, invented
 * identities). Full mode must refuse to go live beside each of them, with a
 * bounded event; proxy mode reports only other boot servers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../support/netns-lab.ts';
import { waitFor } from '../support/wait-for.ts';
import { DhcpPluginProc } from '../support/dhcp-plugin.ts';
import type { DhcpPluginOptions } from '../../server/dhcp/plugin.ts';
import type { ForeignServer } from '../../server/dhcp/probe-reply.ts';
import { MAX_FOREIGN_SERVERS } from '../../server/dhcp/defaults.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const lab = new Lab('dhcp', 'pr');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-probe-'));
const SERVER = '10.9.0.1';
let running: ChildProcess[] = [];

beforeAll(() => {
  lab.addSwitch();
  lab.addNs('app');
  lab.addNs('dns');
  lab.addNs('rogue');
  lab.plug('app', 'p0', `${SERVER}/24`);
  lab.plug('dns', 'f0', '10.9.0.2/24');
  lab.plug('rogue', 'r0', '10.9.0.3/24');
  // The rogue's plain UDP socket broadcasts to 255.255.255.255, which needs a route out of its NIC.
  lab.exec('rogue', 'ip', ['route', 'add', 'default', 'dev', 'r0']);
});
afterEach(async () => {
  for (const c of running) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  await Promise.all(running.map((c) => waitFor('child exit', 10_000, () => c.exitCode !== null || c.signalCode !== null)));
  running = [];
});
afterAll(async () => {
  await lab.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Run the probe in the appliance namespace; what it heard. */
async function probe(ms = 2000): Promise<{ servers: ForeignServer[]; overflow: number }> {
  const c = lab.spawnIn('app', process.execPath, [
    path.join(ROOT, 'bin/run-ts.mjs'),
    path.join(ROOT, 'test/dhcp/harness/probe.ts'),
    'p0',
    String(ms),
  ]);
  const lines: string[] = [];
  readline.createInterface({ input: c.stdout! }).on('line', (l) => lines.push(l));
  const line = await waitFor('probe result', 30_000, () => lines.find((l) => l.startsWith('{')));
  return JSON.parse(line) as { servers: ForeignServer[]; overflow: number };
}

function dnsmasq(name: string, args: string[]): ChildProcess {
  const c = lab.spawnIn('dns', 'dnsmasq', [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=f0',
    '--bind-interfaces',
    '--no-ping',
    `--dhcp-leasefile=${path.join(tmp, `${name}.leases`)}`,
    `--pid-file=${path.join(tmp, `${name}.pid`)}`,
    ...args,
  ]);
  running.push(c);
  return c;
}

async function rogue(mode: string): Promise<void> {
  const c = lab.spawnIn('rogue', process.execPath, [
    path.join(ROOT, 'bin/run-ts.mjs'),
    path.join(ROOT, 'test/dhcp/harness/rogue-server.ts'),
    mode,
    SERVER,
  ]);
  running.push(c);
  const lines: string[] = [];
  readline.createInterface({ input: c.stdout! }).on('line', (l) => lines.push(l));
  await waitFor(`rogue server (${mode})`, 15_000, () => lines.includes('ready'));
}

function appliance(name: string, mode: 'full' | 'proxy', options: DhcpPluginOptions = {}): DhcpPluginProc {
  const a = new DhcpPluginProc(lab, 'app', {
    iface: 'p0',
    ip: SERVER,
    prefix: 24,
    mode,
    range: mode === 'full' ? { start: '10.9.0.100', end: '10.9.0.120' } : null,
    force: false,
    dataDir: path.join(tmp, name),
    options: { probeMs: 2000, reprobeMs: 0, ...options },
  });
  running.push(a.child);
  return a;
}

const udpListening = (ns: string, port: number) => new RegExp(`:${port}\\s`).test(lab.exec(ns, 'ss', ['-lun']));

describe.sequential('probe against dnsmasq', () => {
  it('dnsmasq in proxy mode answers only the PXE DISCOVER, without an address: a proxyDHCP server', async () => {
    dnsmasq('proxy', ['--dhcp-range=10.9.0.0,proxy', '--pxe-service=x86PC,Crashcart test,undionly']);
    await waitFor('dnsmasq on 67', 10_000, () => udpListening('dns', 67));
    const r = await probe();
    expect(r.servers).toHaveLength(1);
    expect(r.servers[0]).toMatchObject({
      serverId: '10.9.0.2',
      from: '10.9.0.2',
      kind: 'proxy',
      answered: ['pxe'],
      pxe: true,
      offered: null,
    });
  });

  it('full mode refuses to go live beside it with CC_ERR_FOREIGN_PXE', async () => {
    dnsmasq('proxy2', ['--dhcp-range=10.9.0.0,proxy', '--pxe-service=x86PC,Crashcart test,undionly']);
    await waitFor('dnsmasq on 67', 10_000, () => udpListening('dns', 67));
    const a = appliance('refuse-proxy', 'full');
    const l = await a.started();
    expect(l).toMatchObject({ type: 'error', code: 'CC_ERR_FOREIGN_PXE' });
    expect(String(l.message)).toMatch(/10\.9\.0\.2 proxyDHCP: answers PXE clients without an address/);
    expect(String(l.fix)).toMatch(/Stop the other boot server/);
  });

  it('proxy mode beside it reports the other boot server once', async () => {
    dnsmasq('proxy3', ['--dhcp-range=10.9.0.0,proxy', '--pxe-service=x86PC,Crashcart test,undionly']);
    await waitFor('dnsmasq on 67', 10_000, () => udpListening('dns', 67));
    const a = appliance('beside-proxy', 'proxy', { reprobeMs: 600_000 });
    expect((await a.started()).type).toBe('ready');
    const ev = await waitFor('foreign server event', 20_000, () => a.events('dhcp.foreign_server')[0]);
    expect(ev.data).toMatchObject({ serverId: '10.9.0.2', kind: 'proxy', pxe: true, mode: 'proxy' });
    await a.stop();
  });

  it('a full dnsmasq answers both DISCOVERs with an address; proxy mode beside it reports nothing', async () => {
    dnsmasq('full', ['--dhcp-range=10.9.0.150,10.9.0.160,1h']);
    await waitFor('dnsmasq on 67', 10_000, () => udpListening('dns', 67));
    const r = await probe();
    expect(r.servers).toHaveLength(1);
    expect(r.servers[0]).toMatchObject({ serverId: '10.9.0.2', kind: 'dhcp', pxe: false });
    expect([...r.servers[0]!.answered].sort()).toEqual(['dhcp', 'pxe']);
    expect(r.servers[0]!.offered).toMatch(/^10\.9\.0\.1(5\d|60)$/);
    const a = appliance('beside-full', 'proxy', { reprobeMs: 600_000, probeMs: 2000 });
    expect((await a.started()).type).toBe('ready');
    const done = await waitFor('the look at start', 20_000, () => a.lines.find((l) => l.msg === 'dhcp: re-probed the link'));
    expect(done.o).toMatchObject({ heard: 1, competitors: 0 });
    expect(a.events('dhcp.foreign_server')).toEqual([]);
    await a.stop();
  });
});

describe.sequential('probe against a hostile server', () => {
  it('malformed offers still count: full mode refuses, naming the source', async () => {
    await rogue('malformed');
    const r = await probe();
    expect(r.servers[0]).toMatchObject({ serverId: '10.9.0.3', from: '10.9.0.3', kind: 'dhcp', offered: '10.9.0.201' });
    expect(r.servers[0]!.malformed).toMatch(/runs past the end/);
    const l = await appliance('rogue-malformed', 'full').started();
    expect(l).toMatchObject({ type: 'error', code: 'CC_ERR_FOREIGN_DHCP' });
    expect(String(l.message)).toMatch(/10\.9\.0\.3 offered 10\.9\.0\.201, malformed reply/);
  });

  it('a server claiming our own server id is not mistaken for us', async () => {
    await rogue('spoof');
    const l = await appliance('rogue-spoof', 'full').started();
    expect(l).toMatchObject({ type: 'error', code: 'CC_ERR_FOREIGN_DHCP' });
    expect(String(l.message)).toMatch(/10\.9\.0\.1 \(from 10\.9\.0\.3\) offered 10\.9\.0\.202/);
  });

  it('huge option lists and invented identities: refused, the event bounded and clean', async () => {
    await rogue('all');
    const r = await probe();
    expect(r.servers.length).toBe(MAX_FOREIGN_SERVERS);
    expect(r.overflow).toBeGreaterThan(100);
    // The malformed reply (named by its source) and the huge one (server id = its source) make one record.
    const huge = r.servers.find((s) => s.serverId === '10.9.0.3');
    expect(huge?.bootFile?.length).toBeLessThanOrEqual(128);
    expect(huge?.bootFile).not.toMatch(/[^\x20-\x7e]/);
    const a = appliance('rogue-all', 'full');
    const l = await a.started();
    expect(l).toMatchObject({ type: 'error', code: 'CC_ERR_FOREIGN_DHCP' });
    const ev = a.events('dhcp.foreign_server')[0]!;
    expect('servers' in ev.data && ev.data.servers.length).toBeLessThanOrEqual(MAX_FOREIGN_SERVERS);
    expect(JSON.stringify(ev).length).toBeLessThan(40_000);
    expect(JSON.stringify(ev)).not.toMatch(/\\u001b|\\u0007/);
  });
});
