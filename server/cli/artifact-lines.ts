/**
 * One progress display for many artifacts: one line each (state, bar and percentage where bytes
 * are known, the step), redrawn in place on a terminal; on a pipe (CI, tests) a log line whenever
 * an artifact's state or step changes, and byte progress in quarters, so logs stay readable.
 */
import type { LineUpdate } from '../prepare/artifact.ts';

/** Where lines go: a terminal or not. */
export interface LineSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const ESC = '\u001b[';
/** Redraws at most this often on a terminal (a build prints hundreds of lines a second at times). */
const REDRAW_MS = 100;

const mib = (n: number) => `${(n / 1048576).toFixed(1)}`;

/** Text of one line, bar included when bytes are known. Pure. */
export function lineText(label: string, width: number, u: LineUpdate): string {
  let bytes = '';
  if (u.total && u.total > 0) {
    const pct = Math.min(100, Math.floor(((u.done ?? 0) / u.total) * 100));
    const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
    bytes = ` [${bar}] ${String(pct).padStart(3)}% ${mib(u.done ?? 0)}/${mib(u.total)} MiB`;
  }
  return `  ${label.padEnd(width)}  ${u.state.padEnd(11)}${bytes} ${u.detail ?? ''}`.trimEnd();
}

/** The display. */
export class ArtifactLines {
  private readonly lines = new Map<string, { label: string; u: LineUpdate; logged: string; quarter: number }>();
  private readonly width: number;
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: LineSink,
    entries: readonly { id: string; label: string }[],
  ) {
    this.width = Math.max(...entries.map((e) => e.label.length), 10);
    for (const e of entries) this.lines.set(e.id, { label: e.label, u: { state: 'waiting' }, logged: '', quarter: -1 });
    if (this.out.isTTY) this.draw();
  }

  /** New state for line `id`. */
  update(id: string, u: LineUpdate): void {
    const l = this.lines.get(id);
    if (!l) return;
    l.u = u;
    if (this.out.isTTY) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.draw();
      }, REDRAW_MS);
      return;
    }
    const key = `${u.state} ${u.detail ?? ''}`;
    const quarter = u.total ? Math.floor(((u.done ?? 0) / u.total) * 4) : -1;
    if (key === l.logged && quarter === l.quarter) return;
    l.logged = key;
    l.quarter = quarter;
    this.out.write(lineText(l.label, this.width, u) + '\n');
  }

  private draw(): void {
    const cols = this.out.columns ?? 120;
    let s = this.drawn > 0 ? `${ESC}${this.drawn}F` : '';
    for (const l of this.lines.values()) s += `${ESC}2K${lineText(l.label, this.width, l.u).slice(0, cols - 1)}\n`;
    this.drawn = this.lines.size;
    this.out.write(s);
  }

  /** Final redraw (terminal) and stop. */
  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.out.isTTY) this.draw();
  }
}
