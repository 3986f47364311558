/**
 * nedb is CommonJS (`module.exports = Datastore`) while its typings say
 * `export default`; under NodeNext that mismatch types the default import as
 * the module namespace. This file is the one place that bridges the two.
 *
 * It also keeps one append handle open per datafile. nedb appends every write
 * with fs.promises.appendFile, which opens and closes the file each time: on a
 * register or a DHCP exchange that open/close was a tenth of the CPU. The
 * handle is closed before nedb rewrites the file (compaction renames a new
 * file into place, which would leave an open handle on the old inode).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
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
const handles = new Map<string, Promise<fs.FileHandle>>();

/** Close the cached append handle of one datafile (or all of them). */
export async function closeAppendHandles(file?: string): Promise<void> {
  const names = file ? [file] : [...handles.keys()];
  for (const n of names) {
    const h = handles.get(n);
    handles.delete(n);
    if (h) await (await h.catch(() => null))?.close().catch(() => undefined);
  }
}

if (!storage.__ccPatched) {
  storage.__ccPatched = true;
  const rewrite = storage.crashSafeWriteFileLinesAsync.bind(storage);
  const unlink = storage.unlinkAsync.bind(storage);
  // nedb runs one operation at a time per datastore, so appends to one file never interleave.
  storage.appendFileAsync = async (file, data, opts) => {
    let h = handles.get(file);
    if (!h) {
      h = fs.open(file, 'a', opts?.mode);
      handles.set(file, h);
      h.catch(() => handles.delete(file));
    }
    await (await h).appendFile(data, 'utf8');
  };
  storage.crashSafeWriteFileLinesAsync = async (file, lines, modes) => {
    await closeAppendHandles(file);
    return rewrite(file, lines, modes);
  };
  storage.unlinkAsync = async (file) => {
    await closeAppendHandles(file);
    return unlink(file);
  };
}
