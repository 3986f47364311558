/**
 * UEFI chains beyond plain PXE through the real appliance (issue 16), two guests at once:
 * - Secure Boot x64: OVMF with Microsoft's keys enrolled and Secure Boot enforced PXE-boots from `crashcart
 *   serve` with the default `boot_chain: auto`. First power-on: the appliance offers iPXE, the firmware
 *   downloads it and refuses it (unsigned), which is what makes this test able to fail. Second power-on: the
 *   appliance has learned the refusal and offers the signed chain, shim -> GRUB -> the Debian-signed
 *   microkernel kernel, which registers and reports `secure_boot=true`.
 * - UEFI HTTP boot x64: OVMF with its PXE switched off through fw_cfg (`opt/org.tianocore/IPv4PXESupport`,
 *   OvmfPkg/RUNTIME_CONFIG.md) has only its "UEFI HTTPv4" entry left; it gets iPXE by URL and registers
 *   without one TFTP packet: a capture on the link counts UDP/69 from its MAC and must find none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, startGuest, stopGuest, type Guest, type GuestSpec } from './harness/qemu.ts';
import { allEvents, listNodes, readTail, startAppliance, stopAppliance, type Appliance } from './harness/appliance.ts';
import { bootPhases, phasesMarkdown } from './harness/timings.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
const LOG_DIR = path.join(REPO, 'test-output', 'e2e-secure-boot');
const lab = new Lab('e2e', 'sb');
const NS = lab.ns('net');
const SUBNET = '10.67.0';
/** The firmware's words when Secure Boot stops an unsigned loader (OVMF's boot manager on the console). */
const REFUSED = /failed to (load|start) Boot\d+ "UEFI PXEv4[^\n]*: (Access Denied|Security Violation)/;
/** Firmware, shim, GRUB fetching ~60 MiB over TFTP, kernel and agent on TCG (a few minutes here; CI is slower). */
const REGISTER_TIMEOUT_MS = 10 * 60_000;
const REFUSE_TIMEOUT_MS = 4 * 60_000;

const SPEC: GuestSpec = {
  name: 'e2e-uefi-sb',
  firmware: 'uefi',
  secureBoot: true,
  memoryMb: 1280,
  cpus: 1,
  serial: 'CC-E2E-SB-0003',
  uuid: '5b0c7d21-3e8f-4a6b-9c1d-2f4e6a8b0c03',
  nics: [{ mac: '52:54:00:cc:5b:01', tap: '' }],
};

let net: BridgedNet | null = null;
let app: Appliance | null = null;
let dataDir = '';
let guest: Guest | null = null;
let httpGuest: Guest | null = null;
const children: ChildProcess[] = [];
/** tcpdump's lines for TFTP requests (UDP/69) from the HTTP boot guest. */
let httpGuestTftp = '';

const HTTP_SPEC: GuestSpec = {
  name: 'e2e-uefi-http',
  firmware: 'uefi',
  // No PXE and no IPv6 (HTTPv6 would be tried first otherwise): the firmware's HTTPv4 boot entry is all that is left.
  extraArgs: [
    '-fw_cfg',
    'name=opt/org.tianocore/IPv4PXESupport,string=no',
    '-fw_cfg',
    'name=opt/org.tianocore/IPv6PXESupport,string=no',
    '-fw_cfg',
    'name=opt/org.tianocore/IPv6Support,string=no',
  ],
  memoryMb: 1280,
  cpus: 1,
  serial: 'CC-E2E-HTTP-0004',
  uuid: '9d2e4f60-7a1b-4c3d-8e5f-0a1b2c3d4e04',
  nics: [{ mac: '52:54:00:cc:68:01', tap: '' }],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(`[e2e-sb ${new Date().toISOString().slice(11, 19)}] ${s}`);

function diagnostics(): string {
  const parts = [
    `--- ${SPEC.name} serial (last 30 lines) ---\n${guest?.serial.tail(30) ?? ''}`,
    `--- ${HTTP_SPEC.name} serial (last 30 lines) ---\n${httpGuest?.serial.tail(30) ?? ''}`,
  ];
  if (app) parts.push(`--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}`);
  return parts.join('\n');
}

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const start = Date.now();
  for (;;) {
    for (const g of [guest, httpGuest])
      if (g?.exited) throw new Error(`${g.spec.name}: QEMU exited while waiting for ${what}\n${diagnostics()}`);
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${diagnostics()}`);
    await sleep(1000);
  }
}

beforeAll(async () => {
  checkQemu();
  if (!existsSync(path.join(MK_DIR, 'vmlinuz')) || !existsSync(path.join(MK_DIR, 'initrd.img'))) {
    throw new Error(`no microkernel in ${MK_DIR}\n  fix: npm run build:microkernel (needs the agent bundle: node build/agent-bundle.mjs)`);
  }
  for (const f of ['shimx64.efi', 'grubx64.efi', 'ipxe.efi']) {
    if (!existsSync(path.join(REPO, 'resources/ipxe', f)))
      throw new Error(`resources/ipxe/${f} is missing\n  fix: bash scripts/ensure-test-deps.sh`);
  }
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-e2esb-data-'));
  mkdirSync(LOG_DIR, { recursive: true });
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  for (const n of [...SPEC.nics, ...HTTP_SPEC.nics]) n.tap = lab.addTap(net);
  app = await startAppliance({
    repo: REPO,
    ns: NS,
    iface: net.bridge,
    address: net.address,
    prefix: net.prefix,
    range: [`${SUBNET}.100`, `${SUBNET}.150`],
    dataDir,
    adminPort: 18028,
    httpPort: 8026,
    microkernelDir: MK_DIR,
    logFile: path.join(LOG_DIR, 'appliance.log'),
  });
  // Every non-DHCP UDP packet as a pcap next to the logs (TFTP of shim, GRUB, its configuration and the microkernel).
  children.push(
    spawn(
      'ip',
      [
        'netns',
        'exec',
        NS,
        'tcpdump',
        '-U',
        '-i',
        net.bridge,
        '-n',
        '-s',
        '200',
        '-w',
        path.join(LOG_DIR, 'udp.pcap'),
        'udp and not port 67 and not port 68',
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
  const tftpWatch = spawn(
    'ip',
    ['netns', 'exec', NS, 'tcpdump', '-l', '-n', '-e', '-i', net.bridge, `udp port 69 and ether src ${HTTP_SPEC.nics[0]!.mac}`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  children.push(tftpWatch);
  tftpWatch.stdout?.on('data', (d: Buffer) => (httpGuestTftp += d.toString('latin1')));
}, 180_000);

afterAll(async () => {
  if (guest) await stopGuest(guest);
  if (httpGuest) await stopGuest(httpGuest);
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  if (app && !app.exited) {
    const events = await allEvents(app).catch((e: Error) => [{ error: e.message }]);
    writeFileSync(path.join(LOG_DIR, 'events.json'), JSON.stringify(events, null, 1));
  }
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

const timings: string[] = [];

describe('Secure Boot x64 and UEFI HTTP boot (QEMU, TCG)', () => {
  it(
    'the Secure Boot firmware refuses iPXE; after a power cycle the signed chain registers it with secure_boot=true',
    async () => {
      const a = app!;
      const mac = SPEC.nics[0]!.mac;
      // The HTTP boot guest runs alongside (second test); it has no part in this one's assertions.
      httpGuest = startGuest(NS, HTTP_SPEC, path.join(LOG_DIR, 'http.serial.log'), path.join(dataDir, 'vars-http.fd'));
      // Power-on 1: the appliance does not know the machine; auto starts with iPXE, which Secure Boot refuses.
      guest = startGuest(NS, SPEC, path.join(LOG_DIR, 'boot1.serial.log'), path.join(dataDir, 'vars1.fd'));
      const refusedPowerOn = guest.poweredOnAt;
      const refused = await waitFor('the firmware to refuse ipxe.efi', REFUSE_TIMEOUT_MS, async () => guest!.serial.find(REFUSED));
      log(`power-on 1: firmware refused iPXE after ${((refused.at - guest.poweredOnAt) / 1000).toFixed(1)} s: ${refused.text.trim()}`);
      let events = await allEvents(a);
      const served = events.filter((e) => e.type === 'tftp.finish' && /ipxe\.efi/.test(String(e.data.file ?? e.message)));
      expect(served.length).toBeGreaterThan(0);
      expect(guest.serial.find(/iPXE/)).toBeUndefined(); // it never ran
      await stopGuest(guest);

      // Power-on 2: same machine (a fresh copy of the same variable store), same MAC.
      guest = startGuest(NS, SPEC, path.join(LOG_DIR, 'boot2.serial.log'), path.join(dataDir, 'vars2.fd'));
      const node = await waitFor<Node>('the node to register', REGISTER_TIMEOUT_MS, async () =>
        (await listNodes(a)).find((n) => n.state === 'registered' && n.serial?.toLowerCase() === SPEC.serial.toLowerCase()),
      );
      const secs = (Date.parse(node.registered_at ?? '') - guest.poweredOnAt) / 1000; // the registration, not when this poll saw it
      log(`power-on 2: registered as node ${node.id} after ${secs.toFixed(1)} s`);

      events = await allEvents(a);
      const switched = events.find((e) => e.type === 'node.chain' && e.node_id === node.id);
      expect(switched?.data.reason).toBe('ipxe-refused');
      expect(node.last_chain).toBe('shim-grub');
      expect(node.boot_chain_effective).toMatch(/auto .*-> shim/);
      const fetched = events
        .filter((e) => e.type === 'tftp.finish' && e.node_id === node.id)
        .map((e) => String(e.data.file ?? ''))
        .map((f) => f.slice(f.lastIndexOf('/') + 1));
      expect(fetched).toEqual(expect.arrayContaining(['shimx64.efi', 'grubx64.efi', 'grub.cfg', 'vmlinuz', 'initrd.img']));
      const { facts, inventory } = await a.api<{
        facts: Record<string, unknown>;
        inventory: { firmware: { secure_boot?: boolean } } | null;
      }>('GET', `/api/v1/nodes/${node.id}/facts`);
      const stale =
        'no secure_boot fact: the agent inside build/out/microkernel predates the secure_boot collector (agent/collect/sysfs.ts); rebuild it: node build/agent-bundle.mjs && npm run build:microkernel';
      expect(facts.secure_boot, stale).toBe(true);
      expect(inventory?.firmware.secure_boot).toBe(true);
      expect(node.boot_mac?.toLowerCase()).toBe(mac);
      // The microkernel ran under lockdown: the kernel says so on the console.
      expect(guest.serial.find(/crashcart-supervisor: starting agent/)).toBeDefined();

      timings.push(
        phasesMarkdown([
          {
            label: `UEFI Secure Boot, shim/GRUB, power-on 2 (${SPEC.name}, -m ${SPEC.memoryMb} -smp ${SPEC.cpus})`,
            phases: bootPhases(guest, node.id, events),
          },
        ]),
        `Power-on 1 -> firmware refuses iPXE: ${((refused.at - refusedPowerOn) / 1000).toFixed(1)} s; power-on 2 -> registered: ${secs.toFixed(1)} s.`,
      );
    },
    REFUSE_TIMEOUT_MS + REGISTER_TIMEOUT_MS + 60_000,
  );

  it(
    'the HTTP boot guest registers through iPXE fetched by URL, without a single TFTP packet',
    async () => {
      const a = app!;
      const g = httpGuest!;
      const node = await waitFor<Node>('the HTTP boot guest to register', REGISTER_TIMEOUT_MS, async () =>
        (await listNodes(a)).find((n) => n.state === 'registered' && n.serial?.toLowerCase() === HTTP_SPEC.serial.toLowerCase()),
      );
      const secs = (Date.parse(node.registered_at ?? '') - g.poweredOnAt) / 1000;
      log(`HTTP boot guest registered as node ${node.id} after ${secs.toFixed(1)} s (power-on)`);
      const events = await allEvents(a);
      const mine = events.filter((e) => e.node_id === node.id || e.mac?.toLowerCase() === HTTP_SPEC.nics[0]!.mac);
      const offer = mine.find(
        (e) => (e.type === 'dhcp.offer' || e.type === 'dhcp.ack') && /\/ipxe\/(ipxe|snponly)\.efi$/.test(String(e.data.file ?? '')),
      );
      expect(offer?.data.vendor_class).toMatch(/^HTTPClient/);
      expect(node.last_chain).toBe('http-boot');
      expect(mine.some((e) => e.type === 'http.transfer' && /^\/ipxe\/(ipxe|snponly)\.efi$/.test(String(e.data.url ?? '')))).toBe(true);
      expect(mine.filter((e) => e.type.startsWith('tftp.'))).toEqual([]);
      // The capture ran the whole time: not one TFTP request from this machine's MAC on the link.
      expect(httpGuestTftp).toBe('');
      timings.push(
        phasesMarkdown([
          {
            label: `UEFI HTTP boot (${HTTP_SPEC.name}, -m ${HTTP_SPEC.memoryMb} -smp ${HTTP_SPEC.cpus})`,
            phases: bootPhases(g, node.id, events),
          },
        ]),
        `Power-on -> registered: ${secs.toFixed(1)} s (booted alongside the Secure Boot guest).`,
      );
      mkdirSync(path.join(REPO, 'test-output'), { recursive: true });
      writeFileSync(path.join(REPO, 'test-output', 'e2e-uefi-chains-timings.md'), `${timings.join('\n\n')}\n`);
      console.log(timings.join('\n\n'));
    },
    REGISTER_TIMEOUT_MS + 60_000,
  );
});
