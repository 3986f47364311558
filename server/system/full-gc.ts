/**
 * One full collection on demand, for the moments the appliance knows are quiet and just made garbage (the end of
 * the DHCP warm start). `serve` does not run with `--expose-gc`, which would put `gc` on every script's global:
 * the flag is set at run time, which makes only contexts created afterwards see `gc`, and the function is taken
 * from one such context. It collects the whole heap (every context shares it).
 *
 * The collection marks and compacts inside the call, but V8 sweeps the old generation's pages later: on helper
 * threads, or with `--single-threaded-gc` (serve on one CPU, server/system/v8-flags.ts) on the main thread, a page
 * at a time as allocation needs one, and all that is left at once when something needs the heap swept. The
 * deoptimiser needs it when it rebuilds objects that optimised code had kept in registers, so the first real DHCP
 * packet that met a deoptimisation after the warm start waited for the whole sweep: 8 ms of `Sweeper::RawSweep` under
 * `Deoptimizer::MaterializeHeapObjects` before the first reply of a burst (`perf record` of serve, bench/dhcp pinned;
 * docs/perf/changes.md, "The first half second of a burst, taken apart"). So the sweep is finished here too: V8 finishes
 * it before it walks the heap, and `v8.getHeapCodeStatistics()` walks the code and old spaces (a few milliseconds
 * more for a heap of serve's size, in the same quiet moment).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null = null;

/** Finish the sweeping a collection left pending (V8 completes it before walking the heap); returns the milliseconds. */
export function finishSweeping(): number {
  const t0 = performance.now();
  v8.getHeapCodeStatistics();
  return performance.now() - t0;
}

/** Run a full (mark-compact) collection now and finish its sweeping; returns the milliseconds it held the thread. */
export function collectGarbageNow(): number {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  const t0 = performance.now();
  collect();
  finishSweeping();
  return performance.now() - t0;
}
