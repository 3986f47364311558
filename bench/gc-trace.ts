/**
 * V8's `--trace-gc-nvp` lines, read: one line per collection, `name=value` pairs after the process's time in ms.
 * The benches pass the flag to `serve` (bench/dhcp `--trace-gc`) and summarise the collections of a step: the
 * pause of each scavenge, its copying phase (`scavenge.parallel`, on the main thread under `--single-threaded-gc`)
 * and the bytes that survived it, which is what the copying costs grow with. Pure: text in, figures out.
 */
import { median, percentileOf } from './percentile.ts';

/** One collection. */
export interface GcEvent {
  /** Milliseconds since the isolate started. */
  atMs: number;
  /** `s` (scavenge), `mc` (mark-compact), ... as V8 names it. */
  kind: string;
  pauseMs: number;
  /** The scavenge's copying phase; null for other kinds. */
  copyMs: number | null;
  /** The scavenge's sweep of dead ArrayBuffers' backing stores (`scavenge.sweep_array_buffers`); null for other kinds. */
  sweepBuffersMs: number | null;
  /** Bytes that survived in (or were promoted from) the young generation. */
  survivedBytes: number;
}

const LINE = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (.*)$/;

/** Every collection in `text` (other lines are skipped: the server prints its own output between them). */
export function parseGcTrace(text: string): GcEvent[] {
  const out: GcEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const kv = new Map<string, string>();
    for (const pair of m[2]!.split(' ')) {
      const eq = pair.indexOf('=');
      if (eq > 0) kv.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const kind = kv.get('gc');
    const pause = Number(kv.get('pause'));
    if (kind === undefined || !Number.isFinite(pause)) continue;
    const copy = kind === 's' ? Number(kv.get('scavenge.parallel')) : NaN;
    const sweep = kind === 's' ? Number(kv.get('scavenge.sweep_array_buffers')) : NaN;
    out.push({
      atMs: Number(m[1]),
      kind,
      pauseMs: pause,
      copyMs: Number.isFinite(copy) ? copy : null,
      sweepBuffersMs: Number.isFinite(sweep) ? sweep : null,
      survivedBytes: Number(kv.get('new_space_survived') ?? 0) || 0,
    });
  }
  return out;
}

const p90 = (xs: number[]) => percentileOf(xs, 90);

/** What the collections of a step came to. */
export interface GcSummary {
  scavenges: number;
  pauseMedianMs: number;
  pauseP90Ms: number;
  copyMedianMs: number;
  sweepBuffersMedianMs: number;
  survivedMedianKB: number;
  fullCollections: number;
  fullPauseMaxMs: number;
}

/** Summarise collections (all of them: the caller picks the span). */
export function summarizeGc(events: readonly GcEvent[]): GcSummary {
  const s = events.filter((e) => e.kind === 's');
  const full = events.filter((e) => e.kind !== 's');
  return {
    scavenges: s.length,
    pauseMedianMs: median(s.map((e) => e.pauseMs)),
    pauseP90Ms: p90(s.map((e) => e.pauseMs)),
    copyMedianMs: median(s.flatMap((e) => (e.copyMs === null ? [] : [e.copyMs]))),
    sweepBuffersMedianMs: median(s.flatMap((e) => (e.sweepBuffersMs === null ? [] : [e.sweepBuffersMs]))),
    survivedMedianKB: median(s.map((e) => e.survivedBytes / 1000)),
    fullCollections: full.length,
    fullPauseMaxMs: full.reduce((m, e) => Math.max(m, e.pauseMs), 0),
  };
}

/** One line for a bench log: `48 scavenges, pause 0.9 ms median (p90 1.2), copying 0.45 ms, buffer sweep 0.30 ms, survived 55 KB; no full`. */
export function gcLine(g: GcSummary): string {
  if (g.scavenges === 0 && g.fullCollections === 0) return 'no collection';
  const full = g.fullCollections === 0 ? 'no full collection' : `${g.fullCollections} full (longest ${g.fullPauseMaxMs.toFixed(1)} ms)`;
  return (
    `${g.scavenges} scavenges, pause ${g.pauseMedianMs.toFixed(2)} ms median (p90 ${g.pauseP90Ms.toFixed(2)}), ` +
    `copying ${g.copyMedianMs.toFixed(2)} ms, buffer sweep ${g.sweepBuffersMedianMs.toFixed(2)} ms, survived ${g.survivedMedianKB.toFixed(0)} KB; ${full}`
  );
}
