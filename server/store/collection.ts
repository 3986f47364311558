/** One nedb datastore with durable (fsync'ed, group-committed) writes on request. */
import { appendsTo, Datastore } from './nedb.ts';
import { GroupFsync } from './group-fsync.ts';

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
   */
  constructor(
    readonly name: string,
    readonly ds: Datastore<T>,
    readonly filename: string,
    private readonly opaque: readonly string[] = [],
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
