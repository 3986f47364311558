/**
 * The lease file: every DHCP lease in memory, and `db/leases.db` as an append-only journal of its changes.
 *
 * Why not a nedb collection like the rest of the store: a DHCP exchange writes its lease twice (offer, ACK), and
 * through nedb each write deep-copied the document, serialized it, re-inserted it into two AVL indexes (`_id`,
 * `ip`) and kept a second copy of every lease beside the DHCP lease table's own: 17 % of a DORA's CPU in a
 * `perf record` of the pinned bench, and the copies it kept were garbage the young generation had to evacuate.
 * Here a write is one JSON line appended with write(2) (one line per lease of a group-commit batch, one call for
 * the batch), and in memory a lease is a slot of numbers (lease-slots.ts), not an object a scavenge copies.
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
import { DEFAULT_ENTRIES, NumberIndex } from '../core/number-index.ts';
import { IdSlots, LeaseSlots } from './lease-slots.ts';
import { intToIp, ipToInt } from '../net/ipv4.ts';

/** Equality on top-level fields (`{}` matches every lease): the queries the appliance asks of leases. */
export type LeaseQuery = Partial<Record<keyof LeaseDoc & string, string | number | null>>;

/** Unreadable lines tolerated before the file is refused (nedb's `corruptAlertThreshold` default). */
const CORRUPT_SHARE = 0.1;

const NULL_DEVICE = '/dev/null';
let nullFd: number | null = null;

/**
 * The descriptor a lease file appends to: its journal, opened (created when missing) with the file, or for a lease
 * file with no disk behind it `/dev/null`, opened once per process and never closed. Either way an append is the
 * same code, write(2) included, and no branch of it is first taken at the first real lease: an append that returned
 * early in the DHCP warm start, a journal opened at the first append, and a sync skipped without a disk each left
 * that lease to throw the optimised `write` away ("insufficient type feedback"; docs/perf/changes.md, "Two
 * deoptimisations at the first real lease").
 */
function journalFd(filename: string | null): number {
  if (filename !== null) return fs.openSync(filename, 'a', 0o600);
  return (nullFd ??= fs.openSync(NULL_DEVICE, 'a'));
}

/** Leases in memory, journaled to one file. */
export class LeaseFile {
  readonly name = 'leases';
  readonly fsync: GroupFsync;
  /**
   * The leases as numbers in typed arrays (lease-slots.ts), indexed off V8's heap: a lease kept as objects was what
   * every scavenge under DHCP load copied (docs/perf/changes.md, "Leases off the heap"). Not in insertion order.
   */
  private readonly leases: LeaseSlots;
  private readonly byId: IdSlots;
  /** Address (as a number) -> the one slot holding it; more than one (an expired lease and its successor) in `ipShared`. */
  private readonly byIp: NumberIndex;
  private readonly ipShared = new Map<number, Set<number>>();
  /** Slots of leases whose address is not a dotted quad (data written by something else), by that address. */
  private readonly oddIp = new Map<string, Set<number>>();
  /** The journal's descriptor for appends (journalFd), opened with the file: -1 while closed. */
  private fd: number;
  /** Lines in the file: more than the live leases means compaction has work. */
  private lines = 0;
  private compacting: Promise<void> | null = null;
  /** close() ran: an append is refused. */
  private closed = false;
  /** Unreadable lines skipped at load. */
  readonly skippedLines: number;

  private constructor(
    /** The journal, or null for a lease file with no disk behind it (the DHCP warm start's). */
    readonly filename: string | null,
    docs: Iterable<LeaseDoc>,
    lines: number,
    skipped: number,
    entries = DEFAULT_ENTRIES,
  ) {
    this.leases = new LeaseSlots(entries);
    this.byId = new IdSlots(entries);
    this.byIp = new NumberIndex(entries);
    // With no disk, the group commit runs on /dev/null: its file system is memory (devtmpfs), so a sync is counted
    // and no fdatasync is made, as for a real journal on tmpfs (and the same code runs as for one on a disk).
    this.fsync = new GroupFsync(filename ?? NULL_DEVICE);
    this.fd = journalFd(filename);
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
    return new LeaseFile(filename, docs.values(), lines, corrupt);
  }

  /** A lease file kept in memory only: the same class and code path, its journal `/dev/null` (journalFd); room for `entries` leases up front. */
  static memory(entries = DEFAULT_ENTRIES): LeaseFile {
    return new LeaseFile(null, [], 0, 0, entries);
  }

  /** Leases matching `q`, as new documents. */
  async find(q: LeaseQuery = {}): Promise<LeaseDoc[]> {
    return this.match(q);
  }

  /** One lease matching `q`, or null. */
  async findOne(q: LeaseQuery): Promise<LeaseDoc | null> {
    return this.match(q, 1)[0] ?? null;
  }

  /** How many leases match `q`. */
  async count(q: LeaseQuery = {}): Promise<number> {
    return Object.keys(q).length === 0 ? this.leases.size : this.match(q).length;
  }

  /** Add a lease whose `_id` is not in the file yet. */
  async insert(doc: LeaseDoc, opts?: WriteOpts): Promise<LeaseDoc> {
    if (this.byId.get(doc._id) >= 0) throw new Error(`lease ${doc._id} already exists`);
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
    for (const id of gone) if (this.byId.get(id) >= 0) out.push(JSON.stringify({ $$deleted: true, _id: id }));
    if (out.length === 0) return;
    this.append(out.join('\n') + '\n');
    this.lines += out.length;
    for (const d of docs) this.index(d);
    for (const id of gone) this.unindex(id);
    if (durable) await this.fsync.sync();
  }

  /** Rewrite the file with one line per lease, if any line is superseded. Writes wait meanwhile. */
  async compact(): Promise<void> {
    while (this.compacting) await this.compacting;
    if (this.filename === null || this.lines <= this.leases.size) return;
    const file = this.filename;
    const docs = [...this.leases.slots()].map((s) => this.leases.doc(s));
    this.compacting = (async () => {
      await writeLinesDurably(file, docs.map(leaseLine));
      this.closeAppend();
      await this.fsync.reopen();
      this.lines = docs.length;
      // Opened now, not at the next append (journalFd); when that fails (EMFILE, ...), the next append tries again.
      this.fd = journalFd(file);
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
    this.closed = true;
    this.closeAppend();
    await this.fsync.close();
  }

  private append(text: string): void {
    if (this.fd < 0) this.fd = this.reopen();
    writeAllSync(this.fd, text);
  }

  /** The journal opened again when a compaction could not (EMFILE, ...); refused after close(). */
  private reopen(): number {
    if (this.closed) throw new Error(`lease file ${this.filename ?? '(in memory)'} is closed`);
    return journalFd(this.filename);
  }

  private closeAppend(): void {
    if (this.fd >= 0 && this.filename !== null) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private index(d: LeaseDoc): void {
    let s = this.byId.get(d._id);
    if (s >= 0) {
      if (this.leases.ipText(s) !== d.ip) this.dropIp(s);
      this.leases.replace(s, d);
    } else this.byId.set(d._id, (s = this.leases.add(d)));
    this.addIp(s);
  }

  private unindex(id: string): void {
    const s = this.byId.get(id);
    if (s < 0) return;
    this.dropIp(s);
    this.byId.delete(id);
    this.leases.remove(s);
  }

  /** Index slot `s` under its address (a no-op when it is there already). */
  private addIp(s: number): void {
    const n = this.leases.ipExact(s);
    if (n < 0) {
      const ip = this.leases.ipText(s);
      const set = this.oddIp.get(ip);
      if (set) set.add(s);
      else this.oddIp.set(ip, new Set([s]));
      return;
    }
    const shared = this.ipShared.get(n);
    if (shared) return void shared.add(s);
    const one = this.byIp.get(n);
    if (one < 0 || one === s) return void this.byIp.set(n, s);
    this.byIp.delete(n);
    this.ipShared.set(n, new Set([one, s]));
  }

  /** Take slot `s` out of its address's entry. */
  private dropIp(s: number): void {
    const n = this.leases.ipExact(s);
    if (n < 0) {
      const ip = this.leases.ipText(s);
      const set = this.oddIp.get(ip);
      set?.delete(s);
      if (set?.size === 0) this.oddIp.delete(ip);
      return;
    }
    if (this.byIp.get(n) === s) return void this.byIp.delete(n);
    const shared = this.ipShared.get(n);
    if (!shared) return;
    shared.delete(s);
    if (shared.size === 1) {
      this.ipShared.delete(n);
      this.byIp.set(n, shared.values().next().value!);
    }
  }

  /** The slots holding `ip`. */
  private slotsAt(ip: string): number[] {
    const n = ipToInt(ip);
    if (n === null || intToIp(n) !== ip) return [...(this.oddIp.get(ip) ?? [])];
    const shared = this.ipShared.get(n);
    if (shared) return [...shared];
    const one = this.byIp.get(n);
    return one < 0 ? [] : [one];
  }

  private match(q: LeaseQuery, limit = Infinity): LeaseDoc[] {
    const keys = Object.keys(q) as (keyof LeaseQuery)[];
    let pool: Iterable<number>;
    if (typeof q._id === 'string') {
      const s = this.byId.get(q._id);
      pool = s >= 0 ? [s] : [];
    } else if (typeof q.ip === 'string') {
      pool = this.slotsAt(q.ip);
    } else pool = this.leases.slots();
    const out: LeaseDoc[] = [];
    for (const s of pool) {
      const d = this.leases.doc(s);
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
