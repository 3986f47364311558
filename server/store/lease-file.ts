/**
 * The lease file: every DHCP lease in memory, and `db/leases.db` as an append-only journal of its changes.
 *
 * Why not a nedb collection like the rest of the store: a DHCP exchange writes its lease twice (offer, ACK), and
 * through nedb each write deep-copied the document, serialized it, re-inserted it into two AVL indexes (`_id`,
 * `ip`) and kept a second copy of every lease beside the DHCP lease table's own: 17 % of a DORA's CPU in a
 * `perf record` of the pinned bench, and the copies it kept were garbage the young generation had to evacuate.
 * Here a write is one JSON line appended with write(2) (one line per lease of a group-commit batch, one call for
 * the batch), and the lease objects in memory are the ones the caller gave.
 *
 * The file keeps nedb's line format, so data dirs of earlier versions load unchanged and an earlier version can
 * read this one's file: one JSON document per line, a later line for the same `_id` replaces the earlier one,
 * `{"$$deleted":true,"_id":…}` removes it, nedb's `$$indexCreated`/`$$indexRemoved` lines are skipped. A torn
 * last line is cut before loading (repair.ts, as for every datafile); more than a tenth of lines unreadable is
 * `CC_ERR_STORE_CORRUPT` (nedb's own threshold); fewer are skipped and counted.
 *
 * Compaction (the store's schedule) rewrites the file with one line per live lease, only when some line is
 * superseded. Writes that arrive meanwhile wait for it and then go to the new file, so no acknowledged write
 * lands in the inode the rename replaces.
 */
import fs from 'node:fs';
import { GroupFsync } from './group-fsync.ts';
import { escapeLineBreaks } from './nedb.ts';
import { writeLinesDurably } from './durable-file.ts';
import { writeAllSync } from './write-all.ts';
import type { LeaseDoc } from './docs.ts';
import type { WriteOpts } from './collection.ts';
import { ccError } from '../errors/cc-error.ts';
import { ShardedMap } from '../core/sharded-map.ts';

/** Equality on top-level fields (`{}` matches every lease): the queries the appliance asks of leases. */
export type LeaseQuery = Partial<Record<keyof LeaseDoc & string, string | number | null>>;

/** Unreadable lines tolerated before the file is refused (nedb's `corruptAlertThreshold` default). */
const CORRUPT_SHARE = 0.1;

/** Leases in memory, journaled to one file. */
export class LeaseFile {
  readonly name = 'leases';
  readonly fsync: GroupFsync;
  /** In shards (a plain Map's growth stalls the DHCP server for ms at a time: core/sharded-map.ts); not in insertion order. */
  private readonly byId = new ShardedMap<string, LeaseDoc>();
  /** ip -> the `_id` holding it, or a Set of them (an expired lease and its successor can share an address). */
  private readonly byIp = new ShardedMap<string, string | Set<string>>();
  private fd: number | null = null;
  /** Lines in the file: more than the live leases means compaction has work. */
  private lines = 0;
  private compacting: Promise<void> | null = null;
  /** Unreadable lines skipped at load. */
  readonly skippedLines: number;

  private constructor(
    /** The journal, or null for a lease file with no disk behind it (the DHCP warm start's). */
    readonly filename: string | null,
    docs: Iterable<LeaseDoc>,
    lines: number,
    skipped: number,
  ) {
    this.fsync = new GroupFsync(filename ?? '/nonexistent/leases.db');
    for (const d of docs) this.index(d);
    this.lines = lines;
    this.skippedLines = skipped;
  }

  /** Load `filename` (created empty when missing). */
  static open(filename: string): LeaseFile {
    let text = '';
    try {
      text = fs.readFileSync(filename, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const { docs, lines, corrupt } = parseLeaseLines(text);
    if (corrupt > 0 && corrupt / lines > CORRUPT_SHARE)
      throw ccError('CC_ERR_STORE_CORRUPT', `${filename}: ${corrupt} of ${lines} lines are not lease documents`);
    fs.appendFileSync(filename, '', { mode: 0o600 });
    return new LeaseFile(filename, docs.values(), lines, corrupt);
  }

  /** A lease file kept in memory only: the same class and code path, nothing written. */
  static memory(): LeaseFile {
    return new LeaseFile(null, [], 0, 0);
  }

  /** Leases matching `q`, as copies. */
  async find(q: LeaseQuery = {}): Promise<LeaseDoc[]> {
    return this.match(q).map((d) => ({ ...d }));
  }

  /** One lease matching `q`, or null. */
  async findOne(q: LeaseQuery): Promise<LeaseDoc | null> {
    const d = this.match(q, 1)[0];
    return d ? { ...d } : null;
  }

  /** How many leases match `q`. */
  async count(q: LeaseQuery = {}): Promise<number> {
    return this.match(q).length;
  }

  /** Add a lease whose `_id` is not in the file yet. */
  async insert(doc: LeaseDoc, opts?: WriteOpts): Promise<LeaseDoc> {
    if (this.byId.has(doc._id)) throw new Error(`lease ${doc._id} already exists`);
    return this.put(doc, opts);
  }

  /** Write (add or replace) a lease; with `durable`, resolve once it is on disk. */
  async put(doc: LeaseDoc, opts?: WriteOpts): Promise<LeaseDoc> {
    await this.write([doc], [], opts?.durable ?? false);
    return doc;
  }

  /** Remove the leases matching `q`; returns how many there were. */
  async remove(q: LeaseQuery, opts?: WriteOpts): Promise<number> {
    const ids = this.match(q).map((d) => d._id);
    if (ids.length > 0) await this.write([], ids, opts?.durable ?? false);
    return ids.length;
  }

  /**
   * One journal append for a whole batch: `docs` written, `gone` removed. In memory once the append is in the
   * page cache; with `durable`, resolves after the fdatasync that covers it (shared by concurrent batches).
   */
  async write(docs: readonly LeaseDoc[], gone: readonly string[], durable: boolean): Promise<void> {
    while (this.compacting) await this.compacting;
    const out: string[] = [];
    for (const d of docs) out.push(leaseLine(d));
    for (const id of gone) if (this.byId.has(id)) out.push(JSON.stringify({ $$deleted: true, _id: id }));
    if (out.length === 0) return;
    this.append(out.join('\n') + '\n');
    this.lines += out.length;
    for (const d of docs) this.index(d);
    for (const id of gone) this.unindex(id);
    if (durable && this.filename !== null) await this.fsync.sync();
  }

  /** Rewrite the file with one line per lease, if any line is superseded. Writes wait meanwhile. */
  async compact(): Promise<void> {
    while (this.compacting) await this.compacting;
    if (this.filename === null || this.lines <= this.byId.size) return;
    const file = this.filename;
    const docs = [...this.byId.values()];
    this.compacting = (async () => {
      await writeLinesDurably(file, docs.map(leaseLine));
      this.closeAppend();
      await this.fsync.reopen();
      this.lines = docs.length;
    })();
    try {
      await this.compacting;
    } finally {
      this.compacting = null;
    }
  }

  /** Wait for a compaction, then close the descriptors. */
  async close(): Promise<void> {
    while (this.compacting) await this.compacting.catch(() => undefined);
    this.closeAppend();
    await this.fsync.close();
  }

  private append(text: string): void {
    if (this.filename === null) return;
    if (this.fd === null) this.fd = fs.openSync(this.filename, 'a', 0o600);
    writeAllSync(this.fd, text);
  }

  private closeAppend(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private index(d: LeaseDoc): void {
    const old = this.byId.get(d._id);
    if (old && old.ip !== d.ip) this.dropIp(old.ip, d._id);
    this.byId.set(d._id, d);
    const held = this.byIp.get(d.ip);
    if (held === undefined || held === d._id) this.byIp.set(d.ip, d._id);
    else if (typeof held === 'string') this.byIp.set(d.ip, new Set([held, d._id]));
    else held.add(d._id);
  }

  private unindex(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    this.dropIp(old.ip, id);
  }

  private dropIp(ip: string, id: string): void {
    const held = this.byIp.get(ip);
    if (held === id) this.byIp.delete(ip);
    else if (held instanceof Set) {
      held.delete(id);
      if (held.size === 1) this.byIp.set(ip, held.values().next().value!);
    }
  }

  /** The `_id`s holding `ip`. */
  private idsAt(ip: string): string[] {
    const held = this.byIp.get(ip);
    return held === undefined ? [] : typeof held === 'string' ? [held] : [...held];
  }

  private match(q: LeaseQuery, limit = Infinity): LeaseDoc[] {
    const keys = Object.keys(q) as (keyof LeaseQuery)[];
    let pool: Iterable<LeaseDoc>;
    if (typeof q._id === 'string') {
      const d = this.byId.get(q._id);
      pool = d ? [d] : [];
    } else if (typeof q.ip === 'string') {
      pool = this.idsAt(q.ip).map((id) => this.byId.get(id)!);
    } else pool = this.byId.values();
    const out: LeaseDoc[] = [];
    for (const d of pool) {
      if (keys.every((k) => d[k] === q[k])) out.push(d);
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** One journal line: the document's JSON with the line breaks nedb's reader splits on escaped (nedb.ts). */
export function leaseLine(d: LeaseDoc): string {
  return escapeLineBreaks(JSON.stringify(d));
}

/** Replay journal text (nedb's line format): the live leases, the lines read and how many were unreadable. Pure. */
export function parseLeaseLines(text: string): { docs: Map<string, LeaseDoc>; lines: number; corrupt: number } {
  const docs = new Map<string, LeaseDoc>();
  let lines = 0;
  let corrupt = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lines++;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      corrupt++;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      corrupt++;
      continue;
    }
    const o = v as Record<string, unknown>;
    if ('$$indexCreated' in o || '$$indexRemoved' in o) continue;
    if (typeof o._id !== 'string') {
      corrupt++;
      continue;
    }
    if (o.$$deleted === true) docs.delete(o._id);
    else if (isLease(o)) docs.set(o._id, o);
    else corrupt++;
  }
  return { docs, lines, corrupt };
}

function isLease(o: Record<string, unknown>): o is LeaseDoc {
  return typeof o.mac === 'string' && typeof o.ip === 'string' && typeof o.state === 'string' && typeof o.expires_at === 'number';
}
