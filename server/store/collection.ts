/** One nedb datastore with durable (fsync'ed, group-committed) writes on request. */
import {
  appendsTo,
  appendWhole,
  asOneOperation,
  cutBack,
  Datastore,
  deserializeLine,
  indexedFields,
  replaceInMemory,
  serializeDoc,
} from './nedb.ts';
import { GroupFsync } from './group-fsync.ts';
import { batchLine } from './batch.ts';

/** Write options: `durable` waits until the write is on disk. */
export interface WriteOpts {
  durable?: boolean;
}

/** Documents stored here always carry a string _id. */
export type Doc = { _id: string } & Record<string, unknown>;

type Query = Record<string, unknown>;

/** A typed wrapper over one nedb datastore. */
export class Collection<T extends Doc> {
  readonly fsync: GroupFsync;

  /**
   * @param opaque fields stored as JSON text: nedb refuses keys with "." or a
   *   leading "$", and facts ("macaddress_eth0.100"), templates ("preseed.cfg")
   *   and metadata are user keys.
   * @param batches the file was opened for `putBatch` (store.ts expands batch lines before nedb loads it)
   */
  constructor(
    readonly name: string,
    readonly ds: Datastore<T>,
    readonly filename: string,
    private readonly opaque: readonly string[] = [],
    readonly batches = false,
  ) {
    this.fsync = new GroupFsync(filename, () => appendsTo(filename));
    ds.on('compaction.done', () => void this.fsync.reopen());
  }

  private enc(doc: T): T {
    if (this.opaque.length === 0) return doc;
    const out: Record<string, unknown> = { ...doc };
    for (const f of this.opaque) if (out[f] !== undefined) out[f] = JSON.stringify(out[f]);
    return out as T;
  }

  private dec(doc: T): T {
    for (const f of this.opaque) if (typeof doc[f] === 'string') (doc as Record<string, unknown>)[f] = JSON.parse(doc[f] as string);
    return doc;
  }

  private async after<R>(r: R, opts?: WriteOpts): Promise<R> {
    if (opts?.durable) await this.fsync.sync();
    return r;
  }

  /** Find documents, optionally sorted. */
  async find(q: Query = {}, sort?: Record<string, 1 | -1>, limit?: number): Promise<T[]> {
    let c = this.ds.findAsync(q);
    if (sort) c = c.sort(sort);
    if (limit !== undefined) c = c.limit(limit);
    return ((await c) as T[]).map((d) => this.dec(d));
  }

  /** Find one document or null. */
  async findOne(q: Query): Promise<T | null> {
    const d = (await this.ds.findOneAsync(q)) as T | null;
    return d ? this.dec(d) : null;
  }

  /** Count documents. */
  count(q: Query = {}): Promise<number> {
    return this.ds.countAsync(q);
  }

  /** Insert one document. */
  async insert(doc: T, opts?: WriteOpts): Promise<T> {
    await this.ds.insertAsync(this.enc(doc));
    return this.after(doc, opts);
  }

  /** Insert many documents in one append. */
  async insertMany(docs: T[], opts?: WriteOpts): Promise<T[]> {
    if (docs.length === 0) return [];
    await this.ds.insertAsync(docs.map((d) => this.enc(d)));
    return this.after(docs, opts);
  }

  /** Replace the document with this _id (upsert). */
  async put(doc: T, opts?: WriteOpts): Promise<T> {
    await this.ds.updateAsync({ _id: doc._id }, this.enc(doc), { upsert: true });
    return this.after(doc, opts);
  }

  /**
   * Replace (upsert) several documents as one unit: one line (batch.ts), so a crash keeps all of them or none.
   * Nothing changes in memory until the line is written (and, with `durable`, on disk): a write or fsync that fails
   * is cut back off the file, rejects with the system error (ENOSPC, EIO: CC_ERR_DISK_WRITE at the edge) and leaves
   * the collection as it was, in memory and on disk.
   */
  async putBatch(docs: readonly T[], opts?: WriteOpts): Promise<void> {
    if (!this.batches) throw new Error(`${this.name}: putBatch needs the collection opened for batches (store.ts)`);
    // Putting the documents in memory after the line is on disk must not fail: only the unique _id index may check them.
    if (indexedFields(this.ds).some((f) => f !== '_id')) throw new Error(`${this.name}: putBatch on a collection with indexes`);
    if (new Set(docs.map((d) => d._id)).size !== docs.length) throw new Error(`${this.name}: a batch names a document twice`);
    if (docs.length === 0) return;
    // Serializing checks every key as nedb would (before anything is written); memory gets what a load would read back.
    const lines = docs.map((d) => serializeDoc(this.enc(d)));
    const stored = lines.map((l) => deserializeLine(l) as T);
    await asOneOperation(this.ds, async () => {
      const before = appendWhole(this.filename, batchLine(lines));
      if (opts?.durable) {
        try {
          await this.fsync.sync();
        } catch (e) {
          cutBack(this.filename, before);
          throw e;
        }
      }
      replaceInMemory(this.ds, stored);
    });
  }

  /** Apply a nedb update (`$set`, ...) to matching documents. */
  async update(q: Query, update: Query, opts?: WriteOpts & { multi?: boolean }): Promise<number> {
    const r = await this.ds.updateAsync(q, update, { multi: opts?.multi ?? false });
    return this.after(r.numAffected, opts);
  }

  /** Remove matching documents. */
  async remove(q: Query, opts?: WriteOpts & { multi?: boolean }): Promise<number> {
    return this.after(await this.ds.removeAsync(q, { multi: opts?.multi ?? false }), opts);
  }

  /** Rewrite the datafile without superseded lines. */
  async compact(): Promise<void> {
    await this.ds.compactDatafileAsync();
    await this.fsync.reopen();
  }
}
