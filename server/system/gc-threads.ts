/**
 * Where V8 collects garbage in `serve`. By default it marks and scavenges on helper threads beside the main
 * thread (Node starts four). On a machine or an affinity mask with one CPU those threads take that CPU in turns
 * of a scheduler slice each while the main thread waits: pinned to one core at 10,000 DHCP exchanges a second the
 * main thread sat preempted for 12-24 ms at a time while four helpers ran 4 ms each (perf sched), every DHCP reply
 * queued behind them, and the replies left in bursts that overflowed the receive buffer of the client that sent
 * the requests. With one CPU the work is the same either way, so there it runs on the main thread in V8's small
 * incremental steps: bin/gc-threads.mjs starts `serve` again under `--single-threaded-gc` (V8 takes the choice
 * only at start). Pinned at 7,500 DORA/s the p99 went from 22.5 to 1.8 ms and the drops from 86 to 0
 * (docs/perf/changes.md, "DHCP sockets"). With more CPUs the helpers run beside the main thread and stay.
 */

/** Which collector this process runs with: its own threads or the main thread (one CPU). */
export function gcThreads(execArgv: readonly string[] = process.execArgv): 'helpers' | 'main-thread' {
  return execArgv.includes('--single-threaded-gc') ? 'main-thread' : 'helpers';
}
