/**
 * Batches task progress: at most one report every `intervalMs` (the UI wants a live bar, the appliance
 * must not get one request per 64 KiB chunk), with MB/s and ETA over the phase.
 */
import type { TaskProgress } from '../../contract/agent-tasks.ts';

/** Default spacing of progress reports. */
export const PROGRESS_INTERVAL_MS = 2000;

/** One phase's progress meter. */
export class ProgressMeter {
  private last = 0;
  private readonly t0: number;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly phase: string,
    private readonly total: number,
    private readonly send: (p: TaskProgress) => Promise<void>,
    private readonly detail?: string,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.t0 = now();
  }

  /** The progress record for `done` bytes. Pure apart from the clock. */
  snapshot(done: number, resumes?: number): TaskProgress {
    const secs = Math.max((this.now() - this.t0) / 1000, 0.001);
    const rate = done / secs;
    return {
      phase: this.phase,
      bytes_done: done,
      bytes_total: this.total,
      percent: this.total > 0 ? Math.min(100, Math.round((done / this.total) * 1000) / 10) : 0,
      mbps: Math.round((rate / 1e6) * 10) / 10,
      eta_s: rate > 0 && this.total > 0 ? Math.max(0, Math.round((this.total - done) / rate)) : null,
      ...(resumes !== undefined ? { resumes } : {}),
      ...(this.detail ? { detail: this.detail } : {}),
    };
  }

  /** Report `done` if the last report is older than the interval (never two in flight). */
  tick(done: number, resumes?: number): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    const p = this.snapshot(done, resumes);
    this.pending = this.pending.then(() => this.send(p).catch(() => undefined));
  }

  /** Report the final figure of the phase and wait for queued reports. */
  async finish(done: number, resumes?: number): Promise<TaskProgress> {
    const p = this.snapshot(done, resumes);
    this.pending = this.pending.then(() => this.send(p).catch(() => undefined));
    await this.pending;
    return p;
  }
}
