/**
 * Proxy mode in the QEMU lab (issue 17): the site's own DHCP server (dnsmasq, on another host of the same
 * switch: its own namespace, cabled to the bridge) hands out the addresses; `crashcart serve --dhcp proxy`
 * only adds the boot information. A BIOS and a UEFI guest PXE-boot the microkernel and register at once.
 * Power-on -> registered is printed per phase next to full mode's (test-output/e2e-timings-proxy.md),
 * never asserted on. What is asserted: the guests got their addresses from the site server, and the only
 * router advertisements on the wire are the unicast ones to the guests the appliance booted (no RA is
 * sent to all nodes of a site network).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, startGuest, stopGuest, type Guest, type GuestSpec } from './harness/qemu.ts';
import {
  allEvents,
  listNodes,
  readTail,
  startAppliance,
  stopAppliance,
  type Appliance,
  onBridge,
  requireMicrokernel,
} from '../support/appliance-e2e.ts';
import { bootPhases, phasesMarkdown, registeredAfterS, type Phase } from './harness/timings.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
const OUT_DIR = path.join(REPO, 'test-output');
const lab = new Lab('e2e', 'proxy');
const NS = lab.ns('net');
const SITE = lab.ns('site');
const SUBNET = '10.67.0';
const HTTP_PORT = 8026;
const REGISTER_TIMEOUT_MS = 6 * 60_000;

const GUESTS: GuestSpec[] = [
  {
    name: 'proxy-bios',
    firmware: 'bios',
    memoryMb: 1024,
    cpus: 1,
    serial: 'CC-PROXY-BIOS-0001',
    uuid: '6b2f0c1e-3a4d-4f5e-8a6b-7c8d9e0f1a01',
    nics: [{ mac: '52:54:00:cd:0b:01', tap: '' }],
  },
  {
    name: 'proxy-uefi',
    firmware: 'uefi',
    memoryMb: 1280,
    cpus: 1,
    serial: 'CC-PROXY-UEFI-0002',
    uuid: '6b2f0c1e-3a4d-4f5e-8a6b-7c8d9e0f1a02',
    nics: [{ mac: '52:54:00:cd:0e:01', tap: '' }],
  },
];

let net: BridgedNet | null = null;
let app: Appliance | null = null;
let dataDir = '';
let logDir = '';
const guests: Guest[] = [];
const children: ChildProcess[] = [];
let ras = '';
const log = (s: string) => console.log(`[e2e-proxy ${new Date().toISOString().slice(11, 19)}] ${s}`);
const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] });

function diagnostics(): string {
  const parts = guests.map((g) => `--- ${g.spec.name} serial (last 25 lines) ---\n${g.serial.tail(25)}`);
  if (app) parts.push(`--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}`);
  parts.push(`--- site dnsmasq log ---\n${readTail(path.join(logDir, 'site-dnsmasq.log'), 20)}`);
  return parts.join('\n');
}

beforeAll(async () => {
  checkQemu();
  requireMicrokernel(MK_DIR);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-e2ep-data-'));
  logDir = path.join(OUT_DIR, 'e2e-proxy');
  mkdirSync(logDir, { recursive: true });
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  for (const g of GUESTS) for (const n of g.nics) n.tap = lab.addTap(net);
  // The site's DHCP server: another host on the same switch (its own namespace, a cable into the bridge).
  lab.addNs('site');
  ip('-n', NS, 'link', 'add', 'site1', 'type', 'veth', 'peer', 'name', 'site0', 'netns', SITE);
  ip('-n', NS, 'link', 'set', 'site1', 'master', net.bridge, 'up');
  ip('-n', SITE, 'addr', 'add', `${SUBNET}.2/24`, 'dev', 'site0');
  ip('-n', SITE, 'link', 'set', 'site0', 'up');
  ip('-n', SITE, 'link', 'set', 'lo', 'up');
  const dnsmasq = spawn(
    'ip',
    ['netns', 'exec', SITE, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--interface=site0',
      '--bind-interfaces', `--dhcp-range=${SUBNET}.100,${SUBNET}.150,255.255.255.0,1h`, `--dhcp-leasefile=${path.join(dataDir, 'site.leases')}`,
      '--pid-file=', '--user=root', '--log-dhcp', `--log-facility=${path.join(logDir, 'site-dnsmasq.log')}`], // prettier-ignore
    { stdio: 'ignore' },
  );
  children.push(dnsmasq);
  app = await startAppliance({
    repo: REPO,
    ...onBridge(net, 'proxy'),
    dataDir,
    httpPort: HTTP_PORT,
    microkernelDir: MK_DIR,
    logFile: path.join(logDir, 'appliance.log'),
  });
  // Every router advertisement on the switch, with its destination.
  const cap = spawn('ip', ['netns', 'exec', NS, 'tcpdump', '-l', '-n', '-i', net.bridge, 'icmp6 and ip6[40] == 134'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(cap);
  cap.stdout?.on('data', (d: Buffer) => (ras += d.toString()));
  log(`site dnsmasq in ${SITE}, appliance (proxy) in ${NS}; starting ${GUESTS.length} guests on TCG`);
  for (const spec of GUESTS)
    guests.push(startGuest(NS, spec, path.join(logDir, `${spec.name}.serial.log`), path.join(dataDir, `${spec.name}.vars.fd`)));
}, 180_000);

afterAll(async () => {
  for (const g of guests) await stopGuest(g);
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  if (app && !app.exited) writeFileSync(path.join(logDir, 'events.json'), JSON.stringify(await allEvents(app).catch(() => []), null, 1));
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (lab.leftovers().length)
    throw new Error(`namespaces ${lab.leftovers().join(', ')} are still there after cleanup\n  fix: ip netns del NAME`);
}, 60_000);

describe('proxy mode beside a site DHCP server (QEMU, TCG)', () => {
  it(
    'a BIOS and a UEFI guest register with addresses from the site server; RAs only unicast to them',
    async () => {
      const a = app!;
      const registered = new Map<string, Node>();
      const deadline = Date.now() + REGISTER_TIMEOUT_MS;
      let lastReport = Date.now();
      while (registered.size < guests.length) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for the guests to register\n${diagnostics()}`);
        for (const g of guests) if (g.exited) throw new Error(`${g.spec.name}: QEMU exited\n${diagnostics()}`);
        for (const n of await listNodes(a)) {
          const g = guests.find((x) => x.spec.serial.toLowerCase() === (n.serial ?? '').toLowerCase());
          if (g && n.state === 'registered' && !registered.has(g.spec.name)) {
            registered.set(g.spec.name, n);
            const polledS = (Date.now() - g.poweredOnAt) / 1000;
            const atS = registeredAfterS(g, n.id, await allEvents(a)) ?? polledS;
            log(
              `${g.spec.name} registered as node ${n.id} after ${atS.toFixed(1)} s (its node.registered event; the poll saw it at ${polledS.toFixed(1)} s)`,
            );
          }
        }
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          log(`waiting: ${registered.size}/${guests.length} registered`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      const events = await allEvents(a);
      const tables: { label: string; phases: Phase[] }[] = guests.map((g) => ({
        label: `${g.spec.firmware.toUpperCase()} proxy (${g.spec.name}, -m ${g.spec.memoryMb} -smp ${g.spec.cpus})`,
        phases: bootPhases(g, registered.get(g.spec.name)!.id, events),
      }));
      const md = [
        '# Crashcart e2e boot timings, proxy mode (QEMU TCG)',
        '',
        `Measured ${new Date().toISOString()} on ${os.cpus().length} CPU(s), both guests booting at once; the site's`,
        'DHCP server is dnsmasq on another host of the same switch. Seconds after power-on.',
        '',
        phasesMarkdown(tables),
        '',
      ].join('\n');
      mkdirSync(OUT_DIR, { recursive: true });
      writeFileSync(path.join(OUT_DIR, 'e2e-timings-proxy.md'), md);
      console.log(md);

      const leases = readFileSync(path.join(dataDir, 'site.leases'), 'utf8');
      for (const g of guests) {
        const n = registered.get(g.spec.name)!;
        // The address came from the site's pool, and the site server leased it to this guest's MAC.
        expect(n.ip).toMatch(new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.(1[0-4]\\d|150)$`));
        expect(leases).toContain(`${g.spec.nics[0]!.mac} ${n.ip}`);
        expect(n.uuid?.toLowerCase()).toBe(g.spec.uuid);
      }
      // The appliance leased nothing itself.
      expect(events.filter((e) => e.type === 'dhcp.ack' && !(e.data as { proxy?: boolean }).proxy)).toEqual([]);
      const raLines = ras.split('\n').filter((l) => l.includes('router advertisement'));
      expect(raLines.filter((l) => /> ff02::1:/.test(l))).toEqual([]);
      // iPXE solicits a router once proxyDHCP has answered its MAC (allowed), and that is answered: at least one RA
      // was on the wire, so the check of each below has something to check.
      expect(raLines.length, `no router advertisement captured; tcpdump saw:\n${ras}`).toBeGreaterThanOrEqual(1);
      for (const l of raLines) expect(l).toMatch(/> fe80::[0-9a-f:]+: ICMP6, router advertisement/);
      log(`${raLines.length} unicast RA(s) to the booting guests, none to all nodes`);
    },
    REGISTER_TIMEOUT_MS + 60_000,
  );
});
