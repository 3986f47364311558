/**
 * The V8 flags `serve` runs with (server/system/v8-flags.ts): bin/crashcart.mjs starts the process again with the
 * ones it lacks, by execv(2) (native/reexec.c, bin/v8-flags.mjs), keeping its PID. Real `crashcart serve`
 * processes, pinned with taskset and not, and the rule itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnAppliance, type ProcessAppliance } from '../support/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { gcThreads, heapGrowingPercent, pretenuring } from '../../server/system/v8-flags.ts';
import { missingV8Flags, serveV8Flags } from '../../bin/v8-flags.mjs';

const running: ProcessAppliance[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});

const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
const ALWAYS = ['--no-allocation-site-pretenuring', '--heap-growing-percent=300'];
const ONE_CPU = [...ALWAYS, '--single-threaded-gc'];

describe('the V8 flags of serve', () => {
  it('pinned to one CPU, serve runs with both flags in the same process the launcher started', async () => {
    const a = await spawnAppliance([], { wrap: ['taskset', '-c', '0'] });
    running.push(a);
    const pid = a.child.pid!;
    // The PID the launcher holds is the server (it printed its URLs and answers), now running with the flags.
    const args = cmdline(pid);
    for (const f of ONE_CPU) expect(args).toContain(f);
    expect(args.some((x) => x.endsWith('bin/crashcart.mjs'))).toBe(true);
    expect(args).toContain('serve');
    const r = await fetch(`${a.adminUrl}/api/v1/readiness`, { headers: { authorization: `Bearer ${await a.token()}` } });
    expect(r.status).toBe(200);
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
  });

  it('with the CPUs of this machine: no pretenuring always, the collector on the main thread exactly when there is one', async () => {
    const a = await spawnAppliance([]);
    running.push(a);
    const args = cmdline(a.child.pid!);
    for (const f of ALWAYS) expect(args).toContain(f);
    expect(args.includes('--single-threaded-gc')).toBe(os.availableParallelism() === 1);
  });

  it('a switch given on the command line either way is left as given (how bench/dhcp runs V8 default row)', async () => {
    const a = await spawnAppliance([], {
      nodeArgs: ['--allocation-site-pretenuring', '--heap-growing-percent=0'],
      wrap: ['taskset', '-c', '0'],
    });
    running.push(a);
    const args = cmdline(a.child.pid!);
    expect(args).not.toContain('--no-allocation-site-pretenuring');
    expect(args).not.toContain('--heap-growing-percent=300');
    expect(args).toContain('--heap-growing-percent=0');
    expect(args).toContain('--single-threaded-gc');
  });

  it('under --cpu-prof the restart survives the profiler signal pending at execv(2), and the new image profiles', () => {
    // Without SIGPROF ignored across the execv every one of these starts died of it at 50 us (exit by signal 27).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-cpuprof-'));
    try {
      for (let i = 0; i < 4; i++) {
        const r = spawnSync(
          process.execPath,
          [
            '--cpu-prof',
            `--cpu-prof-dir=${dir}`,
            '--cpu-prof-interval=50',
            path.join(REPO_ROOT, 'bin', 'crashcart.mjs'),
            'serve',
            '--help',
          ],
          { encoding: 'utf8', timeout: 30_000, cwd: REPO_ROOT },
        );
        expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
        expect(r.stdout).toContain('Usage: crashcart serve');
      }
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length).toBeGreaterThanOrEqual(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the rule, and what the server reads back from its own flags', () => {
    expect(serveV8Flags(1)).toEqual(ONE_CPU);
    expect(serveV8Flags(8)).toEqual(ALWAYS);
    expect(missingV8Flags([], 1)).toEqual(ONE_CPU);
    expect(missingV8Flags(['--single-threaded-gc', '--no-allocation-site-pretenuring', '--heap-growing-percent=300'], 1)).toEqual([]);
    expect(missingV8Flags(['--allocation-site-pretenuring', '--cpu-prof', '--heap_growing_percent=50'], 4)).toEqual([]);
    expect(missingV8Flags(['--no-single-threaded-gc'], 1)).toEqual(ALWAYS);
    expect(heapGrowingPercent(['--heap-growing-percent=300'])).toBe(300);
    expect(heapGrowingPercent(['--heap-growing-percent=300', '--heap_growing_percent=50'])).toBe(50);
    expect(heapGrowingPercent(['--cpu-prof'])).toBe(0);
    expect(gcThreads(['--single-threaded-gc'])).toBe('main-thread');
    expect(gcThreads(['--cpu-prof'])).toBe('helpers');
    expect(pretenuring(['--no-allocation-site-pretenuring'])).toBe('off');
    expect(pretenuring(['--no-allocation-site-pretenuring', '--allocation-site-pretenuring'])).toBe('on');
    expect(pretenuring([])).toBe('on');
  });
});
