/**
 * The whole product on real (virtual) hardware: QEMU machines PXE-boot from a real `crashcart serve`,
 * run the real microkernel and agent, register, get bound, reboot into Debian's real netboot installer,
 * and fetch their preseed. Everything happens in a namespace this test creates (bridge + taps); guests
 * run on TCG. Issue 6, steps 1-3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import type { CcEvent } from '../../contract/events.ts';
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
import { debianInstaller } from './harness/debian-installer.ts';
import { bootPhases, phasesMarkdown, registeredAfterS, type Phase } from './harness/timings.ts';
import { pollUntil } from '../support/wait-for.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
const OUT_DIR = path.join(REPO, 'test-output');
const lab = new Lab('e2e', 'boot');
const NS = lab.ns('net');
const SUBNET = '10.66.0';
const HTTP_PORT = 8026;
/** Budget for both guests to PXE-boot and register on TCG (measured ~30-60 s each; CI is slower). */
const REGISTER_TIMEOUT_MS = 6 * 60_000;
/** Budget for the bound guest to reboot into the installer and fetch its preseed. */
const INSTALL_TIMEOUT_MS = 8 * 60_000;

/** The BIOS guest's SATA disk (sparse). */
const SATA_SERIAL = 'CC-E2E-SATA-0001';
/** Its WWN (ATA IDENTIFY words 108-111), which the facts spell as lsblk with udev does. */
const SATA_WWN = '0x5000c500e2e5a7a1';
const SATA_BYTES = 256 * 1024 * 1024;

const GUESTS: GuestSpec[] = [
  {
    name: 'e2e-bios',
    firmware: 'bios',
    memoryMb: 1024,
    cpus: 2,
    serial: 'CC-E2E-BIOS-0001',
    uuid: '8a1c3d7e-0b5f-4c11-9a44-5e2f7b6c0d01',
    nics: [
      { mac: '52:54:00:cc:0b:01', tap: '' },
      { mac: '52:54:00:cc:0b:02', tap: '' },
    ],
  },
  {
    name: 'e2e-uefi',
    firmware: 'uefi',
    memoryMb: 1280,
    cpus: 1,
    serial: 'CC-E2E-UEFI-0002',
    uuid: '3f9e2a10-6d4b-4e8a-b7c2-91d0e4a5f302',
    nics: [
      { mac: '52:54:00:cc:0e:01', tap: '' },
      { mac: '52:54:00:cc:0e:02', tap: '' },
    ],
  },
];

let net: BridgedNet | null = null;
let app: Appliance | null = null;
let dataDir = '';
let logDir = '';
const guests: Guest[] = [];
const children: ChildProcess[] = [];
const registered = new Map<string, Node>();
const timingTables: { label: string; phases: Phase[] }[] = [];
const installNotes: string[] = [];
/** Text dump of the guests' HTTP requests (tcpdump -A). */
let requests = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Poll `fn` until it returns a value, with progress every 15 s; on timeout throw `why()`. */
const waitFor = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, why: () => string): Promise<T> =>
  pollUntil(what, timeoutMs, fn, { why, log });

/** Diagnostics for a timeout: each guest's console tail and the appliance log tail. */
function diagnostics(): string {
  const parts = guests.map((g) => `--- ${g.spec.name} serial (last 25 lines) ---\n${g.serial.tail(25)}`);
  if (app) parts.push(`--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}`);
  return parts.join('\n');
}

const norm = (s: string | null | undefined) => (s ?? '').toLowerCase();

beforeAll(async () => {
  checkQemu();
  requireMicrokernel(MK_DIR);
  const di = debianInstaller();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-e2e-data-'));
  logDir = path.join(OUT_DIR, 'e2e');
  mkdirSync(logDir, { recursive: true });

  // The installer image goes in before the appliance starts (the store has one writer at a time).
  execFileSync(
    process.execPath,
    [
      path.join(REPO, 'bin/crashcart.mjs'),
      'image',
      'import',
      '--data-dir',
      dataDir,
      '--name',
      'debian12',
      '--kernel',
      di.kernel,
      '--initrd',
      di.initrd,
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  log(`imported debian-installer-12-netboot-amd64 ${di.version} as image debian12`);

  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  for (const g of GUESTS) for (const n of g.nics) n.tap = lab.addTap(net);
  app = await startAppliance({
    repo: REPO,
    ...onBridge(net),
    dataDir,
    httpPort: HTTP_PORT,
    microkernelDir: MK_DIR,
    logFile: path.join(logDir, 'appliance.log'),
  });
  // Every request the guests send to the node plane (payload-carrying packets only), as text: which URL
  // each firmware/iPXE/agent/installer asked for, for the preseed check and for CI debugging.
  const tcpdump = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      'tcpdump',
      '-i',
      net.bridge,
      '-l',
      '-n',
      '-A',
      '-s',
      '1500',
      `tcp dst port ${HTTP_PORT} and src net ${SUBNET}.0/24 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  children.push(tcpdump);
  tcpdump.stdout?.on('data', (d: Buffer) => (requests += d.toString('latin1')));
  // TFTP (and any other non-DHCP UDP) as a pcap next to the logs, for when a firmware download stalls.
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
        path.join(logDir, 'udp.pcap'),
        'udp and not port 67 and not port 68',
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
  log(`appliance up in ${NS} (pid ${app.pid}); starting ${GUESTS.length} guests on TCG`);
  for (const spec of GUESTS) {
    // The BIOS guest has a blank SATA disk on the board's AHCI controller, whose driver the microkernel loads in
    // the background beside DHCP (rootfs/load-drivers): the complete facts must still name it.
    const sataDisks =
      spec.firmware === 'bios' ? [{ file: path.join(dataDir, `${spec.name}-sata.img`), serial: SATA_SERIAL, wwn: SATA_WWN }] : [];
    for (const d of sataDisks) {
      writeFileSync(d.file, '');
      truncateSync(d.file, SATA_BYTES);
    }
    guests.push(
      startGuest(NS, { ...spec, sataDisks }, path.join(logDir, `${spec.name}.serial.log`), path.join(dataDir, `${spec.name}.vars.fd`)),
    );
  }
}, 180_000);

afterAll(async () => {
  for (const g of guests) await stopGuest(g);
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  if (logDir) writeFileSync(path.join(logDir, 'requests.txt'), requests);
  if (app && !app.exited) {
    // The event log is the boot timeline of every guest: keep it next to the serial logs for CI debugging.
    const events = await allEvents(app).catch((e: Error) => [{ error: e.message }]);
    writeFileSync(path.join(logDir, 'events.json'), JSON.stringify(events, null, 1));
  }
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

describe('PXE boot -> microkernel -> register -> bind -> installer (QEMU, TCG)', () => {
  it(
    'a BIOS and a UEFI guest PXE-boot the microkernel and register with their real hardware facts',
    async () => {
      const a = app!;
      // Both guests boot at once; wait for each in parallel. Timings are kept for every guest that made it,
      // even when another did not (the failure is still reported below).
      const settled = await Promise.allSettled(
        guests.map(async (g) => {
          const node = await waitFor(
            `${g.spec.name} to register`,
            REGISTER_TIMEOUT_MS,
            async () => {
              if (g.exited) throw new Error(`${g.spec.name}: QEMU exited\n${diagnostics()}`);
              const nodes = await listNodes(a);
              return nodes.find((n) => n.state === 'registered' && norm(n.serial) === norm(g.spec.serial));
            },
            diagnostics,
          );
          registered.set(g.spec.name, node);
          const polledS = (Date.now() - g.poweredOnAt) / 1000;
          const atS = registeredAfterS(g, node.id, await allEvents(a)) ?? polledS;
          log(
            `${g.spec.name} registered as node ${node.id} after ${atS.toFixed(1)} s (its node.registered event; the 1 s poll saw it at ${polledS.toFixed(1)} s; facts ${node.facts_complete ? 'complete' : 'partial'})`,
          );
          // Register-first: the node shows with the facts /sys gives at once; the full inventory follows.
          await waitFor(
            `${g.spec.name}'s complete facts`,
            REGISTER_TIMEOUT_MS,
            async () => (await listNodes(a)).find((n) => n.id === node.id && n.facts_complete),
            diagnostics,
          );
        }),
      );
      const bootEvents = await allEvents(a);
      for (const g of guests) {
        const n = registered.get(g.spec.name);
        if (n)
          timingTables.push({
            label: `${g.spec.firmware.toUpperCase()} (${g.spec.name}, -m ${g.spec.memoryMb} -smp ${g.spec.cpus})`,
            phases: bootPhases(g, n.id, bootEvents),
          });
      }
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;

      const nodes = await listNodes(a);
      const regEvents = await allEvents(a);
      for (const g of guests) {
        // The first register (the /sys facts, no program run) already named every NIC of the machine; the
        // complete facts came after it.
        const id = registered.get(g.spec.name)!.id;
        const firstReg = regEvents.findIndex((e) => e.type === 'node.registered' && e.node_id === id);
        expect(firstReg).toBeGreaterThanOrEqual(0);
        const regMacs = (regEvents[firstReg]!.data as { macs: string[] }).macs.map(norm).sort();
        expect(regMacs).toEqual(g.spec.nics.map((x) => norm(x.mac)).sort());
        const complete = regEvents.findIndex(
          (e) => e.node_id === id && e.type === 'node.facts_changed' && (e.data as { facts_complete?: boolean }).facts_complete === true,
        );
        expect(complete).toBeGreaterThan(firstReg);
        const mine = nodes.filter((n) => norm(n.serial) === norm(g.spec.serial));
        // One record per machine: the DHCP/iPXE-time record was merged into the registered node.
        expect(mine.map((n) => n.state)).toEqual(['registered']);
        const n = mine[0]!;
        expect(norm(n.uuid)).toBe(norm(g.spec.uuid));
        expect(n.macs.map(norm).sort()).toEqual(expect.arrayContaining(g.spec.nics.map((x) => norm(x.mac)).sort()));
        expect(norm(n.boot_mac)).toBe(norm(g.spec.nics[0]!.mac));
        expect(n.summary.memory_mb).toBe(g.spec.memoryMb);
        expect(n.summary.cpu_count).toBe(g.spec.cpus);
        expect(n.summary.nic_count).toBe(g.spec.nics.length);
        expect(n.boot_mode).toBe(g.spec.firmware);
        expect(n.ip?.startsWith(`${SUBNET}.`)).toBe(true);

        const { facts, inventory } = await a.api<{
          facts: Record<string, unknown>;
          inventory: { firmware: { boot_mode: string }; system: { serial?: string; uuid?: string }; nics: { mac: string }[] } | null;
        }>('GET', `/api/v1/nodes/${n.id}/facts`);
        expect(inventory).not.toBeNull();
        expect(inventory!.firmware.boot_mode).toBe(g.spec.firmware);
        expect(norm(inventory!.system.serial)).toBe(norm(g.spec.serial));
        expect(inventory!.nics.map((x) => norm(x.mac)).sort()).toEqual(g.spec.nics.map((x) => norm(x.mac)).sort());
        expect(Object.keys(facts).length).toBeGreaterThan(10);
        // Disks behind the drivers loaded in the background are in the complete facts: init logged the settle,
        // and the agent waited for it before its full inventory. The serial comes from SCSI VPD page 0x80 in /sys,
        // the WWN from the kernel's wwid (lsblk asks udev for both, and the microkernel runs none); the SCSI address
        // (a root device hint, `hctl`) lsblk reads from /sys.
        const disks = (inventory as unknown as { disks: { serial?: string; transport: string; size_bytes: number }[] }).disks;
        for (const d of g.spec.sataDisks ?? [])
          expect(disks, JSON.stringify(disks)).toContainEqual(
            expect.objectContaining({
              serial: d.serial,
              wwn: d.wwn,
              hctl: expect.stringMatching(/^\d+:0:0:0$/),
              type: 'disk',
              transport: 'sata',
              size_bytes: SATA_BYTES,
              model: 'QEMU HARDDISK',
            }),
          );
        expect(g.serial.find(/crashcart-init: drivers settled: \d+ modules/), g.serial.tail(40)).toBeDefined();

        // The microkernel really ran: the serial console shows our init and the agent supervisor.
        expect(g.serial.find(/crashcart-init: lease: .*serverid=10\.66\.0\.1 /)).toBeDefined();
        expect(g.serial.find(/crashcart-supervisor: starting agent/)).toBeDefined();
      }

      // UEFI guest: OVMF's own PXE client fetched the first-stage loader over TFTP for real.
      const events = await allEvents(a);
      const uefiNode = registered.get('e2e-uefi')!;
      const tftp = events.filter((e) => e.type === 'tftp.finish' && (e.node_id === uefiNode.id || /\.efi/.test(e.message)));
      expect(tftp.length).toBeGreaterThan(0);
    },
    REGISTER_TIMEOUT_MS + 60_000,
  );

  it(
    'binding a node reboots it into the Debian installer, which fetches the preseed rendered for it',
    async () => {
      const a = app!;
      const guest = guests.find((g) => g.spec.firmware === 'bios')!;
      const node = registered.get(guest.spec.name);
      expect(node, 'step 1 must have registered the BIOS guest').toBeDefined();
      const id = node!.id;

      const capture = path.join(logDir, 'requests.txt');
      // Tag-less, so it binds only by hand (docs/identity.md 3), and disabled besides: the operator's explicit
      // bind binds just this node. No key or password: nobody logs in to this guest (confirmed, docs/policies.md).
      await a.api('POST', '/api/v1/policies', {
        name: 'e2e-debian',
        task: 'debian',
        image: 'debian12',
        tags: [],
        enabled: false,
        confirm_unreachable: true,
      });
      const bindAt = Date.now();
      const bind = await a.api<{ results: { node_id: number; ok: boolean; reason?: string }[] }>('POST', '/api/v1/nodes/bind', {
        node_ids: [id],
        policy: 'e2e-debian',
      });
      expect(bind.results).toEqual([expect.objectContaining({ node_id: id, ok: true })]);
      log(`bound node ${id} to e2e-debian; waiting for the agent to reboot it into the installer`);

      const installing = await waitFor(
        `node ${id} to reach installing`,
        INSTALL_TIMEOUT_MS,
        async () => (await listNodes(a)).find((n) => n.id === id && (n.state === 'installing' || n.state === 'installed')),
        diagnostics,
      );
      expect(installing.state).toBe('installing');
      expect(installing.policy).toBe('e2e-debian');

      const events = (await allEvents(a)).filter((e) => e.node_id === id);
      const t = (e: CcEvent | undefined) => (e ? ((Date.parse(e.ts) - bindAt) / 1000).toFixed(1) : 'n/a');
      const rebootSent = events.find((e) => e.type === 'node.reboot_sent');
      const served = events.find((e) => e.type === 'http.transfer' && (e.data as { file?: string }).file === 'preseed.cfg');
      const stage = events.find((e) => e.type === 'node.stage' && (e.data as { stage?: string }).stage === 'installing');
      expect(rebootSent).toBeDefined();
      expect(served).toBeDefined();
      expect(stage).toBeDefined();
      // The guest really went down and came back through the firmware: SeaBIOS printed its banner twice.
      expect(guest.serial.lines.filter((l) => /SeaBIOS \(version/.test(l.text)).length).toBeGreaterThanOrEqual(2);

      // The installer's own request for the preseed, as seen on the wire.
      await sleep(500);
      writeFileSync(capture, requests);
      const m = new RegExp(`GET (/api/v1/nodes/${id}/files/[^/\\s]+/preseed\\.cfg)`).exec(requests);
      expect(m, `no preseed request from the guest in ${capture}`).not.toBeNull();
      // The same URL from any other address is refused: in full DHCP the install token works only from the
      // node's own lease (docs/identity.md 2), and this request comes from the appliance's address.
      const replay = await a.nodePlane(m![1]!);
      expect(replay.status).toBe(403);
      expect(replay.body).toContain('not leased or reserved');
      // What the installer got (the event has its size), rendered for this node: the preview renders the same
      // templates (with a placeholder token).
      expect((served!.data as { bytes: number }).bytes).toBeGreaterThan(1000);
      const preview = await a.api<{ files: Record<string, string> }>('POST', '/api/v1/tasks/debian/preview', {
        node_id: id,
        policy: 'e2e-debian',
      });
      const got = { body: preview.files['preseed.cfg'] ?? '' };
      expect(got.body).toContain(`node ${id}`);
      expect(got.body).toContain('policy e2e-debian');
      expect(got.body).toContain(`/api/v1/nodes/${id}/stage`);
      const other = registered.get('e2e-uefi');
      if (other) {
        expect(got.body).not.toContain(`node ${other.id},`);
        // The node nobody bound is still just registered.
        expect((await listNodes(a)).find((n) => n.id === other.id)?.state).toBe('registered');
      }

      const kernelReq = events.find((e) => e.type === 'http.transfer' && /\/images\//.test(String((e.data as { url?: string }).url)));
      installNotes.push(
        `| bind -> agent told to reboot | ${t(rebootSent)} s |`,
        `| bind -> installer kernel requested | ${t(kernelReq)} s |`,
        `| bind -> preseed fetched (node installing) | ${t(served)} s |`,
      );
    },
    INSTALL_TIMEOUT_MS + 60_000,
  );

  it('records per-phase timings (test-output/e2e-timings.md)', () => {
    const mk = JSON.parse(readFileSync(path.join(MK_DIR, 'manifest.json'), 'utf8')) as { total_bytes?: number };
    const md = [
      '# Crashcart e2e boot timings (QEMU TCG)',
      '',
      `Measured ${new Date().toISOString()} on ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), both guests booting at once.`,
      `Microkernel: ${mk.total_bytes ? (mk.total_bytes / 1048576).toFixed(1) : '?'} MiB kernel+initrd. Times are seconds after QEMU start (power-on).`,
      '',
      phasesMarkdown(timingTables),
      '',
      '## Bind -> installer (BIOS guest)',
      '',
      '| step | after bind |',
      '|---|---|',
      ...installNotes,
      '',
    ].join('\n');
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(path.join(OUT_DIR, 'e2e-timings.md'), md);
    console.log(md);
    expect(timingTables.map((c) => c.label.split(' ')[0])).toEqual(['BIOS', 'UEFI']);
    const headline = timingTables.map((c) => c.phases.find((p) => p.name.startsWith('power-on'))!);
    for (const h of headline) expect(h.endS).not.toBeNull();
  });
});
