/**
 * BMC power control and in-band enrolment on real (virtual) hardware, IPMI: OpenIPMI's ipmi_sim is the BMC of
 * a QEMU guest (ipmi_sim's `startcmd` starts it; the guest has a KCS interface wired to the simulated BMC through
 * `ipmi-bmc-extern` + `isa-ipmi-kcs`). Crashcart has never seen the machine: the operator gives its BMC
 * (POST /api/v1/nodes/from-bmc), Crashcart reads the System GUID and the FRU serial and keeps an expected
 * record, and the FIRST power-on is Crashcart's (the boot device ipmi_sim refuses is a warning; the guest's own
 * order takes it to PXE). The guest PXE-boots the microkernel from a real `crashcart serve` (full DHCP) and
 * claims the record. The operator asked for in-band enrolment: the agent creates the `crashcart` user over KCS
 * (ipmi_si + ipmitool in the microkernel); its BMC reports 127.0.0.1, outside the rack subnet, so the operator
 * accepts; Crashcart then power-cycles the machine over lanplus with the ENROLLED credentials and the guest
 * registers again. No BMC password is in the appliance's log, its events or its data dir.
 * Run through /work/helpers/qemu-slot.sh (or `flock /tmp/cc-qemu.lock`); one guest on TCG.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import type { NodeFromBmcAnswer, PowerResult } from '../../contract/index.ts';
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
import { startIpmiSim, type IpmiSimPeer } from '../bmc/peers/ipmi-sim.ts';
import { pollUntil } from '../support/wait-for.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
const LOG_DIR = path.join(REPO, 'test-output', 'e2e-ipmi');
const lab = new Lab('e2e', 'ipmi');
const NS = lab.ns('net');
const SUBNET = '10.67.0';
const HTTP_PORT = 8028;
const UUID = '0badc0de-0000-4000-8000-0000000000e2';
/** Budget for one PXE boot of the microkernel on TCG up to registration (~60-90 s measured; CI is slower). */
const BOOT_TIMEOUT_MS = 6 * 60_000;

const GUEST: GuestSpec = {
  name: 'e2e-ipmi',
  firmware: 'bios',
  memoryMb: 1024,
  cpus: 1,
  serial: 'CC-E2E-IPMI-01',
  uuid: UUID,
  nics: [{ mac: '52:54:00:cc:0e:01', tap: '' }],
};

let net: BridgedNet | null = null;
let app: Appliance | null = null;
let sim: IpmiSimPeer | null = null;
let serial: SerialLog | null = null;
let dir = '';
let dataDir = '';
let nodeId = 0;
let firstRegistration = '';

const log = (s: string) => console.log(`[e2e-ipmi ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** What went on, for a timeout: the guest console, the BMC's log and the appliance log. */
const diagnostics = (): string =>
  [
    `--- ${GUEST.name} serial (last 25 lines) ---\n${serial?.tail(25) ?? ''}`,
    `--- ipmi_sim (last 10 lines) ---\n${(sim?.log() ?? '').split('\n').slice(-10).join('\n')}`,
    app ? `--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}` : '',
  ].join('\n');

/** Poll until `fn` returns a value; progress every 15 s; on timeout the diagnostics. */
const waitFor = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, timeoutMs, fn, { why: diagnostics, log, everyMs: 2000 });

/** The guest's record, registered after `after` (an ISO time), or undefined. */
async function registeredAfter(after: string): Promise<Node | undefined> {
  const n = (await listNodes(app!)).find((x) => x.serial === GUEST.serial);
  return n?.registered_at && n.registered_at > after ? n : undefined;
}

/** The QEMU processes of this guest (by its unique -name), from /proc: ipmi_sim starts them, not the test. */
function guestPids(): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('qemu-system-x86_64') && cmd.includes(GUEST.name) && cmd.some((x) => x.includes(UUID))) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * The password the agent gave the `crashcart` user, read from ipmi_sim's persisted user table (state dir,
 * `users.mc20`: `N.username:d:NAME\00...`, `N.passwd:d:PASSWORD\00...`), so the test can look for it.
 */
function enrolledPassword(): string {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name === 'users.mc20') files.push(path.join(d, e.name));
  };
  walk(path.join(sim!.dir, 'state'));
  const text = files.map((f) => readFileSync(f, 'latin1')).join('\n');
  const field = (k: string) => (s: string) => new RegExp(`^(\\d+)\\.${k}:d:(.*)$`).exec(s);
  const clean = (v: string) => v.replace(/(\\00)+$/, '');
  const slot = text
    .split('\n')
    .map(field('username'))
    .find((m) => m && clean(m[2]!) === 'crashcart')?.[1];
  const pw = text
    .split('\n')
    .map(field('passwd'))
    .find((m) => m && m[1] === slot)?.[2];
  if (!slot || !pw) throw new Error(`no crashcart user in ipmi_sim's state (${files.join(', ') || 'no users.mc20'})`);
  return clean(pw);
}

/** ipmitool straight at the BMC from inside the lab, as the operator at the BMC would (the check of the chassis). */
function ipmitoolAtBmc(user: string, password: string, ...cmd: string[]): string {
  return execFileSync(
    'ip',
    ['netns', 'exec', NS, 'ipmitool', '-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', '623', '-U', user, '-E', ...cmd],
    {
      env: { PATH: process.env.PATH, IPMI_PASSWORD: password },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

beforeAll(async () => {
  checkQemu();
  requireMicrokernel(MK_DIR);
  dir = mkdtempSync(path.join(os.tmpdir(), `cc-e2e-ipmi-${process.pid}-`));
  dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  mkdirSync(LOG_DIR, { recursive: true });
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  GUEST.nics[0]!.tap = lab.addTap(net);
  const serialFile = path.join(LOG_DIR, `${GUEST.name}.serial.log`);
  serial = new SerialLog(serialFile);
  [sim, app] = await Promise.all([
    startIpmiSim({
      netns: NS,
      guestArgs: qemuArgs(GUEST, serialFile, path.join(dir, 'vars.fd')),
      systemUuid: UUID,
      fruSerial: GUEST.serial,
      // What `lan print` reports in-band: the address the BMC answers at in this lab, outside the rack subnet.
      lanAddress: { ip: '127.0.0.1', netmask: '255.0.0.0', mac: '52:54:00:cc:0e:99' },
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
  // Automatic enrolment off: here the operator asks for it on this node. A short soft-off wait; no polling.
  await app.api('PATCH', '/api/v1/settings', { bmc_enrol_inband: 'off', soft_off_timeout_s: 20, power_poll_interval_s: 0 });
  log(`appliance (pid ${app.pid}) and ipmi_sim up in ${NS}`);
}, 240_000);

afterAll(async () => {
  serial?.stop();
  await sim?.stop();
  for (const pid of guestPids()) process.kill(pid, 'SIGKILL');
  if (app && !app.exited) writeFileSync(path.join(LOG_DIR, 'events.json'), JSON.stringify(await allEvents(app).catch(() => []), null, 1));
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

describe('IPMI: a machine never seen, powered on by Crashcart, enrolled in-band over KCS (ipmi_sim, full DHCP lab)', () => {
  it('the operator gives the BMC: Crashcart reads the GUID and FRU serial and keeps an expected record', async () => {
    const a = app!;
    const r = await a.api<NodeFromBmcAnswer>('POST', '/api/v1/nodes/from-bmc', {
      bmc: { driver: 'ipmi', address: '127.0.0.1', username: sim!.admin.username, password: sim!.admin.password },
      hostname: 'ipmi-e2e-01',
    });
    expect(r.identity).toMatchObject({ uuid: UUID, serial: GUEST.serial, macs: [] });
    expect(r.node).toMatchObject({ state: 'expected', uuid: UUID, serial: GUEST.serial, hostname: 'ipmi-e2e-01' });
    expect(r.node.bmc).toMatchObject({ driver: 'ipmi', address: '127.0.0.1', port: 623, password_set: true });
    nodeId = r.node.id;
    const asked = await a.api<Node>('POST', `/api/v1/nodes/${nodeId}/bmc/enrol`, {});
    expect(asked.bmc_enrolment?.state).toBe('requested');
    expect(guestPids()).toEqual([]);
  });

  it(
    'powered on with PXE once through Crashcart, it PXE-boots, claims the record and registers',
    async () => {
      const a = app!;
      const on = await a.api<PowerResult>('POST', '/api/v1/nodes/power', { node_ids: [nodeId], action: 'on', boot: 'pxe' });
      // ipmi_sim refuses boot devices: a warning on the node, not a failed power-on.
      expect(on.results[0]).toMatchObject({ node_id: nodeId, ok: true });
      expect((on.results[0]!.warnings ?? []).join(' ')).toMatch(/boot device/i);
      await waitFor('the guest to start', 60_000, async () => (guestPids().length ? true : undefined));
      const n = await waitFor('the first registration', BOOT_TIMEOUT_MS, () => registeredAfter(''));
      // The machine took the record made from its BMC: same id, the hostname the operator gave, no conflict.
      expect(n.id).toBe(nodeId);
      expect(n.hostname).toBe('ipmi-e2e-01');
      expect(n.conflicts).toEqual([]);
      expect(n.manifest?.claimed_at).toBeTruthy();
      firstRegistration = n.registered_at!;
      log(`registered as node ${n.id}`);
    },
    BOOT_TIMEOUT_MS + 90_000,
  );

  it(
    'the agent enrols the BMC over KCS; outside the rack subnet it waits; the operator accepts',
    async () => {
      const a = app!;
      const e = await waitFor('the in-band enrolment report', 5 * 60_000, async () => {
        const n = await a.api<Node>('GET', `/api/v1/nodes/${nodeId}`);
        const st = n.bmc_enrolment?.state;
        if (st === 'failed') throw new Error(`in-band enrolment failed: ${n.bmc_enrolment?.reason}\n${diagnostics()}`);
        return st === 'outside-subnets' ? n.bmc_enrolment! : undefined;
      });
      expect(e).toMatchObject({ address: '127.0.0.1', username: 'crashcart' });
      const accepted = await a.api<Node>('POST', `/api/v1/nodes/${nodeId}/bmc/accept`, {});
      expect(accepted.bmc).toMatchObject({ driver: 'ipmi', address: '127.0.0.1', port: 623, username: 'crashcart', password_set: true });
      // The BMC itself now lists the crashcart user the agent made over KCS (read with the admin account).
      expect(ipmitoolAtBmc(sim!.admin.username, sim!.admin.password, 'user', 'list', '1')).toMatch(/crashcart/);
    },
    6 * 60_000,
  );

  it(
    'power-cycled out of band with the enrolled credentials, it PXE-boots and registers again',
    async () => {
      const a = app!;
      const before = guestPids();
      expect(before.length).toBe(1);
      expect((await a.api<Node>('GET', `/api/v1/nodes/${nodeId}`)).bmc?.username).toBe('crashcart');
      const cycledAt = new Date().toISOString();
      const cycle = await a.api<PowerResult>('POST', '/api/v1/nodes/power', { node_ids: [nodeId], action: 'cycle', boot: 'pxe' });
      expect(cycle.results[0]).toMatchObject({ node_id: nodeId, ok: true, power: 'on' });
      // ipmi_sim replaced the guest process (power off, then on through startcmd).
      expect(guestPids().some((p) => !before.includes(p))).toBe(true);
      // The new guest asks what to boot (PXE) and registers after that: a reboot, not the agent's facts update.
      const boot = await waitFor('the guest to PXE-boot again', BOOT_TIMEOUT_MS, async () =>
        (await allEvents(a)).find((x) => x.type === 'node.boot' && x.node_id === nodeId && x.ts > cycledAt),
      );
      const again = await waitFor('the second registration', BOOT_TIMEOUT_MS, () => registeredAfter(boot.ts));
      expect(again.id).toBe(nodeId);
      expect(again.registered_at! > firstRegistration).toBe(true);
      const events = await allEvents(a);
      expect(
        events.some((x) => x.node_id === nodeId && x.type === 'bmc.action' && (x.data as { action?: string }).action === 'cycle'),
      ).toBe(true);
    },
    BOOT_TIMEOUT_MS + 120_000,
  );

  it('no BMC password is anywhere in clear: log, events, data dir', async () => {
    const enrolled = enrolledPassword();
    expect(enrolled.length).toBeGreaterThanOrEqual(8);
    const secrets = [sim!.admin.password, enrolled];
    const hits: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && secrets.some((s) => readFileSync(p).includes(s))) hits.push(p);
      }
    };
    walk(dataDir);
    expect(hits).toEqual([]);
    for (const s of secrets) {
      expect(readFileSync(app!.spec.logFile, 'utf8')).not.toContain(s);
      expect(JSON.stringify(await allEvents(app!))).not.toContain(s);
    }
    // Positive control: the sealed passwords are in the node record.
    expect(readFileSync(path.join(dataDir, 'db', 'nodes.db'), 'utf8')).toContain('"password_enc":"ccs1:');
  });
});
