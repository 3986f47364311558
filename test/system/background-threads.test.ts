/**
 * server/system/background-threads.ts: which threads are Node's platform threads (pure, on /proc text), and in a
 * real child process that on one CPU exactly those get nice 19 and SCHED_IDLE while the main thread and libuv's pool
 * keep theirs (nice 19 alone without the addon), and that with two CPUs nothing changes.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { BACKGROUND_NICE, blockedSignals, platformThreads, type TaskInfo } from '../../server/system/background-threads.ts';

const status = (sigBlk: string) =>
  `Name:\tnode\nState:\tS (sleeping)\nSigQ:\t0/95402\nSigPnd:\t0000000000000000\nSigBlk:\t${sigBlk}\nSigIgn:\t0000000001001000\n`;
const task = (tid: number, comm: string, sigBlk: string): TaskInfo => ({ tid, comm, status: status(sigBlk) });

describe('platformThreads', () => {
  it('reads the blocked-signal mask as /proc prints it', () => {
    expect(blockedSignals(status('0000000000000200'))).toBe(0x200n);
    expect(blockedSignals(status('fffffffe7ffbfeff'))).toBe(0xfffffffe7ffbfeffn);
    expect(blockedSignals('Name:\tnode\n')).toBeNull();
  });

  it('picks the unnamed threads that block SIGUSR1 alone, never the main thread, the pool, the signal thread or an addon', () => {
    const tasks = [
      task(100, 'node', '0000000000000200'), // the main thread, whatever its mask
      task(101, 'node', '0000000000000200'), // the delayed-task scheduler
      task(102, 'node', '0000000000000200'), // a worker
      task(106, 'node', 'fffffffe7ffbfeff'), // the inspector's signal thread
      task(107, 'node', '0000000000000000'), // libuv's pool
      task(120, 'cc-sendfile', '0000000000000200'),
      task(121, 'cc-tftp-pump', '0000000000000000'),
      task(122, 'node', '0000000000000300'), // another mask: not Node's platform
    ];
    expect(platformThreads(tasks, 100)).toEqual([101, 102]);
    expect(platformThreads([], 100)).toEqual([]);
  });
});

interface ChildReport {
  pid: number;
  result: { threads: number[]; policy: { idle: boolean; why: string }; skipped: string | null };
  threads: { tid: number; comm: string; nice: number; policy: number; sigBlk: string }[];
}

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

const child = (cpus: number, addon = true): ChildReport =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        path.join(REPO_ROOT, 'bin/run-ts.mjs'),
        path.join(REPO_ROOT, 'test/support/yield-threads-main.ts'),
        String(cpus),
        ...(addon ? [] : ['no-addon']),
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    ),
  ) as ChildReport;

describe('yieldBackgroundThreads in a real Node process', () => {
  it('on one CPU lowers exactly the platform threads to nice 19 and SCHED_IDLE', () => {
    const r = child(1);
    expect(r.result.skipped).toBeNull();
    expect(r.result.policy).toEqual({ idle: true, why: 'SCHED_IDLE' });
    const lowered = new Set(r.result.threads);
    const platform = r.threads.filter((t) => t.tid !== r.pid && t.comm === 'node' && t.sigBlk === '0000000000000200');
    // Node 20: four workers and the delayed-task scheduler.
    expect(platform.length).toBeGreaterThanOrEqual(2);
    expect([...lowered].sort()).toEqual(platform.map((t) => t.tid).sort());
    for (const t of platform) expect([t.nice, t.policy]).toEqual([BACKGROUND_NICE, SCHED_IDLE]);
    const main = r.threads.find((t) => t.tid === r.pid)!;
    const others = r.threads.filter((t) => !lowered.has(t.tid));
    expect(others).toContain(main);
    // libuv's pool (started by the child's readFile) is there and untouched, as is every other thread.
    expect(others.filter((t) => t.sigBlk === '0000000000000000').length).toBeGreaterThanOrEqual(1);
    for (const t of others) expect([t.nice, t.policy]).toEqual([main.nice, SCHED_OTHER]);
    expect(main.nice).not.toBe(BACKGROUND_NICE);
  });

  it('without the sched-idle addon lowers them to nice 19 alone and says why', () => {
    const r = child(1, false);
    expect(r.result.threads.length).toBeGreaterThanOrEqual(2);
    expect(r.result.policy.idle).toBe(false);
    expect(r.result.policy.why).toMatch(/sched-idle/);
    for (const tid of r.result.threads) {
      const t = r.threads.find((x) => x.tid === tid)!;
      expect([t.nice, t.policy]).toEqual([BACKGROUND_NICE, SCHED_OTHER]);
    }
  });

  it('with two CPUs changes nothing', () => {
    const r = child(2);
    expect(r.result.threads).toEqual([]);
    expect(r.result.skipped).toMatch(/2 CPUs/);
    const main = r.threads.find((t) => t.tid === r.pid)!;
    for (const t of r.threads) expect([t.nice, t.policy]).toEqual([main.nice, SCHED_OTHER]);
  });
});
