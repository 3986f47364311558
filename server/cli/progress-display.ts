/**
 * Progress on a terminal for long CLI commands (disk image build and import): a redrawn bar on a TTY,
 * one line per 10% otherwise (CI logs, pipes), so long work always shows it is moving.
 */

const MIB = 1024 * 1024;

/** Format bytes as MiB/GiB. */
export function formatBytes(n: number): string {
  return n >= 1024 * MIB ? `${(n / 1024 / MIB).toFixed(2)} GiB` : `${(n / MIB).toFixed(1)} MiB`;
}

/** A progress reporter for one stream of work. */
export class ProgressDisplay {
  private lastKey = '';
  private lastTenth = -1;
  private startedAt = Date.now();
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new phase: `[i/n] what`. */
  phase(i: number, n: number, what: string): void {
    this.endLine();
    this.out.write(`[${i}/${n}] ${what}\n`);
    this.startedAt = this.now();
    this.lastKey = '';
  }

  /** A status line without a byte count; off a terminal it is printed when `key` changes (default: the text). */
  status(text: string, key = text): void {
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K  ${text.slice(0, (this.out.columns ?? 100) - 3)}`);
      this.lastKey = text;
      return;
    }
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.out.write(`  ${text}\n`);
  }

  /** Bytes done of total (total 0 = unknown), with rate and ETA. */
  bytes(label: string, done: number, total: number): void {
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    const secs = Math.max(0.001, (this.now() - this.startedAt) / 1000);
    const rate = done / secs;
    const eta = total && rate > 0 ? ` ETA ${Math.ceil((total - done) / rate)} s` : '';
    const text = total
      ? `${label} [${'#'.repeat(Math.floor(pct / 4)).padEnd(25, '.')}] ${pct}% ${formatBytes(done)} of ${formatBytes(total)}, ${formatBytes(rate)}/s${eta}`
      : `${label} ${formatBytes(done)}, ${formatBytes(rate)}/s`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K  ${text}`);
      this.lastKey = text;
      return;
    }
    const tenth = total ? Math.floor(pct / 10) : Math.floor(done / (256 * MIB));
    if (tenth !== this.lastTenth || label !== this.lastKey) {
      this.lastTenth = tenth;
      this.lastKey = label;
      this.out.write(`  ${text}\n`);
    }
  }

  /** Finish a redrawn line. */
  endLine(): void {
    if (this.out.isTTY && this.lastKey) this.out.write('\n');
    this.lastKey = '';
  }
}
