// `serve` on one CPU runs V8's garbage collector on its main thread (server/system/gc-threads.ts says why). V8
// fixes that choice when it starts, so this starts the process again under `--single-threaded-gc` with execv(2)
// (the `reexec` addon, native/reexec.c): same PID, same descriptors and environment, nothing run yet. Plain
// JavaScript: bin/crashcart.mjs calls it before the TypeScript loader or anything else starts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The flag, and the argument that says a serve process is what it concerns. */
export const MAIN_THREAD_GC_FLAG = '--single-threaded-gc';

/**
 * Restart `serve` under the flag when the process may use one CPU. Returns (without restarting) when the command
 * is not `serve`, the flag is there already, there is more than one CPU, or the addon is missing or fails (then
 * the collector keeps its helper threads: slower replies on one CPU, nothing else).
 */
export function mainThreadGcForOneCpu(root, cpus = os.availableParallelism()) {
  if (process.argv[2] !== 'serve' || process.execArgv.includes(MAIN_THREAD_GC_FLAG) || cpus > 1) return;
  const addon = path.join(root, 'build', 'out', 'native', `crashcart-reexec-${process.platform}-${process.arch}.node`);
  if (!existsSync(addon)) return;
  try {
    const { exec } = createRequire(import.meta.url)(addon);
    exec(process.execPath, [process.argv0, ...process.execArgv, MAIN_THREAD_GC_FLAG, ...process.argv.slice(1)]);
  } catch {
    /* not restarted: serve runs with V8's default collector */
  }
}
