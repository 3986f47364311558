/**
 * BMC power control on real (virtual) hardware, Redfish: sushy-tools runs in the e2e lab's namespace with its
 * external notifier pointed at a chassis (test/e2e/harness/redfish-chassis.ts) that starts a QEMU guest on
 * power-on and kills it on power-off. The machine is first switched on at its BMC (as an operator at the BMC's
 * own page would: Crashcart cannot know a machine before it has seen it), PXE-boots the microkernel from a real
 * `crashcart serve` (full DHCP) and registers. The operator then sets its BMC through the API, powers it off
 * through Crashcart, and on again with boot device PXE once: the guest PXE-boots and registers a second time.
 * The BMC password is not in the appliance's log, its events or anywhere in its data dir.
 * Run under `flock /tmp/cc-qemu.lock`; one guest on TCG.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import type { PowerResult } from '../../contract/bmc.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, qemuArgs, SerialLog, type GuestSpec } from './harness/qemu.ts';
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
import { startSushy, type SushyPeer } from '../bmc/peers/sushy.ts';
import { makeCert } from '../bmc/peers/tls-cert.ts';
import { pollUntil } from '../support/wait-for.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
const LOG_DIR = path.join(REPO, 'test-output', 'e2e-bmc');
const lab = new Lab('e2e', 'bmc');
const NS = lab.ns('net');
const SUBNET = '10.66.0';
const HTTP_PORT = 8026;
const SUSHY_PORT = 8443;
const CHASSIS_PORT = 8099;
const RF_USER = 'e2e-admin';
const RF_PASSWORD = 'E2e-Redfish-Pw-5520';
const RF_UUID = '0badc0de-0000-4000-8000-0000000000e1';
/** Budget for one PXE boot of the microkernel on TCG up to registration (~60-90 s measured; CI is slower). */
const BOOT_TIMEOUT_MS = 6 * 60_000;

const GUEST: GuestSpec = {
  name: 'e2e-redfish',
  firmware: 'bios',
  memoryMb: 1024,
  cpus: 1,
  serial: 'CC-E2E-REDFISH-01',
  uuid: RF_UUID,
  nics: [{ mac: '52:54:00:cc:0f:01', tap: '' }],
};

let net: BridgedNet | null = null;
let app: Appliance | null = null;
let sushy: SushyPeer | null = null;
let chassis: ChildProcess | null = null;
let serial: SerialLog | null = null;
let dir = '';
let dataDir = '';
let nodeId = 0;
let firstRegistration = '';

const log = (s: string) => console.log(`[e2e-bmc ${new Date().toISOString().slice(11, 19)}] ${s}`);
const chassisFile = () => path.join(dir, 'chassis.jsonl');
const chassisLog = (): Record<string, unknown>[] =>
  existsSync(chassisFile())
    ? readFileSync(chassisFile(), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

/** What went on, for a timeout: the guest console, the chassis record and the appliance log. */
const diagnostics = (): string =>
  [
    `--- ${GUEST.name} serial (last 25 lines) ---\n${serial?.tail(25) ?? ''}`,
    `--- chassis ---\n${chassisLog()
      .slice(-10)
      .map((x) => JSON.stringify(x))
      .join('\n')}`,
    app ? `--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}` : '',
  ].join('\n');

/** Poll until `fn` returns a value; progress every 15 s; on timeout the diagnostics. */
const waitFor = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, timeoutMs, fn, { why: diagnostics, log });

/** The guest, registered after `after` (an ISO time), or undefined. */
async function registeredAfter(after: string): Promise<Node | undefined> {
  const n = (await listNodes(app!)).find((x) => x.serial === GUEST.serial);
  return n?.registered_at && n.registered_at > after ? n : undefined;
}

/** Redfish straight at the BMC, from inside the lab (the operator at the BMC's own interface). */
function redfishAtBmc(method: string, p: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['netns', 'exec', NS, 'curl', '-sk', '--fail-with-body', '-u', `${RF_USER}:${RF_PASSWORD}`, '-X', method];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const c = spawn('ip', [...args, `https://127.0.0.1:${SUSHY_PORT}${p}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl ${method} ${p}: ${code} ${out}`))));
  });
}

const guestRunning = (): boolean => {
  const l = chassisLog().filter((x) => x['chassis'] === 'guest-started' || x['chassis'] === 'guest-exited');
  return l.at(-1)?.['chassis'] === 'guest-started';
};

beforeAll(async () => {
  checkQemu();
  requireMicrokernel(MK_DIR);
  dir = mkdtempSync(path.join(os.tmpdir(), `cc-e2e-bmc-${process.pid}-`));
  dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  mkdirSync(LOG_DIR, { recursive: true });
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  GUEST.nics[0]!.tap = lab.addTap(net);
  const serialFile = path.join(LOG_DIR, `${GUEST.name}.serial.log`);
  serial = new SerialLog(serialFile);
  writeFileSync(path.join(dir, 'qemu-args.json'), JSON.stringify(qemuArgs(GUEST, serialFile, path.join(dir, 'vars.fd'))));
  chassis = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      process.execPath,
      path.join(REPO, 'bin/run-ts.mjs'),
      path.join(REPO, 'test/e2e/harness/redfish-chassis.ts'),
      String(CHASSIS_PORT),
      RF_UUID,
      path.join(dir, 'qemu-args.json'),
      chassisFile(),
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitFor('the chassis to listen', 60_000, async () => (chassisLog().some((x) => x['chassis'] === 'listening') ? true : undefined));
  [sushy, app] = await Promise.all([
    startSushy({
      dir,
      port: SUSHY_PORT,
      cert: makeCert(dir, 'e2e-bmc'),
      username: RF_USER,
      password: RF_PASSWORD,
      systems: [
        {
          uuid: RF_UUID,
          name: GUEST.name,
          power_state: 'Off',
          external_notifier: true,
          nics: [{ mac: GUEST.nics[0]!.mac, ip: `${SUBNET}.120` }],
        },
      ],
      notifierUrl: `http://127.0.0.1:${CHASSIS_PORT}`,
      netns: NS,
    }),
    startAppliance({
      repo: REPO,
      ...onBridge(net),
      dataDir,
      httpPort: HTTP_PORT,
      microkernelDir: MK_DIR,
      logFile: path.join(LOG_DIR, 'appliance.log'),
    }),
  ]);
  // A Redfish BMC is the subject here: in-band (IPMI) enrolment stays off; a short soft-off wait (the guest's
  // microkernel powers off on ACPI, or is forced after it).
  await app.api('PATCH', '/api/v1/settings', { bmc_enrol_inband: 'off', soft_off_timeout_s: 20, power_poll_interval_s: 0 });
  log(`appliance (pid ${app.pid}), sushy and the chassis up in ${NS}`);
}, 240_000);

afterAll(async () => {
  if (chassis?.pid !== undefined && chassis.exitCode === null) {
    chassis.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    if (chassis.exitCode === null) chassis.kill('SIGKILL');
  }
  serial?.stop();
  await sushy?.stop();
  if (app && !app.exited) writeFileSync(path.join(LOG_DIR, 'events.json'), JSON.stringify(await allEvents(app).catch(() => []), null, 1));
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

describe('Redfish power control of a QEMU machine (sushy-tools, full DHCP lab)', () => {
  it(
    'switched on at its BMC, the machine PXE-boots the microkernel and registers',
    async () => {
      await redfishAtBmc('POST', `/redfish/v1/Systems/${RF_UUID}/Actions/ComputerSystem.Reset`, { ResetType: 'On' });
      const n = await waitFor('the first registration', BOOT_TIMEOUT_MS, () => registeredAfter(''));
      nodeId = n.id;
      firstRegistration = n.registered_at!;
      log(`registered as node ${n.id}`);
    },
    BOOT_TIMEOUT_MS + 30_000,
  );

  it('the operator sets its BMC and powers it off through Crashcart', async () => {
    const a = app!;
    const put = await a.api<Node>('PUT', `/api/v1/nodes/${nodeId}/bmc`, {
      driver: 'redfish',
      address: '127.0.0.1',
      port: SUSHY_PORT,
      username: RF_USER,
      password: RF_PASSWORD,
      system_path: `/redfish/v1/Systems/${RF_UUID}`,
    });
    expect(put.bmc).toMatchObject({ driver: 'redfish', password_set: true });
    const off = await a.api<PowerResult>('POST', '/api/v1/nodes/power', { node_ids: [nodeId], action: 'off' });
    expect(off.results[0]).toMatchObject({ node_id: nodeId, ok: true, power: 'off' });
    await waitFor('the guest to stop', 60_000, async () => (guestRunning() ? undefined : true));
    expect((await a.api<Node>('GET', `/api/v1/nodes/${nodeId}`)).power?.state).toBe('off');
  }, 180_000);

  it(
    'powered on with PXE once through Crashcart, it PXE-boots and registers again',
    async () => {
      const a = app!;
      const on = await a.api<PowerResult>('POST', '/api/v1/nodes/power', { node_ids: [nodeId], action: 'on', boot: 'pxe' });
      expect(on.results[0]).toMatchObject({ node_id: nodeId, ok: true });
      // The BMC got the one-time override before the power-on, in the boot mode the node booted with.
      const notes = chassisLog().map(
        (x) => x['notification'] as { boot_device?: string; boot_mode?: string; power_state?: string } | undefined,
      );
      expect(notes.some((x) => x?.boot_device === 'Pxe')).toBe(true);
      expect(notes.some((x) => x?.boot_device === 'Pxe' && x.boot_mode === 'Legacy')).toBe(true);
      const again = await waitFor('the second registration', BOOT_TIMEOUT_MS, () => registeredAfter(firstRegistration));
      expect(again.id).toBe(nodeId);
      const events = await allEvents(a);
      expect(
        events.filter((e) => e.node_id === nodeId && e.type === 'bmc.action').map((e) => (e.data as { action: string }).action),
      ).toEqual(['off', 'on']);
      expect(events.some((e) => e.node_id === nodeId && e.type === 'bmc.tls_pinned')).toBe(true);
    },
    BOOT_TIMEOUT_MS + 60_000,
  );

  it('the BMC password is nowhere in clear: log, events, data dir', async () => {
    expect(readFileSync(app!.spec.logFile, 'utf8')).not.toContain(RF_PASSWORD);
    expect(JSON.stringify(await allEvents(app!))).not.toContain(RF_PASSWORD);
    const hits: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && readFileSync(p).includes(RF_PASSWORD)) hits.push(p);
      }
    };
    walk(dataDir);
    expect(hits).toEqual([]);
    // Positive control: the sealed password is in the node record.
    expect(readFileSync(path.join(dataDir, 'db', 'nodes.db'), 'utf8')).toContain('"password_enc":"ccs1:');
  });
});
