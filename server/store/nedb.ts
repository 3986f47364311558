/**
 * nedb is CommonJS (`module.exports = Datastore`) while its typings say
 * `export default`; under NodeNext that mismatch types the default import as
 * the module namespace. This file is the one place that bridges the two.
 *
 * It also keeps one append descriptor open per datafile and appends with a
 * synchronous write(2). nedb appended every write with fs.promises.appendFile,
 * which opened and closed the file each time (a tenth of a register's CPU) and
 * sent the write to the thread pool: on a server pinned to one core each hop
 * to a pool thread and back cost more than the write itself (a page-cache
 * append of a few hundred bytes takes microseconds). Only the wait for the disk
 * (fdatasync, group-fsync.ts) goes to the pool. The descriptor is closed before
 * nedb rewrites the file (compaction renames a new file into place, which
 * would leave it on the old inode).
 *
 * And it escapes the line breaks JSON.stringify leaves raw (NEL U+0085, LS U+2028, PS U+2029) in every line
 * nedb writes: nedb's reader (byline.js) splits lines on them too, so one such character in a string (a fact
 * a hostile node sends) broke its line in two corrupt halves, and enough of them made the store refuse to open.
 *
 * A batch (batch.ts) writes its own line and then needs two things nedb keeps private: its operation queue (so no
 * compaction runs between the write and the memory update) and its in-memory indexes (updated with no second
 * append). They are reached here only (`NedbInternals`, nedb 4).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { writeAllSync } from './write-all.ts';
import type NedbTypes from '@seald-io/nedb';

const require = createRequire(import.meta.url);
type NedbModule = typeof NedbTypes extends { default: infer D } ? D : typeof NedbTypes;
/** The nedb Datastore class. */
export const Datastore = require('@seald-io/nedb') as NedbModule;
/** A nedb Datastore instance. */
export type Datastore<T> = InstanceType<NedbModule> & { __doc?: T };

interface NedbStorage {
  appendFileAsync(file: string, data: string, opts?: { encoding?: string; mode?: number }): Promise<void>;
  crashSafeWriteFileLinesAsync(file: string, lines: string[], modes?: unknown): Promise<void>;
  unlinkAsync(file: string): Promise<void>;
  __ccPatched?: boolean;
}

const storage = require('@seald-io/nedb/lib/storage.js') as NedbStorage;
const model = require('@seald-io/nedb/lib/model.js') as { serialize(doc: unknown): string; deserialize(line: string): unknown };

/**
 * The parts of a nedb 4 Datastore a batch (batch.ts) needs beyond the typed API: its operation queue, and its
 * in-memory indexes, updated without the append nedb's own update makes. Private in nedb; used nowhere else.
 */
interface NedbInternals {
  executor: { pushAsync<R>(task: () => Promise<R>): Promise<R> };
  indexes: Record<string, unknown> & { _id: { getMatching(id: string): object[] } };
  _updateIndexes(mods: { oldDoc: object; newDoc: object }[]): void;
  _insertInCache(docs: object[]): void;
}

/**
 * `json` with U+0085, U+2028 and U+2029 written as \u escapes: the same JSON value (they can only occur
 * inside strings, JSON whitespace is space, tab, LF and CR: RFC 8259 2), and a line nedb's reader keeps whole.
 */
export function escapeLineBreaks(json: string): string {
  return json.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const handles = new Map<string, number>();
/** Appends that reached each datafile since start (collection.ts: a sync with none since the last one is skipped). */
const appended = new Map<string, number>();

/** How many appends `file` has had in this process: a counter that moves whenever new bytes wait for an fdatasync. */
export function appendsTo(file: string): number {
  return appended.get(file) ?? 0;
}

/** Close the cached append descriptor of one datafile (or all of them). */
export async function closeAppendHandles(file?: string): Promise<void> {
  const names = file ? [file] : [...handles.keys()];
  for (const n of names) {
    const fd = handles.get(n);
    handles.delete(n);
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The one append descriptor of `file`, opened on first use. */
function appendHandle(file: string, mode?: number): number {
  let fd = handles.get(file);
  if (fd === undefined) {
    fd = fs.openSync(file, 'a', mode);
    handles.set(file, fd);
  }
  return fd;
}

/** Append `data` to `file` now (write(2) until all of it is in). */
function appendNow(file: string, data: string, mode?: number): void {
  writeAllSync(appendHandle(file, mode), data);
  appended.set(file, (appended.get(file) ?? 0) + 1);
}

/**
 * Append `data` to `file` whole or not at all, as far as this process goes: a write that fails part-way (a disk
 * filling up) is cut back off, so no half line stays for the next append to run into. Returns the size before,
 * for `cutBack` (an append whose fsync then failed).
 */
export function appendWhole(file: string, data: string): number {
  const fd = appendHandle(file);
  const before = fs.fstatSync(fd).size;
  appended.set(file, (appended.get(file) ?? 0) + 1);
  try {
    writeAllSync(fd, data);
  } catch (e) {
    cutBack(file, before);
    throw e;
  }
  return before;
}

/** Cut `file` back to `size` bytes (undo an append of ours; best effort: the write's own error is what is reported). */
export function cutBack(file: string, size: number): void {
  try {
    fs.ftruncateSync(appendHandle(file), size);
  } catch {
    // The store cuts a torn last line at the next load anyway (repair.ts).
  }
}

/** One document as nedb writes it: a line's JSON (throws on a key nedb refuses: a "." or a leading "$"). */
export function serializeDoc(doc: object): string {
  return model.serialize(doc);
}

/** One line's JSON as nedb reads it (`$$date` back to a Date). */
export function deserializeLine(line: string): unknown {
  return model.deserialize(line);
}

/** Run `task` as one operation of the datastore: no other one of it (an append, a compaction) runs meanwhile. */
export function asOneOperation<T, R>(ds: Datastore<T>, task: () => Promise<R>): Promise<R> {
  return (ds as unknown as NedbInternals).executor.pushAsync(task);
}

/**
 * Replace (or insert) `docs` in the datastore's memory, writing nothing: all of them or, if one is refused (a unique
 * index), none. Each must be a fresh object nedb may keep (one parsed from its line).
 */
export function replaceInMemory<T>(ds: Datastore<T>, docs: readonly ({ _id: string } & object)[]): void {
  const n = ds as unknown as NedbInternals;
  const mods: { oldDoc: object; newDoc: object }[] = [];
  const added: object[] = [];
  for (const d of docs) {
    const old = n.indexes._id.getMatching(d._id)[0];
    if (old) mods.push({ oldDoc: old, newDoc: d });
    else added.push(d);
  }
  if (mods.length) n._updateIndexes(mods);
  if (!added.length) return;
  try {
    n._insertInCache(added);
  } catch (e) {
    if (mods.length) n._updateIndexes(mods.map((m) => ({ oldDoc: m.newDoc, newDoc: m.oldDoc })));
    throw e;
  }
}

/** The fields of the datastore's indexes (`_id` always among them). */
export function indexedFields<T>(ds: Datastore<T>): string[] {
  return Object.keys((ds as unknown as NedbInternals).indexes);
}

if (!storage.__ccPatched) {
  storage.__ccPatched = true;
  const rewrite = storage.crashSafeWriteFileLinesAsync.bind(storage);
  const unlink = storage.unlinkAsync.bind(storage);
  const serialize = model.serialize.bind(model);
  // persistence.js looks model.serialize up at each call, so appends and compaction both go through this.
  model.serialize = (doc) => escapeLineBreaks(serialize(doc));
  // nedb runs one operation at a time per datastore, so appends to one file never interleave.
  storage.appendFileAsync = async (file, data, opts) => appendNow(file, data, opts?.mode);
  storage.crashSafeWriteFileLinesAsync = async (file, lines, modes) => {
    await closeAppendHandles(file);
    return rewrite(file, lines, modes);
  };
  storage.unlinkAsync = async (file) => {
    await closeAppendHandles(file);
    return unlink(file);
  };
}
