/**
 * On one CPU, V8's background threads yield to the main thread. Node runs V8's platform threads beside the main
 * thread (four workers and a delayed-task scheduler): with one CPU they share it, and when the optimising compiler
 * has a job the scheduler gives the worker a slice of several milliseconds while the main thread, which answers
 * DHCP, TFTP and the node plane, waits. Pinned to one core at 4,000 DHCP exchanges a second the main thread sat
 * still for 9-13 ms a few times a second in the first half second of load (a log of the socket's batches), the
 * moments the optimiser compiled the code the first real packets made hot. Set to nice 19 once the DHCP warm start is
 * done, those threads run in the main thread's idle time instead: bench/dhcp pinned, old and new code alternating
 * in three sets, the first half second's p99 was lower in 8 of 9 cells (4,000/s 6.7-16.0 -> 5.0-6.8 ms), and no
 * step at 6,000/s or below dropped a request (2,326 with the old code); the price is a slower rest of the step
 * at 6,000/s, where the compiler gets little CPU (docs/perf/changes.md, "The optimiser's threads yield on one
 * CPU"). With more CPUs they run on another core and are left alone: unpinned the same change made the p99 at
 * 4,000/s worse (1.9 -> 4.5 ms), the workers then losing their core to the load itself.
 *
 * Nice 19 was not enough on a kernel with the EEVDF scheduler (Linux 6.6 and later): a nice-19 worker that got the
 * CPU while the main thread slept between two batches kept it for its slice after the main thread woke, so in the
 * first 400 ms of a burst the compiler still took 18-42 % of the one CPU and the main thread queued packets behind it
 * (`perf record -e sched:sched_switch`, bench/dhcp pinned at 3,000/s). So they are also moved to SCHED_IDLE (the
 * `sched-idle` addon, native/sched-idle.c): a thread of the normal policy that wakes takes the CPU from them at once
 * (docs/perf/changes.md, "The first half second of a burst, taken apart"). Without the addon they stay at nice 19.
 *
 * Which threads: Node names none of its own, so the platform threads are told apart by their signal mask, which
 * Node sets to SIGUSR1 alone (the inspector's signal goes to the main thread); libuv's pool threads block nothing,
 * the inspector's signal thread blocks everything, and the addons' threads carry names (`cc-sendfile`,
 * `cc-tftp-pump`). A Node that changes this finds no thread, and nothing changes.
 */
import fs from 'node:fs';
import os from 'node:os';
import { loadAddon } from '../net/native-addon.ts';

/** The nice value the platform threads get: the lowest priority, as for any background job. */
export const BACKGROUND_NICE = 19;

/** The `sched-idle` addon (native/sched-idle.c): a thread moved to SCHED_IDLE. */
interface SchedIdle {
  idle(tid: number): void;
}
const schedIdle = loadAddon<SchedIdle>('sched-idle');

/** SIGUSR1 (10) alone, as /proc's SigBlk shows a mask: bit 9. */
const SIGUSR1_ONLY = 1n << 9n;

/** One thread of this process, as /proc/self/task/TID shows it. */
export interface TaskInfo {
  tid: number;
  /** `comm`, without the newline. */
  comm: string;
  /** The whole `status` file. */
  status: string;
}

/** The blocked-signal mask of a /proc status text, or null when it has none. */
export function blockedSignals(status: string): bigint | null {
  const m = /^SigBlk:\s*([0-9a-f]+)\s*$/m.exec(status);
  return m ? BigInt(`0x${m[1]!}`) : null;
}

/** Node's platform threads among `tasks` (never the main thread `pid`). Pure. */
export function platformThreads(tasks: readonly TaskInfo[], pid: number): number[] {
  return tasks.filter((t) => t.tid !== pid && t.comm === 'node' && blockedSignals(t.status) === SIGUSR1_ONLY).map((t) => t.tid);
}

/** This process's threads now (a thread that ends while they are read is left out). */
export function ownTasks(taskDir = '/proc/self/task'): TaskInfo[] {
  const out: TaskInfo[] = [];
  for (const name of fs.readdirSync(taskDir)) {
    try {
      const comm = fs.readFileSync(`${taskDir}/${name}/comm`, 'utf8').trim();
      out.push({ tid: Number(name), comm, status: fs.readFileSync(`${taskDir}/${name}/status`, 'utf8') });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/** What `yieldBackgroundThreads` did. */
export interface YieldResult {
  /** Threads set to BACKGROUND_NICE. */
  threads: number[];
  /** How they yield: SCHED_IDLE as well (the addon), or nice alone (the addon missing: `why`). */
  policy: { idle: boolean; why: string };
  /** Why nothing was changed, when nothing was. */
  skipped: string | null;
}

/** Lower V8's platform threads to BACKGROUND_NICE and SCHED_IDLE (`addon`) when this process has one CPU; otherwise leave them. */
export function yieldBackgroundThreads(
  cpus = os.availableParallelism(),
  tasks: () => TaskInfo[] = ownTasks,
  addon: SchedIdle | null = schedIdle.addon,
): YieldResult {
  const policy = { idle: false, why: addon ? 'not changed' : schedIdle.addon ? 'the sched-idle addon not used' : schedIdle.why };
  if (process.platform !== 'linux') return { threads: [], policy, skipped: 'not Linux' };
  if (cpus > 1) return { threads: [], policy, skipped: `${cpus} CPUs: the platform threads run beside the main thread` };
  const threads: number[] = [];
  let idle = addon !== null;
  for (const tid of platformThreads(tasks(), process.pid)) {
    try {
      // On Linux the nice value and the policy are per thread: setpriority(2) and sched_setscheduler(2) with a
      // thread ID change that thread alone.
      os.setPriority(tid, BACKGROUND_NICE);
      threads.push(tid);
    } catch {
      continue; /* it ended meanwhile */
    }
    if (!addon) continue;
    try {
      addon.idle(tid);
    } catch (e) {
      idle = false;
      policy.why = `sched_setscheduler refused: ${(e as Error).message}`;
    }
  }
  if (idle && threads.length > 0) {
    policy.idle = true;
    policy.why = 'SCHED_IDLE';
  }
  return { threads, policy, skipped: threads.length === 0 ? 'no platform thread found (this Node marks them differently)' : null };
}
