/** One nedb datastore with durable (fsync'ed, group-committed) writes on request. */
import { Datastore } from './nedb.ts';
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

  constructor(
    readonly name: string,
    readonly ds: Datastore<T>,
    readonly filename: string,
  ) {
    this.fsync = new GroupFsync(filename);
    ds.on('compaction.done', () => void this.fsync.reopen());
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
    return (await c) as T[];
  }

  /** Find one document or null. */
  async findOne(q: Query): Promise<T | null> {
    return (await this.ds.findOneAsync(q)) as T | null;
  }

  /** Count documents. */
  count(q: Query = {}): Promise<number> {
    return this.ds.countAsync(q);
  }

  /** Insert one document. */
  async insert(doc: T, opts?: WriteOpts): Promise<T> {
    return this.after((await this.ds.insertAsync(doc)) as T, opts);
  }

  /** Insert many documents in one append. */
  async insertMany(docs: T[], opts?: WriteOpts): Promise<T[]> {
    if (docs.length === 0) return [];
    return this.after((await this.ds.insertAsync(docs)) as unknown as T[], opts);
  }

  /** Replace the document with this _id (upsert). */
  async put(doc: T, opts?: WriteOpts): Promise<T> {
    await this.ds.updateAsync({ _id: doc._id }, doc, { upsert: true });
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
