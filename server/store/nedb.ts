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
const model = require('@seald-io/nedb/lib/model.js') as { serialize(doc: unknown): string };

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

/** Append `data` to `file` now (write(2) until all of it is in). */
function appendNow(file: string, data: string, mode?: number): void {
  let fd = handles.get(file);
  if (fd === undefined) {
    fd = fs.openSync(file, 'a', mode);
    handles.set(file, fd);
  }
  writeAllSync(fd, data);
  appended.set(file, (appended.get(file) ?? 0) + 1);
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
