/**
 * The Redfish driver against a real Redfish service: sushy-tools' emulator (fake driver) over HTTPS with
 * basic auth. Its external notifier reaches this test, which starts and kills a QEMU guest for system
 * node-1 as its power changes, so "power on" really starts a machine. Run under `flock /tmp/cc-qemu.lock`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createDriver } from '../../server/bmc/drivers.ts';
import { runBulkPower } from '../../server/bmc/bulk-power.ts';
import { detectRedfish } from '../../server/bmc/redfish/detect.ts';
import type { BmcDriver, BmcTarget, BmcTimings } from '../../server/bmc/driver.ts';
import type { PowerState } from '../../contract/index.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { EventInput, EventSink } from '../../server/events/event-log.ts';
import { startNotifier, startSushy, type FakeSystem, type Notification, type SushyPeer } from './peers/sushy.ts';
import { makeCert, type TestCert } from './peers/tls-cert.ts';
import { freeTcpPort, waitFor } from './peers/net.ts';
import { guestArgs, guestFiles, runningGuest, type GuestFiles } from './peers/qemu-guest.ts';
import { requireProgram } from './peers/tools.ts';
import { startSessionFront } from './peers/session-front.ts';
import { makeEvent } from '../support/events.ts';

const TIMINGS: BmcTimings = { requestTimeoutMs: 10_000, softOffTimeoutMs: 30_000, transitionTimeoutMs: 30_000, pollMs: 500, retries: 1 };
const USER = 'root';
const PASSWORD = 'Redfish-Pw-7731';
const SYSTEMS: FakeSystem[] = [
  {
    uuid: '0badc0de-0000-4000-8000-000000000001',
    name: 'node-1',
    power_state: 'Off',
    external_notifier: true,
    nics: [{ mac: '52:54:00:66:00:01', ip: '10.66.0.101' }],
  },
  {
    uuid: '0badc0de-0000-4000-8000-000000000002',
    name: 'node-2',
    power_state: 'Off',
    external_notifier: false,
    nics: [{ mac: '52:54:00:66:00:02', ip: '10.66.0.102' }],
  },
];
const PATH1 = `/redfish/v1/Systems/${SYSTEMS[0]!.uuid}`;
const PATH2 = `/redfish/v1/Systems/${SYSTEMS[1]!.uuid}`;

let dir: string;
let cert: TestCert;
let sushy: SushyPeer;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let guest: GuestFiles;
const qemus: ChildProcess[] = [];

/** The notifier acts on node-1's power like a chassis: On starts QEMU, Off kills it, a restart does both. */
function chassis(n: Notification): void {
  if (n.uuid !== SYSTEMS[0]!.uuid) return;
  const want = n.pending_power?.power_state ?? n.power_state;
  const running = runningGuest(guest);
  const start = () => qemus.push(spawn(requireProgram('qemu-system-x86_64', 'qemu-system-x86'), guestArgs(guest), { stdio: 'ignore' }));
  if (want === 'On' && !running) start();
  else if (want === 'Off' && running) process.kill(running, 'SIGKILL');
  else if (/Restart/.test(want)) {
    if (running) process.kill(running, 'SIGKILL');
    // The pid file names the old process until the new QEMU writes its own.
    fs.rmSync(guest.pidFile, { force: true });
    start();
  }
}

const target = (over: Partial<BmcTarget> = {}): BmcTarget => ({
  driver: 'redfish',
  address: '127.0.0.1',
  port: sushy.port,
  username: USER,
  password: PASSWORD,
  system_path: PATH1,
  tls: 'skip',
  tls_fingerprint: null,
  ipmi_cipher_suite: null,
  ...over,
});
const driver = (over: Partial<BmcTarget> = {}, deps: Parameters<typeof createDriver>[1] = {}) =>
  createDriver(target(over), { timings: TIMINGS, ...deps });

async function failure(p: Promise<unknown>): Promise<CcError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CcError);
    return e as CcError;
  }
  throw new Error('expected the BMC call to fail');
}

/** sushy applies power changes 1-11 s after the request (its fake hardware is "not immediate"). */
const settle = (d: BmcDriver, want: PowerState) =>
  waitFor(`power ${want}`, async () => ((await d.power('status')).power === want ? true : undefined), 60, 500);

function recorder(): EventSink & { seen: { type: string; e: EventInput }[] } {
  const seen: { type: string; e: EventInput }[] = [];
  return {
    seen,
    emit: (type, e) => (seen.push({ type, e }), makeEvent(type, seen.length, e)),
  };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-redfish-`));
  guest = guestFiles(dir, 'redfish-guest');
  cert = makeCert(dir, 'bmc-a');
  notifier = await startNotifier(chassis);
  sushy = await startSushy({
    dir,
    cert,
    username: USER,
    password: PASSWORD,
    systems: SYSTEMS,
    notifierUrl: notifier.url,
  });
}, 60_000);

afterAll(async () => {
  await sushy?.stop();
  await notifier?.close();
  const pid = guest ? runningGuest(guest) : null;
  if (pid) process.kill(pid, 'SIGKILL');
  for (const q of qemus) if (q.exitCode === null) q.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redfish driver against sushy-tools', () => {
  it('detects Redfish without credentials and reports the certificate to pin', async () => {
    const found = await detectRedfish('127.0.0.1', { port: sushy.port, timeoutMs: 5000 });
    expect(found).toEqual({
      redfish: true,
      version: '1.5.0',
      uuid: expect.any(String),
      vendor: null,
      product: null,
      tls_fingerprint: cert.fingerprint,
    });
    const none = await detectRedfish('127.0.0.1', { port: await freeTcpPort(), timeoutMs: 5000 });
    expect(none).toMatchObject({ redfish: false, reason: expect.stringMatching(/^CC_ERR_BMC_UNREACHABLE/) });
  });

  it('probe pins the certificate on first use and reads the system', async () => {
    const pinned: string[] = [];
    const p = await driver({ tls: 'pin' }, { onPinned: (fp) => pinned.push(fp) }).probe();
    expect(pinned).toEqual([cert.fingerprint]);
    expect(p).toMatchObject({ power: 'off', info: { redfish_version: '1.5.0', system_path: PATH1, uuid: SYSTEMS[0]!.uuid } });
  });

  it('with two systems and no system path, says which paths exist', async () => {
    const e = await failure(driver({ system_path: null }).power('status'));
    expect(e.code).toBe('CC_ERR_BMC_SYSTEM_PATH');
    expect(e.message).toContain(PATH1);
    expect(e.message).toContain(PATH2);
  });

  it('bad credentials: CC_ERR_BMC_AUTH quoting the BMC', async () => {
    const e = await failure(driver({ password: 'wrong' }).power('on'));
    expect(e.code).toBe('CC_ERR_BMC_AUTH');
    expect(e.message).toContain('Incorrect username or password');
    expect(e.message).not.toContain('wrong');
    expect(await runningGuest(guest)).toBeNull();
  });

  it('bulk power on, PXE once in UEFI mode: both systems on, node-1 QEMU started, the BMC keeps the override continuous', async () => {
    const ev = recorder();
    const results = await runBulkPower(
      [PATH1, PATH2].map((p, i) => ({ node_id: i + 1, open: () => driver({ system_path: p }) })),
      { action: 'on', boot: { device: 'pxe', persistent: false, mode: 'uefi' }, concurrency: 2, staggerMs: 500, events: ev },
    );
    for (const r of results) {
      expect(r.ok).toBe(true);
      // sushy ignores BootSourceOverrideEnabled and always reports Continuous: the driver reads back and says so.
      expect(r.warnings).toEqual(['asked for BootSourceOverrideEnabled Once, the BMC reports Continuous']);
    }
    expect(ev.seen.filter((s) => s.type === 'bmc.action')).toHaveLength(2);
    await waitFor('node-1 QEMU', () => runningGuest(guest) ?? undefined);
    expect(notifier.seen.some((n) => n.uuid === SYSTEMS[0]!.uuid && n.boot_device === 'Pxe' && n.boot_mode === 'UEFI')).toBe(true);
    await settle(driver(), 'on');
    await settle(driver({ system_path: PATH2 }), 'on');
  }, 90_000);

  it('boot override: disk persistent legacy reads back clean; BIOS setup is not offered, so refused', async () => {
    expect(await driver().setBootDevice({ device: 'disk', persistent: true, mode: 'legacy' })).toEqual({ warnings: [] });
    expect(notifier.seen.at(-1)).toMatchObject({ uuid: SYSTEMS[0]!.uuid, boot_device: 'Hdd', boot_mode: 'Legacy' });
    const e = await failure(driver().setBootDevice({ device: 'bios', persistent: false, mode: 'legacy' }));
    expect(e.code).toBe('CC_ERR_BMC_REFUSED');
    expect(e.message).toContain('boot target BiosSetup is not offered (offered: Pxe, Cd, Hdd)');
    expect(await driver().setBootDevice({ device: 'pxe', persistent: true, mode: 'uefi' })).toEqual({ warnings: [] });
    expect(notifier.seen.at(-1)).toMatchObject({ boot_device: 'Pxe', boot_mode: 'UEFI' });
  }, 30_000);

  it('reset (ForceRestart) and cycle (ForceOff + On: no PowerCycle offered) restart the guest and come back on', async () => {
    for (const action of ['reset', 'cycle'] as const) {
      const before = runningGuest(guest);
      expect(before).not.toBeNull();
      expect(await driver().power(action)).toEqual({ power: 'on', warnings: [] });
      await waitFor(`a new guest after ${action}`, () => {
        const p = runningGuest(guest);
        return p !== null && p !== before ? p : undefined;
      });
    }
  }, 120_000);

  it('off: GracefulShutdown, then Off within the soft timeout; the guest is stopped', async () => {
    expect(await driver().power('off')).toEqual({ power: 'off', warnings: [] });
    await waitFor('the guest to stop', () => (runningGuest(guest) === null ? true : undefined));
    expect(await driver().power('off')).toEqual({ power: 'off', warnings: [] });
    expect((await driver({ system_path: PATH2 }).power('soft-off')).warnings).toEqual([]);
    await settle(driver({ system_path: PATH2 }), 'off');
  }, 90_000);

  it('a reset of a machine that is off powers it on, and says so', async () => {
    const out = await driver({ system_path: PATH2 }).power('reset');
    expect(out.warnings).toEqual(['the machine was off: powered on instead of reset']);
    await settle(driver({ system_path: PATH2 }), 'on');
  }, 60_000);

  it('session authentication: token on every request, never the password, session deleted at close', async () => {
    const front = await startSessionFront({ upstreamPort: sushy.port, cert, username: USER, password: PASSWORD });
    try {
      const d = driver({ port: front.port, system_path: PATH2 }, { redfishAuth: 'auto' });
      expect((await d.power('status')).power).toBe('on');
      await d.setBootDevice({ device: 'disk', persistent: false, mode: 'uefi' });
      await d.close();
      const authed = front.seen.filter(
        (r) => !(r.method === 'GET' && r.path === '/redfish/v1/') && !(r.method === 'POST' && r.path.endsWith('/Sessions')),
      );
      expect(front.seen.filter((r) => r.method === 'POST' && r.path.endsWith('/Sessions'))).toHaveLength(1);
      expect(authed.length).toBeGreaterThanOrEqual(4);
      expect(authed.every((r) => r.auth === 'token')).toBe(true);
      expect(front.deleted).toHaveLength(1);
      expect(front.live()).toBe(0);
      const bad = await failure(driver({ port: front.port, password: 'nope' }, { redfishAuth: 'session' }).power('status'));
      expect(bad.code).toBe('CC_ERR_BMC_AUTH');
    } finally {
      await front.close();
    }
  }, 30_000);
});
