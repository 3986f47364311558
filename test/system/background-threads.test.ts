/**
 * server/system/background-threads.ts:
 * - which threads are Node's platform threads (pure, on /proc text);
 * - when the main thread stays at the normal policy (mainThreadFirst with a stand-in addon and kernel setting);
 * - in a real child process, on one CPU: exactly the platform threads get nice 19 and SCHED_IDLE, the main thread
 *   SCHED_FIFO 1 and the group commit's sync thread SCHED_FIFO 2, libuv's pool keeps its policy, and a thread and a
 *   process the main thread makes afterwards start at the normal policy (the reset-on-fork flag); without the addon
 *   nice 19 alone; as a user allowed no real-time priority, the main thread stays; with two CPUs nothing changes.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import {
  BACKGROUND_NICE,
  blockedSignals,
  MAIN_THREAD_FIFO_PRIORITY,
  mainThreadFirst,
  platformThreads,
  rtRuntimeUs,
  SYNC_THREAD_FIFO_PRIORITY,
  type TaskInfo,
} from '../../server/system/background-threads.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';

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

describe("mainThreadFirst's decision, with a stand-in addon, kernel setting and thread list", () => {
  const calls: number[][] = [];
  const addon = {
    idle: () => undefined,
    fifo: (tid: number, priority: number) => void calls.push([tid, priority]),
  };
  const withSync = () => [task(process.pid, 'node', '0000000000000000'), task(4242, 'cc-fsync', '0000000000000000')];
  const noSync = () => [task(process.pid, 'node', '0000000000000000')];

  it('on one CPU puts the sync thread at SCHED_FIFO 2 and then the main thread at 1, when the kernel caps real-time threads', () => {
    calls.length = 0;
    expect(mainThreadFirst(1, addon, () => 950_000, withSync)).toEqual({
      realtime: true,
      why: 'SCHED_FIFO 1, reset on fork; cc-fsync at 2',
    });
    expect(calls).toEqual([
      [4242, SYNC_THREAD_FIFO_PRIORITY],
      [process.pid, MAIN_THREAD_FIFO_PRIORITY],
    ]);
  });

  it('leaves it with more CPUs, without the addon or the sync thread, and when the kernel does not cap real-time threads', () => {
    calls.length = 0;
    expect(mainThreadFirst(2, addon, () => 950_000, withSync)).toEqual({
      realtime: false,
      why: '2 CPUs: the background threads run beside the main thread',
    });
    expect(mainThreadFirst(1, null, () => 950_000, withSync).realtime).toBe(false);
    const unlimited = mainThreadFirst(1, addon, () => -1, withSync);
    expect(unlimited.realtime).toBe(false);
    expect(unlimited.why).toMatch(/sched_rt_runtime_us -1/);
    expect(mainThreadFirst(1, addon, () => null, withSync).why).toMatch(/sched_rt_runtime_us unreadable/);
    expect(mainThreadFirst(1, addon, () => 950_000, noSync)).toEqual({
      realtime: false,
      why: 'no cc-fsync thread (native/fsync-thread.c): the main thread stays at the normal policy',
    });
    expect(calls).toEqual([]);
  });

  it('says what to do when the kernel refuses', () => {
    const refusing = {
      idle: () => undefined,
      fifo: () => {
        throw Object.assign(new Error('sched_setscheduler: Operation not permitted'), { code: 'EPERM' });
      },
    };
    const r = mainThreadFirst(1, refusing, () => 950_000, withSync);
    expect(r.realtime).toBe(false);
    expect(r.why).toMatch(
      /Operation not permitted: allow real-time priorities up to 2 \(LimitRTPRIO=2 in the systemd unit, `ulimit -r 2`\) or run as root \(docs\/privileges\.md\)$/,
    );
  });

  it('reads the kernel setting as /proc prints it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-rt-runtime-'));
    try {
      const f = (text: string) => {
        writeFileSync(path.join(dir, 'v'), text);
        return rtRuntimeUs(path.join(dir, 'v'));
      };
      expect(f('950000\n')).toBe(950_000);
      expect(f('-1\n')).toBe(-1);
      expect(f('lots\n')).toBeNull();
      expect(rtRuntimeUs(path.join(dir, 'missing'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface Sched {
  nice: number;
  policy: number;
  rtPriority: number;
}

interface ChildReport {
  pid: number;
  result: { threads: number[]; policy: { idle: boolean; why: string }; skipped: string | null };
  main: { realtime: boolean; why: string };
  threads: ({ tid: number; comm: string; sigBlk: string } & Sched)[];
  worker: Sched;
  child: Sched;
}

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;
const SCHED_IDLE = 5;

/** As user nobody with no capability (setpriv): what the service would be without LimitRTPRIO. */
const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];

const child = (cpus: number, addon = true, wrap: string[] = []): ChildReport => {
  const argv = [
    process.execPath,
    path.join(REPO_ROOT, 'bin/run-ts.mjs'),
    path.join(REPO_ROOT, 'test/support/yield-threads-main.ts'),
    String(cpus),
    ...(addon ? [] : ['no-addon']),
  ];
  const [cmd, ...args] = [...wrap, ...argv];
  return JSON.parse(execFileSync(cmd!, args, { encoding: 'utf8', timeout: 30_000 })) as ChildReport;
};

describe('yieldBackgroundThreads in a real Node process', () => {
  it('on one CPU lowers exactly the platform threads to nice 19 and SCHED_IDLE, and raises the main thread to SCHED_FIFO 1', () => {
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
    expect(r.main).toEqual({ realtime: true, why: 'SCHED_FIFO 1, reset on fork; cc-fsync at 2' });
    expect([main.policy, main.rtPriority]).toEqual([SCHED_FIFO, MAIN_THREAD_FIFO_PRIORITY]);
    const sync = r.threads.filter((t) => t.comm === 'cc-fsync');
    expect(sync.map((t) => [t.policy, t.rtPriority])).toEqual([[SCHED_FIFO, SYNC_THREAD_FIFO_PRIORITY]]);
    const others = r.threads.filter((t) => !lowered.has(t.tid) && t.tid !== r.pid && t.comm !== 'cc-fsync');
    // libuv's pool (started by the child's readFile) is there and untouched, as is every other thread.
    expect(others.filter((t) => t.sigBlk === '0000000000000000').length).toBeGreaterThanOrEqual(1);
    for (const t of others) expect([t.nice, t.policy]).toEqual([main.nice, SCHED_OTHER]);
    expect(main.nice).not.toBe(BACKGROUND_NICE);
    // What the main thread creates afterwards runs at the normal policy: a worker thread and a process.
    expect([r.worker.policy, r.worker.rtPriority]).toEqual([SCHED_OTHER, 0]);
    expect([r.child.policy, r.child.rtPriority]).toEqual([SCHED_OTHER, 0]);
  });

  it('without the sched-policy addon lowers them to nice 19 alone, leaves the main thread and says why', () => {
    const r = child(1, false);
    expect(r.result.threads.length).toBeGreaterThanOrEqual(2);
    expect(r.result.policy.idle).toBe(false);
    expect(r.result.policy.why).toMatch(/sched-policy/);
    expect(r.main.realtime).toBe(false);
    expect(r.main.why).toMatch(/sched-policy/);
    expect(r.threads.find((t) => t.tid === r.pid)!.policy).toBe(SCHED_OTHER);
    for (const tid of r.result.threads) {
      const t = r.threads.find((x) => x.tid === tid)!;
      expect([t.nice, t.policy]).toEqual([BACKGROUND_NICE, SCHED_OTHER]);
    }
  });

  it('as a user allowed no real-time priority leaves the main thread at the normal policy and says how to allow it', () => {
    const r = child(1, true, AS_NOBODY);
    expect(r.result.policy).toEqual({ idle: true, why: 'SCHED_IDLE' }); // lowering needs no privilege
    expect(r.main.realtime).toBe(false);
    expect(r.main.why).toMatch(/Operation not permitted: allow real-time priorities up to 2 \(LimitRTPRIO=2 in the systemd unit/);
    expect(r.threads.find((t) => t.tid === r.pid)!.policy).toBe(SCHED_OTHER);
  });

  it('with two CPUs changes nothing', () => {
    const r = child(2);
    expect(r.result.threads).toEqual([]);
    expect(r.result.skipped).toMatch(/2 CPUs/);
    expect(r.main.realtime).toBe(false);
    const main = r.threads.find((t) => t.tid === r.pid)!;
    for (const t of r.threads) expect([t.nice, t.policy]).toEqual([main.nice, SCHED_OTHER]);
  });
});
