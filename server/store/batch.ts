/**
 * Batches: several documents of one collection stored as one unit (a settings PATCH, a policy reorder), so that a
 * crash never leaves some of them written and the rest not.
 *
 * A batch is one line, `{"$$batch":[DOC,DOC,...]}`, appended with one write(2) and fsync'ed once. A line is already
 * the unit the store recovers whole or not at all, so no commit marker is needed: the line's end is its commit.
 * - SIGKILL or power loss before the newline was on disk: repair.ts cuts the torn last line (nothing of the batch).
 * - Power loss that kept a later page of the write but not an earlier one (the newline on disk, zeros before it):
 *   the line is no JSON, so `expandBatches` cuts it too; a write is only acknowledged after its fsync, so a last
 *   line that does not parse was never acknowledged.
 * One line per document, as nedb writes a multi-document change, could stop after any of them.
 *
 * nedb's loader skips a line without `_id`: before a collection that takes batches is loaded, `expandBatches`
 * rewrites each batch line as its documents' lines, in place (later lines still win over earlier ones), and nedb's
 * load compacts the file as always. An appliance older than batches would skip such a line (and so the change).
 */
import fs from 'node:fs/promises';
import { deserializeLine, serializeDoc } from './nedb.ts';
import { writeFileDurably } from './durable-file.ts';

/** How a batch line starts (the key nedb would never write: it refuses field names with a leading `$`). */
const BATCH_START = '{"$$batch":[';
const BATCH_START_BYTES = Buffer.from(BATCH_START);

/** The line (with its newline) of a batch of documents, each already serialized by nedb (`serializeDoc`). */
export function batchLine(docLines: readonly string[]): string {
  return `${BATCH_START}${docLines.join(',')}]}\n`;
}

/** The documents of a batch line, or null when `line` is not one. */
function batchDocs(line: Buffer): object[] | null {
  if (!line.subarray(0, BATCH_START_BYTES.length).equals(BATCH_START_BYTES)) return null;
  const v = parseLine(line) as { $$batch?: unknown } | null;
  return Array.isArray(v?.$$batch) ? (v.$$batch as object[]) : null;
}

function parseLine(line: Buffer): unknown {
  try {
    return deserializeLine(line.toString('utf8'));
  } catch {
    return null;
  }
}

/** What `expandBatches` did to a file. */
export interface ExpandResult {
  /** Batch lines rewritten as their documents' lines. */
  batches: number;
  /** Bytes of a last line that was no JSON (a write torn by power loss), cut. */
  cutBytes: number;
}

/**
 * Before nedb loads `file` (after repair.ts cut a torn tail): cut a last line that does not parse, and write each
 * batch line as the lines of its documents. Untouched when there is neither (the usual case: one read).
 */
export async function expandBatches(file: string): Promise<ExpandResult> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { batches: 0, cutBytes: 0 };
    throw e;
  }
  // repair.ts left the file empty or ending with a newline.
  const lines: Buffer[] = [];
  let lastAt = 0;
  for (let at = 0; at < data.length;) {
    const nl = data.indexOf(0x0a, at);
    const end = nl < 0 ? data.length : nl;
    lines.push(data.subarray(at, end));
    lastAt = at;
    at = end + 1;
  }
  let cutBytes = 0;
  const last = lines.at(-1);
  if (last && last.length > 0 && parseLine(last) === null) {
    lines.pop();
    cutBytes = data.length - lastAt;
  }
  let batches = 0;
  const out: Buffer[] = [];
  for (const line of lines) {
    const docs = batchDocs(line);
    if (!docs) out.push(line, Buffer.from('\n'));
    else {
      batches++;
      for (const d of docs) out.push(Buffer.from(`${serializeDoc(d)}\n`));
    }
  }
  if (batches === 0 && cutBytes === 0) return { batches, cutBytes };
  const { mode } = await fs.stat(file);
  await writeFileDurably(file, Buffer.concat(out), mode & 0o777);
  return { batches, cutBytes };
}
