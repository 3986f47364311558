/**
 * One full collection on demand, for the moments the appliance knows are quiet and just made garbage (the end of
 * the DHCP warm start). `serve` does not run with `--expose-gc`, which would put `gc` on every script's global:
 * the flag is set at run time, which makes only contexts created afterwards see `gc`, and the function is taken
 * from one such context. It collects the whole heap (every context shares it).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null = null;

/** Run a full (mark-compact) collection now; returns the milliseconds it held the thread. */
export function collectGarbageNow(): number {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  const t0 = performance.now();
  collect();
  return performance.now() - t0;
}
