/**
 * The append-only event log: every event gets a monotonic seq, goes into an
 * in-memory ring (queries, SSE resume), is fanned out to live subscribers and
 * is appended to `db/events.log` in batches: one write per FLUSH_MS, an
 * fdatasync at most once per SYNC_MS. Emitting costs one JSON.stringify and
 * its copy into the ring's arena (event-ring.ts: nothing per event stays on the
 * heap), so per-packet events (four per DHCP exchange) stay cheap. Events
 * are a record, not acknowledged writes: a crash loses at most the last batch
 * (nothing the protocol acknowledged depends on them; leases and nodes are
 * fsync'ed before their answer leaves).
 *
 * Retention trims the rack's traffic first: a history event (every type but the traffic's, traffic-types.ts) that
 * falls out of the ring moves to a ring of its own, `history`, which keeps the newest `historyRetention` of them, and a
 * trim writes that ring before the main ring's lines. The file stays in seq order, and a flood of traffic, however
 * long, cannot push the operator's history out of the log.
 */
import type { CcEvent, EventData, EventType } from '../../contract/index.ts';
import type { RepairResult } from '../store/repair.ts';
import { EventFile } from './event-file.ts';
import { LINES_PER_WRITE } from '../store/durable-file.ts';
import { DEFAULT_QUERY_LIMIT, EventRing, type EventFilter } from './event-ring.ts';
import { systemNow } from '../core/clock.ts';
import { isHistory } from './traffic-types.ts';
import { clampEvent, EVENT_LINE_MAX } from './event-clamp.ts';

/** What a producer passes for an event of type `T`: `data` is typed by its row in contract/event-data.ts. */
export interface EventInput<T extends EventType = EventType> {
  node_id?: number | null;
  mac?: string | null;
  message: string;
  data: EventData<T>;
}

/** The narrow interface producers (DHCP, TFTP, HTTP, core) depend on. */
export interface EventSink {
  emit<T extends EventType>(type: T, e: EventInput<T>): CcEvent;
}

/** Listener for live events. */
export type EventListener = (e: CcEvent) => void;

/** Batch window of the appends: a burst of thousands of events per second costs ten writes. */
export const EVENT_FLUSH_MS = 100;
/** At most one fdatasync of the event file this often (events are not acknowledged writes). */
export const EVENT_SYNC_MS = 1000;
/** A batch this large is written at once instead of waiting for the window. */
const FLUSH_LINES = 4096;

/** History kept past a ring of `retention` when the caller names no size: a quarter of it. */
const historyFor = (retention: number) => Math.ceil(retention / 4);

/** The scratch log's arena chunk: a few dozen events each. */
export const SCRATCH_CHUNK_BYTES = 16 * 1024;
/** The scratch log's full batch: a few exchanges' events (see EventLog.scratch). */
const SCRATCH_FLUSH_LINES = 64;

/** The event as stored and streamed, from a producer's input: one object shape for every event. */
function eventOf<T extends EventType>(seq: number, ts: string, type: T, e: EventInput<T>): CcEvent {
  // The input's type ties `type` to `data` (EventInput<T>); TypeScript cannot see a generic object is one member of the union.
  return { seq, ts, type, node_id: e.node_id ?? null, mac: e.mac ?? null, message: e.message, data: e.data } as CcEvent;
}

/** The event log. */
export class EventLog implements EventSink {
  private seq = 0;
  private readonly listeners = new Set<EventListener>();
  /** Listeners that also get the events `publish` hands over without recording them. */
  private readonly unrecordedListeners = new Set<EventListener>();
  /** Events emitted since the last append: the newest this many of the ring go to the file next. */
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The timer is the immediate one (a full batch): later events of the burst leave it be. */
  private timerNow = false;
  private writing: Promise<void> = Promise.resolve();
  private fileLines: number;
  /** History lines the file holds before the main ring's (the last trim's, or what open found): not due for trimming. */
  private olderInFile = 0;
  private lastSync = 0;
  private unsynced = false;
  private closed = false;
  /** The last timestamp formatted: events of one millisecond share it (toISOString costs as much as the JSON). */
  private tsMs = NaN;
  private tsText = '';
  /** Write failures (disk full, ...): counted, the log lives on in memory. */
  writeErrors = 0;

  private constructor(
    private readonly file: EventFile,
    private readonly ring: EventRing,
    /** The history events (traffic-types.ts) that fell out of `ring`: all older than its oldest. */
    private readonly history: EventRing,
    fileLines: number,
    private readonly now: () => Date,
    /** A torn tail cut at open (the caller reports it as an event). */
    readonly repaired: RepairResult | null,
    /** A batch this large is written at once (FLUSH_LINES; the scratch log's is smaller). */
    private readonly flushLines = FLUSH_LINES,
  ) {
    this.fileLines = fileLines;
  }

  /**
   * Open the log in `file` (taking over `legacy`, the old nedb datafile), keeping the newest `retention` events and,
   * whatever traffic came after them, the newest `historyRetention` history events (a quarter of `retention` unless given).
   */
  static async open(
    file: string,
    legacy: string,
    retention: number,
    now: () => Date = systemNow,
    historyRetention = historyFor(retention),
  ): Promise<EventLog> {
    const { log, loaded } = await EventFile.open(file, legacy, retention, historyRetention);
    const history = new EventRing(historyRetention);
    const ring = new EventRing(retention, undefined, { ring: history, keep: isHistory });
    loaded.older.lines.forEach((l, i) => {
      const h = loaded.older.heads[i]!;
      history.push(h.seq, h.node_id, h.type, l);
    });
    loaded.lines.forEach((l, i) => {
      const h = loaded.heads[i]!;
      ring.push(h.seq, h.node_id, h.type, l);
    });
    const el = new EventLog(log, ring, history, loaded.fileLines, now, loaded.repair);
    el.olderInFile = loaded.older.lines.length;
    el.seq = ring.lastSeq();
    return el;
  }

  /**
   * A log that keeps the newest `retention` events in its ring and writes nowhere. The DHCP warm start
   * (server/dhcp/warm-start.ts) emits into one: the same class and the same code as the real log (ring, batching,
   * appends), so what V8 learns and optimises there is what the first real packets run, and nothing reaches the file.
   * Its arena chunks are SCRATCH_CHUNK_BYTES, so that the warm start's events also fill chunks, start new ones,
   * free old ones and append batches that span two: with the real 4 MiB chunks none of that happens in a warm
   * start, and the real log met each for the first time in a burst's first second (deoptimised `push` and `bytes`,
   * `--trace-deopt`). For the same reason its full batch is SCRATCH_FLUSH_LINES: with the real 4,096 a warm start
   * filled one only near its end, `emit` (inlined in the DHCP handler's `report`) was optimised before any had, and
   * the first full batch threw that code away; `report` was then compiled again in a burst's first half second
   * (docs/perf/changes.md, "Two deoptimisations at the first real lease").
   */
  static scratch(retention: number, now: () => Date = systemNow): EventLog {
    const history = new EventRing(historyFor(retention), SCRATCH_CHUNK_BYTES);
    const ring = new EventRing(retention, SCRATCH_CHUNK_BYTES, { ring: history, keep: isHistory });
    return new EventLog(EventFile.discard(), ring, history, 0, now, null, SCRATCH_FLUSH_LINES);
  }

  /** Record an event and publish it. */
  emit<T extends EventType>(type: T, e: EventInput<T>): CcEvent {
    const seq = ++this.seq;
    const d = this.now();
    const ms = d.getTime();
    if (ms !== this.tsMs) {
      this.tsMs = ms;
      this.tsText = d.toISOString();
    }
    let ev = eventOf(seq, this.tsText, type, e);
    let line = JSON.stringify(ev);
    // Rack text out of all proportion (a 64 KB file name, a URL's query) is cut to size (event-clamp.ts).
    if (line.length > EVENT_LINE_MAX) ({ ev, line } = clampEvent(ev));
    this.ring.push(seq, ev.node_id, type, line);
    if (!this.closed) {
      this.pending++;
      // Past a full batch the write is due at once, scheduled once: every further event of a burst until it runs
      // rescheduling it cost a timer each (844 B and a clearTimeout per DORA at 25,000 DORA/s, bench/dhcp/in-process.ts).
      if (this.pending >= this.flushLines) {
        if (!this.timerNow) this.flushSoon(0);
      } else if (!this.timer) this.flushSoon(EVENT_FLUSH_MS);
    }
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        /* a broken listener must not break producers */
      }
    }
    return ev;
  }

  private flushSoon(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerNow = ms === 0;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerNow = false;
      void this.write(false);
    }, ms);
    this.timer.unref();
  }

  /** Append the pending batch (one write), sync when due, trim when past the retention. Writes run one at a time. */
  private write(forceSync: boolean): Promise<void> {
    this.writing = this.writing.then(async () => {
      try {
        // The batch is the newest `pending` lines, taken as views of the ring's arena now (no copy, no join);
        // a batch larger than the ring lost its oldest lines to retention already.
        const n = Math.min(this.pending, this.ring.size);
        const written = this.seq - this.pending; // the newest seq in the file
        this.pending = 0;
        if (n > 0) {
          let bytes = this.ring.bytes(this.ring.size - n, this.ring.size);
          let lines = n;
          if (n === this.ring.size && this.ring.firstSeq() > written + 1) {
            // Traffic pushed some of the batch out of the ring before it was written: its history went to the
            // history ring, and goes first (seq order).
            const from = this.history.countBelow(written + 1);
            const to = this.history.size;
            if (to > from) {
              bytes = [...this.history.bytes(from, to), ...bytes];
              lines += to - from;
            }
          }
          await this.file.append(bytes);
          this.fileLines += lines;
          this.unsynced = true;
        }
        if (this.fileLines > this.ring.capacity * 1.1 + this.olderInFile) {
          // Every event still kept is in the rings: the file becomes the history ring (all of it older than the main
          // ring), then the main ring, minus what was emitted since the append above (it goes into the new file with the next batch,
          // so it is written once). In seq order, as appended.
          const keep = this.ring.size - Math.min(this.pending, this.ring.size);
          const older = this.history.size;
          const pieces: Buffer[][] = [];
          for (let i = 0; i < older; i += LINES_PER_WRITE) pieces.push(this.history.bytes(i, Math.min(i + LINES_PER_WRITE, older)));
          for (let i = 0; i < keep; i += LINES_PER_WRITE) pieces.push(this.ring.bytes(i, Math.min(i + LINES_PER_WRITE, keep)));
          await this.file.replace(pieces);
          this.fileLines = older + keep;
          this.olderInFile = older;
          this.unsynced = false;
        }
        const t = Date.now();
        if (this.unsynced && (forceSync || t - this.lastSync >= EVENT_SYNC_MS)) {
          this.lastSync = t;
          this.unsynced = false;
          await this.file.sync();
        }
      } catch {
        this.writeErrors++;
      }
    });
    return this.writing;
  }

  /** Write and fdatasync everything emitted so far. */
  async flushNow(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerNow = false;
    await this.write(true);
  }

  /** Flush, then close the file (later events stay in memory only). */
  async close(): Promise<void> {
    await this.flushNow();
    this.closed = true;
    await this.writing;
    await this.file.close();
  }

  /**
   * Subscribe to live events; returns the unsubscribe function. With `unrecorded`, also to the events `publish` hands
   * over without recording them: for listeners the appliance's own behaviour follows (the chain recorder, proxy-mode
   * router advertisements), not for the history's readers (the UI's stream, webhooks).
   */
  subscribe(l: EventListener, o: { unrecorded?: boolean } = {}): () => void {
    this.listeners.add(l);
    if (o.unrecorded) this.unrecordedListeners.add(l);
    return () => {
      this.listeners.delete(l);
      this.unrecordedListeners.delete(l);
    };
  }

  /**
   * Hand an event to the listeners subscribed with `unrecorded`, without recording it: no seq (0), not in the ring
   * or the file, not streamed. For events over a budget (server/events/event-budget.ts): what the appliance does on
   * them still happens, and they do not push the history out of the log.
   */
  publish<T extends EventType>(type: T, e: EventInput<T>): void {
    if (this.unrecordedListeners.size === 0) return;
    const ev = eventOf(0, this.now().toISOString(), type, e);
    for (const l of this.unrecordedListeners) {
      try {
        l(ev);
      } catch {
        /* a broken listener must not break producers */
      }
    }
  }

  /** Events after `seq` (for Last-Event-ID resume), oldest first: the history older than the ring, then the ring. */
  async since(seq: number, limit = 10000): Promise<CcEvent[]> {
    const older = this.history.since(seq, limit);
    return older.length < limit ? older.concat(this.ring.since(seq, limit - older.length)) : older;
  }

  /** Query events (newest first) by node, type prefix, position: the ring, then the history older than it. */
  async query(q: EventFilter): Promise<CcEvent[]> {
    const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
    const out = this.ring.query({ ...q, limit });
    return out.length < limit ? out.concat(this.history.query({ ...q, limit: limit - out.length })) : out;
  }

  /** Last assigned sequence number. */
  get lastSeq(): number {
    return this.seq;
  }
}
