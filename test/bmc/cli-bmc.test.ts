/**
 * `crashcart nodes bmc` and `crashcart nodes power`: the real CLI binary against a real `crashcart serve` and a
 * real BMC (ipmi_sim, guest left off: no QEMU runs). The password goes in on standard input, never argv.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { killAfter } from '../support/kill-timer.ts';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { startIpmiSim, type IpmiSimPeer } from './peers/ipmi-sim.ts';
import { lanTry } from './peers/ipmi-lan-runner.ts';
import { waitFor } from './peers/net.ts';

const CLI_UUID = '0badc0de-0000-4000-8000-0000000000c1';
let app: ProcessAppliance;
let sim: IpmiSimPeer;
let id = 0;

/** Run the CLI; resolves with exit code and output. */
function cli(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // Below the 60 s of the tests that run it two or three times: a hung run fails on its exit code (-1).
    killAfter(child, 50_000);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(stdin ?? '');
    child.once('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

beforeAll(async () => {
  [app, sim] = await Promise.all([spawnAppliance(), startIpmiSim({ systemUuid: CLI_UUID, fruSerial: 'CC-CLI-01' })]);
  await waitFor(
    'ipmi_sim',
    async () =>
      (await lanTry({ addr: '127.0.0.1', port: sim.lanPort }, 'admin', sim.admin.password, ['mc', 'info'])).ok ? true : undefined,
    100,
    100,
  );
  const boot = await fetch(`${app.nodeUrl}/boot?mac=52:54:00:c1:00:01`);
  id = Number(/crashcart\.node=(\d+)/.exec(await boot.text())![1]);
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await sim?.stop();
  if (app) fs.rmSync(app.dataDir, { recursive: true, force: true });
});

describe('crashcart nodes bmc / nodes power', () => {
  it('sets a BMC with the password from standard input, never from argv', async () => {
    const refused = await cli([
      'nodes',
      'bmc',
      'set',
      String(id),
      '--driver',
      'ipmi',
      '--address',
      '127.0.0.1',
      '--user',
      'admin',
      '--data-dir',
      app.dataDir,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/--password-stdin or --password-file \(never the command line/);
    const set = await cli(
      [
        'nodes',
        'bmc',
        'set',
        String(id),
        '--driver',
        'ipmi',
        '--address',
        '127.0.0.1',
        '--port',
        String(sim.lanPort),
        '--user',
        'admin',
        '--password-stdin',
        '--data-dir',
        app.dataDir,
      ],
      `${sim.admin.password}\n`,
    );
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
    expect(set.out).toContain(`node ${id}: ipmi 127.0.0.1:${sim.lanPort} user admin password set`);
    expect(set.out).not.toContain(sim.admin.password);
  }, 180_000); // five runs of the real CLI binary: a loaded CI machine starts Node slowly

  it('reads the power state per node; a failed node makes the exit status 1; --json for scripts', async () => {
    const r = await cli(['nodes', 'power', '--action', 'status', String(id), '999999', '--data-dir', app.dataDir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`node ${id} +ok +power off`));
    expect(r.out).toMatch(/node 999999 +FAIL +CC_ERR_NOT_FOUND/);
    const j = await cli(['nodes', 'power', '--action', 'status', '--json', String(id), '--data-dir', app.dataDir]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual({ results: [{ node_id: id, ok: true, power: 'off' }] });
    const bad = await cli(['nodes', 'power', '--action', 'explode', String(id), '--data-dir', app.dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--action must be one of on, off, soft-off, cycle, reset, status/);
  });

  it('shows and clears a BMC', async () => {
    const show = await cli(['nodes', 'bmc', 'show', String(id), '--data-dir', app.dataDir]);
    expect(show.out).toMatch(/password set\n {2}power off \(checked /);
    const clear = await cli(['nodes', 'bmc', 'clear', String(id), '--data-dir', app.dataDir]);
    expect(clear.code).toBe(0);
    expect(clear.out).toContain(`node ${id}: no BMC`);
  });

  it('expect: a machine never seen gets a record from its BMC; enrol asks its agent to enrol in-band', async () => {
    const r = await cli(
      [
        'nodes',
        'bmc',
        'expect',
        '--driver',
        'ipmi',
        '--address',
        '127.0.0.1',
        '--port',
        String(sim.lanPort),
        '--user',
        'admin',
        '--password-stdin',
        '--hostname',
        'cli-expected',
        '--data-dir',
        app.dataDir,
      ],
      `${sim.admin.password}\n`,
    );
    expect(r.err).toMatch(/reading the machine's identifiers from 127\.0\.0\.1/);
    expect(r.code).toBe(0);
    const m = /^node (\d+): expected cli-expected, claimed by the machine that boots with:\n {2}uuid {3}(\S+)\n {2}serial (\S+)\n/.exec(
      r.out,
    );
    expect(m?.slice(2)).toEqual([CLI_UUID, 'CC-CLI-01']);
    expect(r.out).not.toContain(sim.admin.password);
    const again = await cli(
      [
        'nodes',
        'bmc',
        'expect',
        '--driver',
        'ipmi',
        '--address',
        '127.0.0.1',
        '--port',
        String(sim.lanPort),
        '--user',
        'admin',
        '--password-stdin',
        '--data-dir',
        app.dataDir,
      ],
      `${sim.admin.password}\n`,
    );
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/CC_ERR_BMC_MACHINE_KNOWN/);
    const e = await cli(['nodes', 'bmc', 'enrol', m![1]!, '--data-dir', app.dataDir]);
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/in-band enrolment: requested: the operator asked/);
  }, 180_000);

  it('says how to start an appliance when none runs on the data dir', async () => {
    const empty = await tmpDir('cc-cli-bmc-');
    try {
      const r = await cli(['nodes', 'power', '--action', 'status', '1', '--data-dir', empty]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/CC_ERR_NOT_RUNNING/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
