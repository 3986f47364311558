// The V8 flags `serve` runs with (server/system/v8-flags.ts says why each). V8 takes them only when it starts, so
// when one is missing this starts the process again with it, by execv(2) (the `reexec` addon, native/reexec.c):
// same PID, same descriptors and environment, nothing run yet. Plain JavaScript: bin/crashcart.mjs calls it before
// the TypeScript loader or anything else starts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The collector on the main thread (one CPU). */
export const MAIN_THREAD_GC_FLAG = '--single-threaded-gc';
/** No allocation-site pretenuring (always). */
export const NO_PRETENURING_FLAG = '--no-allocation-site-pretenuring';
/** The old generation's limit after a full collection: four times what survived it (always). */
export const HEAP_GROWING_FLAG = '--heap-growing-percent=300';

/** The flags `serve` wants on a machine (or affinity mask) with `cpus` CPUs. */
export function serveV8Flags(cpus) {
  const always = [NO_PRETENURING_FLAG, HEAP_GROWING_FLAG];
  return cpus > 1 ? always : [...always, MAIN_THREAD_GC_FLAG];
}

/** `--no-x`, `--x` and `--x=value` name one V8 switch: a flag given any way on the command line is left as given. */
const switchOf = (flag) =>
  flag
    .replace(/=.*$/, '')
    .replace(/^--(no-)?/, '')
    .replace(/_/g, '-');

/** The wanted flags this process was not started with (either spelling of a switch counts as given). */
export function missingV8Flags(execArgv, cpus) {
  const given = new Set(execArgv.filter((a) => a.startsWith('--')).map(switchOf));
  return serveV8Flags(cpus).filter((f) => !given.has(switchOf(f)));
}

/**
 * Restart `serve` with the flags it lacks. Returns (without restarting) when the command is not `serve`, nothing is
 * missing, or the addon is missing or fails (then serve runs with V8's defaults: slower, nothing else).
 */
export function restartServeWithV8Flags(root, cpus = os.availableParallelism()) {
  if (process.argv[2] !== 'serve') return;
  const missing = missingV8Flags(process.execArgv, cpus);
  if (missing.length === 0) return;
  const addon = path.join(root, 'build', 'out', 'native', `crashcart-reexec-${process.platform}-${process.arch}.node`);
  if (!existsSync(addon)) return;
  try {
    const { exec } = createRequire(import.meta.url)(addon);
    exec(process.execPath, [process.argv0, ...process.execArgv, ...missing, ...process.argv.slice(1)]);
  } catch {
    /* not restarted: serve runs with V8's defaults */
  }
}
