/**
 * The IPMI driver against a real BMC: OpenIPMI's ipmi_sim with a QEMU guest as its chassis. Power on starts
 * the guest's QEMU process, off stops it, reset and the ACPI power button reach the guest (QMP events),
 * cycle replaces the process. Run under `flock /tmp/cc-qemu.lock`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDriver } from '../../server/bmc/drivers.ts';
import { runBulkPower } from '../../server/bmc/bulk-power.ts';
import type { BmcTarget, BmcTimings } from '../../server/bmc/driver.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { EventInput, EventSink } from '../../server/events/event-log.ts';
import { SIM_FIRMWARE, startIpmiSim, type IpmiSimPeer } from './peers/ipmi-sim.ts';
import { QmpEvents, runningGuest } from './peers/qemu-guest.ts';
import { freeUdpPort, waitFor } from './peers/net.ts';
import { makeEvent } from '../support/events.ts';

const TIMINGS: BmcTimings = { requestTimeoutMs: 20_000, softOffTimeoutMs: 4_000, transitionTimeoutMs: 20_000, pollMs: 500, retries: 1 };

let sim: IpmiSimPeer;
let target: BmcTarget;
const driver = (over: Partial<BmcTarget> = {}, timings: Partial<BmcTimings> = {}, env?: NodeJS.ProcessEnv) =>
  createDriver({ ...target, ...over }, { timings: { ...TIMINGS, ...timings }, ...(env ? { ipmitool: { env } } : {}) });

async function failure(p: Promise<unknown>): Promise<CcError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CcError);
    return e as CcError;
  }
  throw new Error('expected the BMC call to fail');
}

/** Our own ipmitool children (ppid = this worker), with their command line and environment. */
function ipmitoolChildren(): { pid: number; cmdline: string; environ: string }[] {
  const out: { pid: number; cmdline: string; environ: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!stat.includes('(ipmitool)') || Number(after[1]) !== process.pid) continue;
      out.push({
        pid: Number(d),
        cmdline: fs.readFileSync(`/proc/${d}/cmdline`, 'latin1'),
        environ: fs.readFileSync(`/proc/${d}/environ`, 'latin1'),
      });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function recorder(): EventSink & { seen: { type: string; e: EventInput }[] } {
  const seen: { type: string; e: EventInput }[] = [];
  return {
    seen,
    emit: (type, e) => (seen.push({ type, e }), makeEvent(type, seen.length, e)),
  };
}

beforeAll(async () => {
  sim = await startIpmiSim();
  target = {
    driver: 'ipmi',
    address: '127.0.0.1',
    port: sim.lanPort,
    username: sim.admin.username,
    password: sim.admin.password,
    system_path: null,
    tls: 'pin',
    tls_fingerprint: null,
    ipmi_cipher_suite: null,
  };
  // ipmi_sim answers once its LAN socket is bound.
  await waitFor(
    'ipmi_sim to answer',
    () =>
      driver({}, { retries: 0, requestTimeoutMs: 10_000 })
        .power('status')
        .then(
          (o) => o.power,
          () => undefined,
        ),
    50,
    200,
  );
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

describe('IPMI driver against ipmi_sim + QEMU', () => {
  it('probe: reachable, credentials accepted, firmware and power state read', async () => {
    const p = await driver().probe();
    expect(p.power).toBe('off');
    expect(p.info).toMatchObject({ firmware: SIM_FIRMWARE, ipmi_version: '2.0', manufacturer_id: String(0x1291) });
    expect(runningGuest(sim.guest)).toBeNull();
  });

  it('bulk power on with PXE: the refused boot device is a warning, the guest starts', async () => {
    const ev = recorder();
    const [r] = await runBulkPower([{ node_id: 1, open: () => driver() }], {
      action: 'on',
      boot: { device: 'pxe', persistent: false, mode: 'uefi' },
      concurrency: 4,
      staggerMs: 1000,
      events: ev,
    });
    expect(r).toMatchObject({ node_id: 1, ok: true, power: 'on' });
    expect(r!.warnings).toHaveLength(1);
    expect(r!.warnings![0]).toMatch(/^boot device pxe not set: .*Set Chassis Boot Parameter \d failed: Invalid data field in request/);
    expect(ev.seen.map((s) => s.type)).toEqual(['bmc.warning', 'bmc.action']);
    await waitFor('the guest QEMU to run', () => runningGuest(sim.guest) ?? undefined);
    expect((await driver().power('status')).power).toBe('on');
  }, 60_000);

  it('reset reaches the running guest; soft-off presses its ACPI power button (SeaBIOS ignores it)', async () => {
    const pid = runningGuest(sim.guest);
    await waitFor('the QMP socket', () => (fs.existsSync(sim.guest.qmpSocket) ? true : undefined));
    const qmp = await QmpEvents.connect(sim.guest.qmpSocket);
    try {
      expect(await driver().power('reset')).toEqual({ power: 'on', warnings: [] });
      await waitFor('a RESET event', () => (qmp.events.includes('RESET') ? true : undefined));
      expect(runningGuest(sim.guest)).toBe(pid);
      expect((await driver().power('soft-off')).power).toBe('on');
      await waitFor('a POWERDOWN event', () => (qmp.events.includes('POWERDOWN') ? true : undefined));
      expect(runningGuest(sim.guest)).toBe(pid);
    } finally {
      qmp.close();
    }
  }, 60_000);

  it('cycle replaces the guest process', async () => {
    const before = runningGuest(sim.guest);
    expect(before).not.toBeNull();
    // The driver waits for the machine to report on again (ipmi_sim powers off, then runs startcmd).
    expect(await driver().power('cycle')).toEqual({ power: 'on', warnings: [] });
    const after = await waitFor('a new guest process', () => {
      const p = runningGuest(sim.guest);
      return p !== null && p !== before ? p : undefined;
    });
    expect(after).not.toBe(before);
  }, 60_000);

  it('off: the ACPI button first, forced off when the OS does not go within the timeout', async () => {
    await waitFor('the QMP socket', () => (fs.existsSync(sim.guest.qmpSocket) ? true : undefined));
    const qmp = await QmpEvents.connect(sim.guest.qmpSocket);
    let out;
    try {
      out = await driver().power('off');
      expect(qmp.events).toContain('POWERDOWN');
    } finally {
      qmp.close();
    }
    expect(out.power).toBe('off');
    expect(out.warnings).toEqual(['the OS did not shut down within 4 s: forced off']);
    await waitFor('the guest to stop', () => (runningGuest(sim.guest) === null ? true : undefined));
    expect(await driver().power('off')).toEqual({ power: 'off', warnings: [] });
  }, 60_000);

  it('cycle on a machine that is off powers it on, and says so', async () => {
    expect(await driver().power('cycle')).toEqual({ power: 'on', warnings: ['the machine was off: powered on instead of cycled'] });
    await waitFor('the guest QEMU to run', () => runningGuest(sim.guest) ?? undefined);
    expect((await driver({}, { softOffTimeoutMs: 500 }).power('off')).power).toBe('off');
    await waitFor('the guest to stop', () => (runningGuest(sim.guest) === null ? true : undefined));
  }, 60_000);

  it('bad user or password: CC_ERR_BMC_AUTH with the fix, nothing powered', async () => {
    const wrongPassword = await failure(driver({ password: 'not-the-password' }).power('on'));
    expect(wrongPassword.code).toBe('CC_ERR_BMC_AUTH');
    expect(wrongPassword.message).toContain('RAKP 2 HMAC is invalid');
    expect(wrongPassword.fix).toMatch(/user and password/);
    expect((await failure(driver({ username: 'nobody' }).probe())).code).toBe('CC_ERR_BMC_AUTH');
    expect(runningGuest(sim.guest)).toBeNull();
    // Messages and events never carry the password that was tried.
    const ev = recorder();
    await runBulkPower([{ node_id: 2, open: () => driver({ password: 'Tried-Pw-123' }) }], {
      action: 'on',
      concurrency: 1,
      staggerMs: 0,
      events: ev,
    });
    expect(JSON.stringify(ev.seen)).not.toContain('Tried-Pw-123');
    expect(ev.seen.map((s) => s.type)).toEqual(['bmc.error']);
  }, 60_000);

  it('no BMC on the port: unreachable, and the password is on no command line while ipmitool runs', async () => {
    const dead = await freeUdpPort();
    const secret = 'Never-On-Argv-42';
    // The child gets PATH, LC_ALL and the password only, not the appliance's environment.
    process.env['CC_BMC_TEST_MARKER'] = 'appliance-env';
    const pending = failure(driver({ port: dead, password: secret }, { retries: 0 }).power('status'));
    const seen = await waitFor(
      'ipmitool to run',
      () => {
        const c = ipmitoolChildren();
        return c.length ? c : undefined;
      },
      200,
      20,
    );
    for (const c of seen) {
      expect(c.cmdline.split('\0')).toContain('-E');
      expect(c.cmdline).not.toContain(secret);
      expect(c.environ.split('\0')).toContain(`IPMI_PASSWORD=${secret}`);
      expect(c.environ).not.toContain('CC_BMC_TEST_MARKER');
    }
    const e = await pending;
    expect(e.code).toBe('CC_ERR_BMC_UNREACHABLE');
    expect(e.message).toContain(`127.0.0.1:${dead}`);
    expect(e.message).not.toContain(secret);
  }, 60_000);

  it('a run past the request timeout is killed: CC_ERR_BMC_TIMEOUT, no ipmitool left behind', async () => {
    const e = await failure(driver({ port: await freeUdpPort() }, { retries: 0, requestTimeoutMs: 800 }).power('status'));
    expect(e.code).toBe('CC_ERR_BMC_TIMEOUT');
    await waitFor('ipmitool to be gone', () => (ipmitoolChildren().length === 0 ? true : undefined));
  }, 30_000);

  it('ipmitool missing: the error names the Debian package', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-nopath-`));
    try {
      const e = await failure(driver({}, {}, { PATH: empty }).power('status'));
      expect(e.code).toBe('CC_ERR_IPMITOOL_MISSING');
      expect(e.fix).toContain('apt-get install ipmitool');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
