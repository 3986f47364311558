/**
 * The append-only event log: every event gets a monotonic seq, is appended to
 * the store (not fsync'ed: events are not acknowledged writes), fanned out to
 * live subscribers (SSE), and trimmed to a retention limit.
 */
import type { CcEvent, EventType } from '../../contract/index.ts';
import type { Collection } from '../store/collection.ts';
import type { EventDoc } from '../store/docs.ts';

/** What a producer passes. */
export interface EventInput {
  node_id?: number | null;
  mac?: string | null;
  message: string;
  data?: Record<string, unknown>;
}

/** The narrow interface producers (DHCP, TFTP, HTTP, core) depend on. */
export interface EventSink {
  emit(type: EventType, e: EventInput): CcEvent;
}

/** Listener for live events. */
export type EventListener = (e: CcEvent) => void;

const pad = (n: number) => String(n).padStart(12, '0');

/** The event log. */
export class EventLog implements EventSink {
  private seq = 0;
  private readonly listeners = new Set<EventListener>();
  private pending: EventDoc[] = [];
  private flushing: Promise<void> | null = null;
  private count = 0;

  private constructor(
    private readonly col: Collection<EventDoc>,
    private readonly retention: number,
    private readonly now: () => Date,
  ) {}

  /** Open the log on its collection, continuing the stored sequence. */
  static async open(col: Collection<EventDoc>, retention: number, now: () => Date = () => new Date()): Promise<EventLog> {
    const log = new EventLog(col, retention, now);
    const last = await col.find({}, { seq: -1 }, 1);
    log.seq = last[0]?.seq ?? 0;
    log.count = await col.count();
    return log;
  }

  /** Append an event and publish it. */
  emit(type: EventType, e: EventInput): CcEvent {
    const seq = ++this.seq;
    const ev: CcEvent = {
      seq,
      ts: this.now().toISOString(),
      type,
      node_id: e.node_id ?? null,
      mac: e.mac ?? null,
      message: e.message,
      data: e.data ?? {},
    };
    this.pending.push({ _id: pad(seq), ...ev });
    this.scheduleFlush();
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        /* a broken listener must not break producers */
      }
    }
    return ev;
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushNow());
  }

  /** Write buffered events in one append; trims past the retention limit. */
  async flushNow(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      await this.col.insertMany(batch);
      this.count += batch.length;
    }
    this.flushing = null;
    if (this.count > this.retention * 1.1) {
      const cut = this.seq - this.retention;
      const removed = await this.col.remove({ seq: { $lte: cut } }, { multi: true });
      this.count -= removed;
    }
  }

  /** Subscribe to live events; returns the unsubscribe function. */
  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Events after `seq` (for Last-Event-ID resume), oldest first. */
  async since(seq: number, limit = 10000): Promise<CcEvent[]> {
    await this.flushing;
    const docs = await this.col.find({ seq: { $gt: seq } }, { seq: 1 }, limit);
    return docs.map(strip);
  }

  /** Query events (newest first) by node, type prefix and text. */
  async query(q: { node_id?: number; type?: string; limit?: number; before?: number }): Promise<CcEvent[]> {
    await this.flushing;
    const f: Record<string, unknown> = {};
    if (q.node_id !== undefined) f.node_id = q.node_id;
    if (q.type) f.type = { $regex: new RegExp(`^${q.type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) };
    if (q.before !== undefined) f.seq = { $lt: q.before };
    const docs = await this.col.find(f, { seq: -1 }, q.limit ?? 200);
    return docs.map(strip);
  }

  /** Last assigned sequence number. */
  get lastSeq(): number {
    return this.seq;
  }
}

function strip(d: EventDoc): CcEvent {
  return { seq: d.seq, ts: d.ts, type: d.type, node_id: d.node_id, mac: d.mac, message: d.message, data: d.data };
}
