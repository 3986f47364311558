/**
 * The reply path stays optimised through the DHCP warm start: the plugin, its warm start and then real relayed DORAs
 * (bench/dhcp/in-process.ts, from the sources) under V8's `--trace-deopt`. Before the reply's option list was built by
 * push alone, every run printed "wrong map" bailouts of `buildReply` and `reply` during the warm start, and `reply`
 * was compiled again under the first real load (docs/perf/changes.md, "The reply's option list").
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');

/** The functions a bailout line names, with its reason. */
function bailouts(text: string): { reason: string; fn: string }[] {
  const out: { reason: string; fn: string }[] = [];
  for (const m of text.matchAll(/\[bailout \(kind: [^,]+, reason: ([^)]*)\).*?<JSFunction (\S+)/g)) out.push({ reason: m[1]!, fn: m[2]! });
  return out;
}

describe('the reply path through the warm start', () => {
  it('reads bailouts as V8 prints them', () => {
    const line =
      '[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x3bf6d70fc2e9 <JSFunction reply (sfi = 0x33f4fd0117e9)>, 0x2f2790783c69 <Code TURBOFAN>, opt id 122';
    expect(bailouts(`${line}\n[marking 0x1 <JSFunction decode (sfi = 0x2)> for optimization]`)).toEqual([
      { reason: 'wrong map', fn: 'reply' },
    ]);
  });

  it('has no "wrong map" bailout of buildReply or reply', { timeout: 120_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-warm-deopt-'));
    try {
      const r = spawnSync(
        process.execPath,
        [
          '--trace-deopt',
          'bin/run-ts.mjs',
          'bench/dhcp/in-process.ts',
          '--sources',
          '--cold',
          '--warm-start',
          '1000',
          '--count',
          '2000',
          '--dir',
          dir,
        ],
        { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      );
      expect(r.status, r.stderr).toBe(0);
      const all = bailouts(r.stdout);
      // The trace is on: V8 printed bailouts of other functions in the same run (the warm start's own among them).
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter((b) => b.reason === 'wrong map' && (b.fn === 'buildReply' || b.fn === 'reply'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
