/**
 * Lease persistence with group commit. Writes that arrive while a batch is
 * on its way to disk form the next batch: one journal append for the whole
 * batch (store/lease-file.ts) and one fdatasync covering it. A write resolves
 * only when its batch is on disk (when `durable`), so "an ACKed lease is on
 * disk before the ACK leaves" holds while thousands of clients share each fsync.
 */
import type { LeaseFile } from '../store/lease-file.ts';
import type { LeaseDoc } from '../store/docs.ts';

interface Pending {
  doc: LeaseDoc | null; // null = remove
  durable: boolean;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/** Batches lease writes into one journal append and one fsync per batch. */
export class LeaseStore {
  private queue = new Map<string, Pending>();
  private running: Promise<void> | null = null;
  /** Batches written and their total size (for stats and the benchmark). */
  batches = 0;
  batchedDocs = 0;

  constructor(private readonly file: LeaseFile) {}

  /** fdatasyncs of the lease file that went to the disk, and their mean and longest wait in ms. */
  get diskSyncs(): { count: number; meanMs: number; maxMs: number } {
    const f = this.file.fsync;
    return { count: f.diskSyncs, meanMs: f.diskSyncs ? f.diskMs / f.diskSyncs : 0, maxMs: f.diskMsMax };
  }

  /** Every lease the file holds. */
  loadAll(): Promise<LeaseDoc[]> {
    return this.file.find({});
  }
  /** Write (upsert) a lease; resolves once it is in the file (and fsynced when `durable`). */
  put(doc: LeaseDoc, durable: boolean): Promise<void> {
    return this.enqueue(doc._id, doc, durable);
  }

  /** Remove a lease. */
  remove(mac: string): Promise<void> {
    return this.enqueue(mac, null, false);
  }

  private enqueue(id: string, doc: LeaseDoc | null, durable: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const p = this.queue.get(id);
      // A later write of the same MAC replaces the queued one; both callers wait for the batch.
      if (p) {
        p.doc = doc;
        p.durable = p.durable || durable;
        p.waiters.push({ resolve, reject });
      } else {
        this.queue.set(id, { doc, durable, waiters: [{ resolve, reject }] });
      }
      if (!this.running) this.running = this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0) {
      const batch = this.queue;
      this.queue = new Map();
      try {
        await this.writeBatch(batch);
        for (const p of batch.values()) for (const w of p.waiters) w.resolve();
      } catch (e) {
        for (const p of batch.values()) for (const w of p.waiters) w.reject(e);
      }
    }
    this.running = null;
  }

  private async writeBatch(batch: Map<string, Pending>): Promise<void> {
    const docs: LeaseDoc[] = [];
    const gone: string[] = [];
    let durable = false;
    for (const [id, p] of batch) {
      durable ||= p.durable;
      if (p.doc === null) gone.push(id);
      else docs.push(p.doc);
    }
    this.batches++;
    this.batchedDocs += batch.size;
    await this.file.write(docs, gone, durable);
  }
}
