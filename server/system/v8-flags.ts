/**
 * The V8 flags `serve` runs with, and why; bin/v8-flags.mjs adds the missing ones before anything starts (V8 takes
 * them only at start: `v8.setFlagsFromString('--single-threaded-gc')` at run time aborted V8 on a failed CHECK).
 *
 * - **`--no-allocation-site-pretenuring`, always.** V8 watches where objects are allocated and, when most of a
 *   site's objects outlive a scavenge, allocates that site's objects straight in the old generation from then on.
 *   A DHCP burst at start made it decide so for the sites of the per-exchange objects (the decoded packet, its
 *   options, the reply, the lease write), which then died young in the old generation and kept the young objects
 *   they point to alive through every scavenge: in about a quarter of the server processes (bench/dhcp, pinned,
 *   10,000 DORA/s) each scavenge kept 10 % of the young generation instead of 0.7 % and took 4.5-5.9 ms instead of
 *   1.0, the old generation grew by about 70 MB/s, and the replies left in bursts after each pause (p99 36-63 ms,
 *   100-450 drops in perfdhcp's socket). V8 never took the decision back. Without pretenuring, 8 processes of 8
 *   stayed at 1.05-1.16 ms per scavenge (docs/perf/changes.md, "Pretenuring").
 * - **`--single-threaded-gc` on one CPU.** By default V8 marks and scavenges on helper threads beside the main
 *   thread (Node starts four). On a machine or an affinity mask with one CPU those threads take that CPU in turns
 *   of a scheduler slice each while the main thread waits: pinned to one core at 10,000 DHCP exchanges a second the
 *   main thread sat preempted for 12-24 ms at a time while four helpers ran 4 ms each (perf sched), every DHCP reply
 *   queued behind them, and the replies left in bursts that overflowed the receive buffer of the client that sent
 *   the requests. With one CPU the work is the same either way, so there it runs on the main thread in V8's small
 *   incremental steps. Pinned at 7,500 DORA/s the p99 went from 22.5 to 1.8 ms and the drops from 86 to 0
 *   (docs/perf/changes.md, "DHCP sockets"). With more CPUs the helpers run beside the main thread and stay.
 * - **`--heap-growing-percent=300`, always.** After a full collection V8 sets the old generation's next limit to
 *   a factor of what survived, which it picks from how fast the program allocates against how fast it collects;
 *   here it picked about 1.5. A rack coming up grows the lease table and the event ring steadily, so each limit
 *   was reached in half a second: pinned at 12,500 DORA/s the server ran a full collection every 0.55-0.65 s, each
 *   35 ms of marking in V8's incremental steps over 70 ms plus a 3-16 ms pause, and every one of them showed in the
 *   replies as a 15-30 ms stall and drops at the client (perfdhcp's timeline lined up with `--trace-gc` one to
 *   one). A factor of 4 (V8's own maximum) leaves at most one full collection in a 5-second step; the price is
 *   memory: the heap may grow to four times its live size before it is collected (docs/perf/changes.md,
 *   "Full collections under a DHCP burst").
 */

/** Which collector this process runs with: its own threads or the main thread (one CPU). */
export function gcThreads(execArgv: readonly string[] = process.execArgv): 'helpers' | 'main-thread' {
  return execArgv.includes('--single-threaded-gc') ? 'main-thread' : 'helpers';
}

/** The old generation's growing factor serve runs with, as `--heap-growing-percent` gives it (0: V8 picks; the last spelling wins). */
export function heapGrowingPercent(execArgv: readonly string[] = process.execArgv): number {
  const last = execArgv.filter((a) => /^--heap[-_]growing[-_]percent=/.test(a)).at(-1);
  return last ? Number(last.split('=')[1]) || 0 : 0;
}

/** Whether V8 pretenures by allocation site in this process (the last spelling on the command line wins). */
export function pretenuring(execArgv: readonly string[] = process.execArgv): 'on' | 'off' {
  const last = execArgv.filter((a) => a === '--allocation-site-pretenuring' || a === '--no-allocation-site-pretenuring').at(-1);
  return last === '--no-allocation-site-pretenuring' ? 'off' : 'on';
}
