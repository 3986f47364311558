/**
 * The event log's file: one JSON event per line (`db/events.log`), appended in
 * batches and trimmed by rewriting it (temp + fsync + rename + fsync dir). The
 * first open takes over the events of the nedb datafile older versions kept
 * (`db/events.db`) and removes it. A torn last line (SIGKILL mid-append) is cut.
 */
import fs from 'node:fs/promises';
import { fsyncDir, writeLinesDurably, writePiecesDurably, writevAll } from '../store/durable-file.ts';
import { repairTornTail, type RepairResult } from '../store/repair.ts';
import type { CcEvent } from '../../contract/index.ts';
import path from 'node:path';
import { isHistory } from './traffic-types.ts';

/** What loading found. */
export interface LoadedEvents {
  /** The newest `keep` events as their lines, oldest first. */
  lines: string[];
  /** Their parsed head (seq, node, type), same order. */
  heads: Pick<CcEvent, 'seq' | 'node_id' | 'type'>[];
  /** History events older than those (traffic-types.ts), the newest `keepHistory` of them, oldest first. */
  older: { lines: string[]; heads: Pick<CcEvent, 'seq' | 'node_id' | 'type'>[] };
  /** Lines in the file (trimming is due past the retention). */
  fileLines: number;
  repair: RepairResult | null;
}

/** An nedb event document: `data` was stored as JSON text (nedb refuses dotted keys). */
type LegacyDoc = CcEvent & { _id?: string; data: unknown; $$deleted?: boolean; $$indexCreated?: unknown };

async function readLegacy(file: string): Promise<CcEvent[] | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const byId = new Map<string, CcEvent>();
  for (const l of text.split('\n')) {
    if (!l) continue;
    let d: LegacyDoc;
    try {
      d = JSON.parse(l) as LegacyDoc;
    } catch {
      continue; // a torn line: never acknowledged
    }
    if (d.$$indexCreated || !d._id) continue;
    if (d.$$deleted) {
      byId.delete(d._id);
      continue;
    }
    const data = typeof d.data === 'string' ? (JSON.parse(d.data) as Record<string, unknown>) : ((d.data ?? {}) as Record<string, unknown>);
    // Events the log wrote itself (the old nedb format): trusted as written, like the JSON lines below.
    byId.set(d._id, {
      seq: d.seq,
      ts: d.ts,
      type: d.type,
      node_id: d.node_id ?? null,
      mac: d.mac ?? null,
      message: d.message,
      data,
    } as CcEvent);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** The append side of the event log. */
export class EventFile {
  private handle: fs.FileHandle | null = null;

  private constructor(
    readonly file: string,
    /** Writes nowhere (EventLog.scratch). */
    private readonly discarding = false,
  ) {}

  /** A file that takes every write and keeps nothing: the event log's scratch mode (see EventLog.scratch). */
  static discard(): EventFile {
    return new EventFile('', true);
  }

  /**
   * Open `file` (creating it, or converting `legacy` when only that exists) and
   * return the newest `keep` events it holds, and the newest `keepHistory` history events older than those.
   */
  static async open(file: string, legacy: string, keep: number, keepHistory = 0): Promise<{ log: EventFile; loaded: LoadedEvents }> {
    const f = new EventFile(file);
    const exists = await fs.stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const old = await readLegacy(legacy);
      await writeLinesDurably(file, old?.map((e) => JSON.stringify(e)) ?? []);
      if (old) {
        await fs.rm(legacy, { force: true });
        await fsyncDir(path.dirname(legacy));
      }
    }
    const repair = await repairTornTail(file);
    const all = (await fs.readFile(file, 'utf8')).split('\n');
    const lines: string[] = [];
    const heads: LoadedEvents['heads'] = [];
    let fileLines = 0;
    for (const l of all) if (l) fileLines++;
    const older: LoadedEvents['older'] = { lines: [], heads: [] };
    // Walk back from the end: the newest `keep`, then history events only, until `keepHistory` of them. After a trim
    // the file holds no more than those (event-log.ts), so only a file written before the history ring parses more.
    for (let i = all.length - 1; i >= 0 && (lines.length < keep || older.lines.length < keepHistory); i--) {
      const l = all[i]!;
      if (!l) continue;
      try {
        const e = JSON.parse(l) as CcEvent;
        if (typeof e.seq !== 'number') continue;
        const head = { seq: e.seq, node_id: e.node_id ?? null, type: e.type };
        if (lines.length < keep) {
          lines.push(l);
          heads.push(head);
        } else if (isHistory(e.type)) {
          older.lines.push(l);
          older.heads.push(head);
        }
      } catch {
        /* not an event line: skipped */
      }
    }
    lines.reverse();
    heads.reverse();
    older.lines.reverse();
    older.heads.reverse();
    f.handle = await fs.open(file, 'a', 0o600);
    return { log: f, loaded: { lines, heads, older, fileLines, repair: repair.cutBytes > 0 ? repair : null } };
  }

  /** Append lines given as bytes, each with its newline (one writev). */
  async append(bytes: readonly Buffer[]): Promise<void> {
    if (this.discarding) return;
    if (!this.handle) throw new Error('event log closed');
    await writevAll(this.handle, bytes);
  }

  /** fdatasync the file. */
  async sync(): Promise<void> {
    await this.handle?.datasync();
  }

  /** Replace the whole file with these pieces of lines (trim past the retention), atomically, a writev per piece. */
  async replace(pieces: readonly (readonly Buffer[])[]): Promise<void> {
    if (this.discarding) return;
    await writePiecesDurably(this.file, pieces);
    const old = this.handle;
    this.handle = await fs.open(this.file, 'a', 0o600);
    await old?.close();
  }

  /** Close the handle. */
  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}
