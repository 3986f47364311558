/**
 * server/system/full-gc.ts: a real full collection, seen by Node's own GC observer, in a process without --expose-gc,
 * and its sweep finished inside the call (the old space's free memory is all on V8's free lists when it returns), in a
 * child run as serve runs on one CPU.
 */
import { describe, expect, it } from 'vitest';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { collectGarbageNow } from '../../server/system/full-gc.ts';

const MAJOR = constants.NODE_PERFORMANCE_GC_MAJOR;

/** The GC entries Node reports while `fn` runs (delivered asynchronously, so collected until a turn after it). */
async function gcEntriesDuring(fn: () => void): Promise<{ entries: PerformanceEntry[]; from: number; to: number }> {
  const entries: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const from = performance.now();
  fn();
  const to = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return { entries, from, to };
}

describe('collectGarbageNow', () => {
  it('runs a major collection inside the call, without --expose-gc on the command line', async () => {
    expect(process.execArgv).not.toContain('--expose-gc');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    let ms = -1;
    const { entries, from, to } = await gcEntriesDuring(() => {
      ms = collectGarbageNow();
    });
    const major = entries.filter((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === MAJOR);
    expect(major.length).toBeGreaterThanOrEqual(1);
    // The collection happened inside the call, not at some other moment of the test.
    expect(major.some((e) => e.startTime >= from && e.startTime + e.duration <= to + 1)).toBe(true);
    expect(ms).toBeGreaterThan(0);
    // The main context's global is left as it was: only the private context sees gc.
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it('frees what nothing holds any more', async () => {
    collectGarbageNow();
    const before = process.memoryUsage().heapUsed;
    const held = [Array.from({ length: 200 }, (_, i) => Array.from({ length: 10_000 }, () => i))];
    expect(process.memoryUsage().heapUsed).toBeGreaterThan(before + 8_000_000);
    held.length = 0; // nothing holds the arrays any more
    collectGarbageNow();
    expect(process.memoryUsage().heapUsed).toBeLessThan(before + 4_000_000);
  });

  it('finishes the sweep: nothing is left for a later walk of the heap to free (serve on one CPU)', () => {
    const r = JSON.parse(
      execFileSync(
        process.execPath,
        ['--single-threaded-gc', path.join(REPO_ROOT, 'bin/run-ts.mjs'), path.join(REPO_ROOT, 'test/support/sweep-main.ts')],
        { encoding: 'utf8', timeout: 60_000 },
      ),
    ) as { bare: { before: number; after: number }; ours: { before: number; after: number }; live: number };
    // The contrast, so the check below can fail: V8's collection alone leaves pages unswept, and a walk frees them.
    expect(r.bare.after).toBeGreaterThan(r.bare.before + 4_000_000);
    // collectGarbageNow finished its own sweep: a walk right after frees nothing more.
    expect(r.ours.after).toBe(r.ours.before);
    expect(r.live).toBe(40_000);
  });
});
