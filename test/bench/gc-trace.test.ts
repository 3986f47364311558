/**
 * bench/gc-trace.ts against real `--trace-gc-nvp` lines of `crashcart serve` (test/fixtures/bench), with the
 * server's own output between them, and against lines that are not a collection.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcLine, parseGcTrace, summarizeGc } from '../../bench/gc-trace.ts';

const captured = fs.readFileSync(path.join(import.meta.dirname, '../fixtures/bench/v8-trace-gc-nvp.txt'), 'utf8');

describe('bench/gc-trace', () => {
  it('reads a scavenge and a mark-compact as V8 printed them', () => {
    expect(parseGcTrace(captured)).toEqual([
      { atMs: 7754, kind: 's', pauseMs: 0.9, copyMs: 0.44, sweepBuffersMs: 0.06, survivedBytes: 55400 },
      { atMs: 1090, kind: 'mc', pauseMs: 12.9, copyMs: null, sweepBuffersMs: null, survivedBytes: 0 },
    ]);
  });

  it('skips what the server prints between them, and lines that only look like one', () => {
    const text = [
      'Crashcart readiness (full DHCP):',
      captured.split('\n')[0],
      '[21465:0x2fea2950]     7760 ms: Scavenge 40.1 (48.2) -> 39.9 (48.2) MB, 0.9 / 0.0 ms',
      '[21465:0x2fea2950]     7761 ms: pause=oops gc=s',
      '  data: /tmp/x',
    ].join('\n');
    expect(parseGcTrace(text).map((e) => e.atMs)).toEqual([7754]);
  });

  it('summarises the scavenges apart from the full collections', () => {
    const s = (atMs: number, pauseMs: number, copyMs: number, sweepBuffersMs: number, kb: number) => ({
      atMs,
      kind: 's',
      pauseMs,
      copyMs,
      sweepBuffersMs,
      survivedBytes: kb * 1000,
    });
    const g = summarizeGc([
      s(1, 1.0, 0.5, 0.1, 50),
      s(2, 3.0, 2.0, 0.9, 120),
      s(3, 1.2, 0.6, 0.3, 60),
      { atMs: 4, kind: 'mc', pauseMs: 14, copyMs: null, sweepBuffersMs: null, survivedBytes: 0 },
    ]);
    expect(g).toEqual({
      scavenges: 3,
      pauseMedianMs: 1.2,
      pauseP90Ms: 3.0,
      copyMedianMs: 0.6,
      sweepBuffersMedianMs: 0.3,
      survivedMedianKB: 60,
      fullCollections: 1,
      fullPauseMaxMs: 14,
    });
    expect(gcLine(g)).toBe(
      '3 scavenges, pause 1.20 ms median (p90 3.00), copying 0.60 ms, buffer sweep 0.30 ms, survived 60 KB; 1 full (longest 14.0 ms)',
    );
    expect(gcLine(summarizeGc([]))).toBe('no collection');
  });
});
