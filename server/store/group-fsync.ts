/**
 * Group commit: many writers that need "on disk before I answer" share one
 * fdatasync. A caller joins the next sync that starts after its write landed.
 */
import fs from 'node:fs/promises';

/** Coalesces fdatasync calls on one file. */
export class GroupFsync {
  private handle: fs.FileHandle | null = null;
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** How many fdatasync calls were made (for benchmarks and tests). */
  syncs = 0;

  constructor(private readonly filename: string) {}

  /** Resolve once everything written to the file before this call is on disk. */
  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.doSync().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // A sync is in flight and may have started before our write: wait for the next one.
    if (!this.next) {
      this.next = this.running.then(() => {
        this.next = null;
        return this.sync();
      });
    }
    return this.next;
  }

  /** Forget the open handle (the file was replaced by compaction). */
  async reopen(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => undefined);
  }

  private async doSync(): Promise<void> {
    if (!this.handle) this.handle = await fs.open(this.filename, 'r');
    await this.handle.datasync();
    this.syncs++;
  }

  /** Close the handle. */
  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.reopen();
  }
}
