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
 * `sched-policy` addon, native/sched-policy.c): a thread of the normal policy that wakes takes the CPU from them
 * (docs/perf/changes.md, "The first half second of a burst, taken apart"). Without the addon they stay at nice 19.
 *
 * Not always at once, though: on the bench hosts' Linux 6.18 a wake-up of the normal-policy main thread was now and
 * then left waiting for the scheduler's next tick (up to 4 ms at 250 Hz) while a SCHED_IDLE compiler job kept the
 * CPU, a few times in a burst's first half second (`perf` sched trace of `serve` under perfdhcp); a C program of the
 * same pattern (bench/sched/wake-latency.c) shows it too. A real-time thread that wakes gets the CPU without
 * that wait. So on one CPU the main thread also moves to SCHED_FIFO at the lowest real-time priority
 * (`mainThreadFirst`), with the reset-on-fork flag: the threads and processes it creates start at the normal policy.
 * The group commit's sync thread goes one above it, or the durable ACKs would wait for the main thread to sleep. The
 * kernel's real-time throttling (by default at most 950 ms of each second, `sched_rt_runtime_us`) leaves the rest of
 * the CPU to everything else should the main thread ever spin; with the throttling off (-1) nothing is raised
 * (docs/perf/changes.md, "The main thread real-time on one CPU").
 *
 * Which threads: Node names none of its own, so the platform threads are told apart by their signal mask, which
 * Node sets to SIGUSR1 alone (the inspector's signal goes to the main thread); libuv's pool threads block nothing,
 * the inspector's signal thread blocks everything, and the addons' threads carry names (`cc-fsync`, `cc-sendfile`,
 * `cc-tftp-pump`). A Node that changes this finds no thread, and nothing changes.
 */
import fs from 'node:fs';
import os from 'node:os';
import { loadAddon } from '../net/native-addon.ts';

/** The nice value the platform threads get: the lowest priority, as for any background job. */
export const BACKGROUND_NICE = 19;

/** The `sched-policy` addon (native/sched-policy.c): a thread moved to SCHED_IDLE, or to SCHED_FIFO at a priority. */
interface SchedPolicy {
  idle(tid: number): void;
  fifo(tid: number, priority: number): void;
}
const schedPolicy = loadAddon<SchedPolicy>('sched-policy');

/** The main thread's real-time priority: the lowest of SCHED_FIFO's (1-99), above every thread of the normal policy. */
export const MAIN_THREAD_FIFO_PRIORITY = 1;

/**
 * The group commit's sync thread (native/fsync-thread.c, named `cc-fsync`) goes above the main thread: an ACK that
 * waits for its lease's fdatasync then waits for the disk, not for the main thread to sleep. It only starts syncs and
 * reports them, microseconds of CPU each; it never computes.
 */
export const SYNC_THREAD_NAME = 'cc-fsync';
export const SYNC_THREAD_FIFO_PRIORITY = 2;

/** Where the kernel says how much of each period real-time threads may run (-1: all of it). */
const RT_RUNTIME_FILE = '/proc/sys/kernel/sched_rt_runtime_us';

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
  addon: SchedPolicy | null = schedPolicy.addon,
): YieldResult {
  const policy = { idle: false, why: addon ? 'not changed' : schedPolicy.addon ? 'the sched-policy addon not used' : schedPolicy.why };
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

/** What `mainThreadFirst` did: the main thread real-time, or why not. */
export interface MainThreadResult {
  realtime: boolean;
  why: string;
}

/** The kernel's real-time runtime per period in µs (-1: unlimited), or null when it cannot be read. */
export function rtRuntimeUs(file = RT_RUNTIME_FILE): number | null {
  try {
    const v = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * On one CPU, move the main thread (this process's first, `process.pid`) to SCHED_FIFO at MAIN_THREAD_FIFO_PRIORITY
 * with reset-on-fork, so that its wake-up takes the CPU from V8's background threads at once (the header says why),
 * after the sync thread went to SYNC_THREAD_FIFO_PRIORITY above it: with the sync thread at the normal policy, a
 * durable ACK would wait for the real-time main thread to sleep before its sync could start. Left at the normal
 * policy with more CPUs, without the addon or the sync thread, when the kernel does not throttle real-time threads,
 * or when not allowed (an RLIMIT_RTPRIO of 2 or more, CAP_SYS_NICE or root: docs/privileges.md); `why` says which.
 */
export function mainThreadFirst(
  cpus = os.availableParallelism(),
  addon: SchedPolicy | null = schedPolicy.addon,
  rtRuntime: () => number | null = rtRuntimeUs,
  tasks: () => TaskInfo[] = ownTasks,
): MainThreadResult {
  if (process.platform !== 'linux') return { realtime: false, why: 'not Linux' };
  if (cpus > 1) return { realtime: false, why: `${cpus} CPUs: the background threads run beside the main thread` };
  if (!addon) return { realtime: false, why: schedPolicy.addon ? 'the sched-policy addon not used' : schedPolicy.why };
  const runtime = rtRuntime();
  if (runtime === null || runtime < 0)
    return {
      realtime: false,
      why: `the kernel does not cap real-time threads (${RT_RUNTIME_FILE} ${runtime ?? 'unreadable'}): the main thread stays at the normal policy`,
    };
  const sync = tasks().filter((t) => t.comm === SYNC_THREAD_NAME);
  if (sync.length === 0)
    return { realtime: false, why: `no ${SYNC_THREAD_NAME} thread (native/fsync-thread.c): the main thread stays at the normal policy` };
  try {
    for (const t of sync) addon.fifo(t.tid, SYNC_THREAD_FIFO_PRIORITY);
    addon.fifo(process.pid, MAIN_THREAD_FIFO_PRIORITY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const fix =
      code === 'EPERM'
        ? ': allow real-time priorities up to 2 (LimitRTPRIO=2 in the systemd unit, `ulimit -r 2`) or run as root (docs/privileges.md)'
        : '';
    return { realtime: false, why: `sched_setscheduler refused: ${(e as Error).message}${fix}` };
  }
  return {
    realtime: true,
    why: `SCHED_FIFO ${MAIN_THREAD_FIFO_PRIORITY}, reset on fork; ${SYNC_THREAD_NAME} at ${SYNC_THREAD_FIFO_PRIORITY}`,
  };
}
