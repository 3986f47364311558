/**
 * Lease persistence with group commit. Writes that arrive while a batch is
 * on its way to disk form the next batch: leases new to the file go in one
 * append (`insertMany`), known ones are upserted, and one fdatasync covers
 * the whole batch. A write resolves only when its batch is on disk (when
 * `durable`), so "an ACKed lease is on disk before the ACK leaves" holds
 * while thousands of clients share each fsync.
 */
import type { Collection } from '../store/collection.ts';
import type { LeaseDoc } from '../store/docs.ts';

interface Pending {
  doc: LeaseDoc | null; // null = remove
  durable: boolean;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/** Batches lease writes into few store operations and one fsync per batch. */
export class LeaseStore {
  private readonly onDisk = new Set<string>();
  private queue = new Map<string, Pending>();
  private running: Promise<void> | null = null;
  /** Batches written and their total size (for stats and the benchmark). */
  batches = 0;
  batchedDocs = 0;

  constructor(private readonly col: Collection<LeaseDoc>) {}

  /** fdatasyncs of the lease file that went to the disk, and their mean and longest wait in ms. */
  get diskSyncs(): { count: number; meanMs: number; maxMs: number } {
    const f = this.col.fsync;
    return { count: f.diskSyncs, meanMs: f.diskSyncs ? f.diskMs / f.diskSyncs : 0, maxMs: f.diskMsMax };
  }

  /** Load every lease and remember which MACs the file already holds. */
  async loadAll(): Promise<LeaseDoc[]> {
    const docs = await this.col.find({});
    for (const d of docs) this.onDisk.add(d._id);
    return docs;
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
    const fresh: LeaseDoc[] = [];
    const known: LeaseDoc[] = [];
    const gone: string[] = [];
    let durable = false;
    for (const [id, p] of batch) {
      durable ||= p.durable;
      if (p.doc === null) gone.push(id);
      else if (this.onDisk.has(id)) known.push(p.doc);
      else fresh.push(p.doc);
    }
    this.batches++;
    this.batchedDocs += batch.size;
    const ops: Promise<unknown>[] = [];
    if (fresh.length > 0) ops.push(this.insertFresh(fresh));
    for (const d of known) ops.push(this.col.put(d));
    if (gone.length > 0) ops.push(this.col.remove({ _id: { $in: gone } }, { multi: true }));
    await Promise.all(ops);
    for (const d of fresh) this.onDisk.add(d._id);
    for (const id of gone) this.onDisk.delete(id);
    if (durable) await this.col.fsync.sync();
  }

  /** One append for all new leases; if one unexpectedly exists, nedb rejects the lot: upsert one by one. */
  private async insertFresh(docs: LeaseDoc[]): Promise<void> {
    try {
      await this.col.insertMany(docs);
    } catch {
      await Promise.all(docs.map((d) => this.col.put(d)));
    }
  }
}
