/**
 * What V8 optimises during the DHCP warm start stays optimised once the real packets come
 * (docs/perf/changes.md, "The reply's option list", "Compiler threads, idle wake-ups and spinning", "Two
 * deoptimisations at the first real lease"):
 * - the reply path, through the plugin, its warm start and real relayed DORAs (bench/dhcp/in-process.ts, from the
 *   sources) under `--trace-deopt`: no "wrong map" of `buildReply` or `reply`, no bailout of `emit` or `report` for
 *   missing feedback or a wrong call target;
 * - the real handler's `report` is not compiled again after the warm start (the same bench under `--trace-opt`);
 * - `emit` keeps its code at the real log's first new listener, and the lease journal's and slots' `write` at the real
 *   file's first lease (children under `--allow-natives-syntax`: test/support/emit-feedback-main.ts,
 *   lease-feedback-main.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');

/** The functions V8 marks for deoptimisation because something their optimised code relied on changed. */
function invalidated(text: string): string[] {
  return [...text.matchAll(/\[marking dependent code .*?<SharedFunctionInfo (\S*?)>\).*?reason: code dependencies\]/g)].map((m) => m[1]!);
}

/** The functions a bailout line names, with its reason. */
function bailouts(text: string): { reason: string; fn: string }[] {
  const out: { reason: string; fn: string }[] = [];
  for (const m of text.matchAll(/\[bailout \(kind: [^,]+, reason: ([^)]*)\).*?<JSFunction (\S+)/g)) out.push({ reason: m[1]!, fn: m[2]! });
  return out;
}

/**
 * bench/dhcp/in-process.ts from the sources, the plugin's warm start of `warm` DORAs and then 2,000 real ones, under
 * node's `v8Flags`; its output. The bench's data dir is a temporary folder, removed after.
 */
function inProcessTrace(v8Flags: string[], warm: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-warm-trace-'));
  try {
    const args = ['bench/dhcp/in-process.ts', '--sources', '--cold', '--warm-start', String(warm), '--count', '2000', '--dir', dir];
    const r = spawnSync(process.execPath, [...v8Flags, 'bin/run-ts.mjs', ...args], {
      cwd: REPO,
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the reply path through the warm start', () => {
  it('reads bailouts as V8 prints them', () => {
    const line =
      '[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x3bf6d70fc2e9 <JSFunction reply (sfi = 0x33f4fd0117e9)>, 0x2f2790783c69 <Code TURBOFAN>, opt id 122';
    expect(bailouts(`${line}\n[marking 0x1 <JSFunction decode (sfi = 0x2)> for optimization]`)).toEqual([
      { reason: 'wrong map', fn: 'reply' },
    ]);
    const marked =
      '[marking dependent code 0x2d64b25fb1c1 <Code TURBOFAN> (0x0c8745c35f01 <SharedFunctionInfo emit>) (opt id 200) for deoptimization, reason: code dependencies]';
    const weak =
      '[marking dependent code 0x1 <Code TURBOFAN> (0x2 <SharedFunctionInfo render>) (opt id 3) for deoptimization, reason: weak objects]';
    expect(invalidated(`${marked}\n${weak}`)).toEqual(['emit']);
  });

  it(
    'has no "wrong map" bailout of buildReply or reply, no bailout of emit or report for its feedback or its call target, and the end of the warm start invalidates no reply code',
    { timeout: 120_000 },
    () => {
      // What V8 compiles, and when, depends on its compiler threads' timing: on a loaded machine (CI's other test files
      // on both cores) one run in six showed a bailout of `emit` for missing feedback that idle runs never show
      // (2026-12-06). So up to three runs, and the path passes when one of them is clean. A branch the warm start
      // leaves untrained bails out in every run that reaches it, so it still fails.
      const runs: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const out = inProcessTrace(['--trace-deopt'], 1000);
        const all = bailouts(out);
        // The trace is on: V8 printed bailouts of other functions in the same run (the warm start's own among them).
        expect(all.length).toBeGreaterThan(0);
        const summary = out.indexOf('warm start 1000 DORAs');
        expect(summary).toBeGreaterThan(0);
        const found = {
          wrongMap: all.filter((b) => b.reason === 'wrong map' && (b.fn === 'buildReply' || b.fn === 'reply')),
          // The log's full batch (the real log's 4,096 lines, reached by the DORAs after the warm start) was a branch
          // the scratch log never took ("insufficient type feedback"), and its clock another target ("wrong call
          // target"): event-log.ts SCRATCH_FLUSH_LINES, core/clock.ts. (A "wrong map" of `emit` at the event's input,
          // with other functions' at the same moment, comes and goes between runs of the same code: not this.)
          feedback: all.filter((b) => (b.fn === 'emit' || b.fn === 'report') && b.reason !== 'wrong map'),
          // Closing the scratch event log invalidated the optimised `emit` or `report` (plugin.ts, warmUp). Read up to
          // the bench's summary line, printed after the real DORAs: the bench closes its own log after it, which does
          // the same.
          invalidated: invalidated(out.slice(0, summary)).filter((f) => f === 'emit' || f === 'report'),
        };
        if (found.wrongMap.length + found.feedback.length + found.invalidated.length === 0) return;
        runs.push(found);
      }
      expect(runs, 'every run had a bailout of the reply path').toEqual([]);
    },
  );
});

describe("the real handler's closures after the warm start", () => {
  // A top-level optimisation job (`id{N,-1}`) of handler.ts's `report` closure, as `--print-opt-source` prints it.
  const REPORT_JOB = /--- FUNCTION SOURCE \(file:\/\/\S*server\/dhcp\/handler\.ts:\S*\) id\{\d+,-1\}[^\n]*\n[^\n]*requestEvent\(/;

  it("finds report's optimisation job in a trace as V8 prints it", () => {
    const job =
      '--- FUNCTION SOURCE (file:///r/server/dhcp/handler.ts:) id{169,-1} start{833} ---\n(type,r,msg,extra)=>d.events.emit(type,requestEvent(r,msg,extra))\n';
    expect(REPORT_JOB.test(job)).toBe(true);
    // Inlined into another job (id{N,0}): not a compile of its own.
    expect(REPORT_JOB.test(job.replace('{169,-1}', '{169,0}'))).toBe(false);
  });

  it("get the warm start's optimised code: report is not compiled again after the warm start", { timeout: 120_000 }, () => {
    // Compiled on the main thread (--no-concurrent-recompilation): one thread prints the trace, so its lines stay whole.
    const out = inProcessTrace(['--trace-opt', '--print-opt-source', '--no-concurrent-recompilation'], 4000);
    const done = out.indexOf('warm start done: done');
    expect(done).toBeGreaterThan(0);
    // The warm start compiled it: the trace is on and the pattern finds it.
    expect(REPORT_JOB.test(out.slice(0, done))).toBe(true);
    // Without the plugin holding the last warm handler (plugin.ts warmKept), the closing full collection took that
    // code and the first real DORAs compiled report again (three runs of three).
    expect(REPORT_JOB.test(out.slice(done))).toBe(false);
  });
});

/** A child under `--allow-natives-syntax` (test/support/*-feedback-main.ts): the JSON line it prints. */
function nativesChild(main: string, ...args: string[]): unknown {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', 'bin/run-ts.mjs', main, ...args], { cwd: REPO, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("the warm start's event log", () => {
  // `emit` optimised after the appliance's log called one listener and the warm start's log ran, then a listener never
  // called before gets an event.
  const run = (mode: 'bare' | 'warm') => nativesChild('test/support/emit-feedback-main.ts', mode);

  it('has listeners, so a new listener of the real log does not deoptimise emit (a scratch log without them does)', () => {
    const bare = run('bare');
    expect(bare).toEqual({ before: true, after: false, calls: 52 });
    const warm = run('warm');
    expect(warm).toEqual({ before: true, after: true, calls: 52 });
  });
});

describe("the warm start's lease files", () => {
  it("train the real lease file's write: its first lease keeps both writes optimised (a lease of another shape does not)", () => {
    // Before the change `after` was false: the real file's slots had an array of another elements kind ("wrong map"),
    // and its journal's first append opened the file and synced it, branches the warm start never took.
    expect(nativesChild('test/support/lease-feedback-main.ts')).toEqual({ before: true, after: true, other: false });
  });
});
