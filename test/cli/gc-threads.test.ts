/**
 * `serve` on one CPU collects garbage on its main thread (server/system/gc-threads.ts): bin/crashcart.mjs starts the
 * process again under `--single-threaded-gc` with execv(2) (native/reexec.c, bin/gc-threads.mjs), keeping its PID.
 * Real `crashcart serve` processes, pinned with taskset and not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import { spawnAppliance, type ProcessAppliance } from '../support/appliance.ts';
import { gcThreads } from '../../server/system/gc-threads.ts';

const running: ProcessAppliance[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});

const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

describe('the collector for the CPUs serve may use', () => {
  it('pinned to one CPU, serve runs under --single-threaded-gc in the same process the launcher started', async () => {
    const a = await spawnAppliance([], { wrap: ['taskset', '-c', '0'] });
    running.push(a);
    const pid = a.child.pid!;
    // The PID the launcher holds is the server (it printed its URLs and answers), now running with the flag.
    const args = cmdline(pid);
    expect(args).toContain('--single-threaded-gc');
    expect(args.some((x) => x.endsWith('bin/crashcart.mjs'))).toBe(true);
    expect(args).toContain('serve');
    const r = await fetch(`${a.adminUrl}/api/v1/readiness`, { headers: { authorization: `Bearer ${await a.token()}` } });
    expect(r.status).toBe(200);
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
  });

  it('with the CPUs of this machine, the flag is there exactly when there is one', async () => {
    const a = await spawnAppliance([]);
    running.push(a);
    expect(cmdline(a.child.pid!).includes('--single-threaded-gc')).toBe(os.availableParallelism() === 1);
  });

  it('the server reads its collector from its own flags', () => {
    expect(gcThreads(['--single-threaded-gc'])).toBe('main-thread');
    expect(gcThreads(['--cpu-prof'])).toBe('helpers');
  });
});
