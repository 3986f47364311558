/**
 * The in-memory ring of the most recent events, each kept as the JSON line that
 * goes to disk (a few hundred bytes, not an object graph: 200,000 events fit in
 * tens of MB), with its seq, node and type beside it for filtering. Seqs only
 * grow, so `since` is a binary search. Pure: no clock, no file.
 */
import type { CcEvent } from '../../contract/index.ts';

/** What a query may filter on (newest first). */
export interface EventFilter {
  node_id?: number;
  /** A type prefix: `dhcp.` or `node.boot`. */
  type?: string;
  /** Only events with a seq below this. */
  before?: number;
  limit?: number;
}

/** A fixed-capacity ring of serialized events. */
export class EventRing {
  private readonly seqs: number[];
  private readonly nodes: (number | null)[];
  private readonly types: string[];
  private readonly lines: string[];
  /** Slot of the oldest event, and how many are held. */
  private head = 0;
  private n = 0;

  constructor(readonly capacity: number) {
    this.seqs = new Array<number>(capacity);
    this.nodes = new Array<number | null>(capacity);
    this.types = new Array<string>(capacity);
    this.lines = new Array<string>(capacity);
  }

  /** Events held. */
  get size(): number {
    return this.n;
  }

  /** Add the newest event (its seq must be above every held one); the oldest falls out when full. */
  push(seq: number, nodeId: number | null, type: string, line: string): void {
    let slot: number;
    if (this.n < this.capacity) slot = (this.head + this.n++) % this.capacity;
    else {
      slot = this.head;
      this.head = (this.head + 1) % this.capacity;
    }
    this.seqs[slot] = seq;
    this.nodes[slot] = nodeId;
    this.types[slot] = type;
    this.lines[slot] = line;
  }

  private slot(i: number): number {
    return (this.head + i) % this.capacity;
  }

  /** Index (0 = oldest) of the first event with seq > `seq`. */
  private firstAfter(seq: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[this.slot(mid)]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Events after `seq`, oldest first, at most `limit`. */
  since(seq: number, limit: number): CcEvent[] {
    const out: CcEvent[] = [];
    for (let i = this.firstAfter(seq); i < this.n && out.length < limit; i++) out.push(JSON.parse(this.lines[this.slot(i)]!) as CcEvent);
    return out;
  }

  /** Events matching `f`, newest first. */
  query(f: EventFilter): CcEvent[] {
    const out: CcEvent[] = [];
    const limit = f.limit ?? 200;
    const end = f.before !== undefined ? this.firstAfter(f.before - 1) : this.n;
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const s = this.slot(i);
      if (f.node_id !== undefined && this.nodes[s] !== f.node_id) continue;
      if (f.type && !this.types[s]!.startsWith(f.type)) continue;
      out.push(JSON.parse(this.lines[s]!) as CcEvent);
    }
    return out;
  }

  /** Every held line, oldest first (to rewrite the file when it is trimmed). */
  allLines(): string[] {
    const out = new Array<string>(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.lines[this.slot(i)]!;
    return out;
  }

  /** The newest seq held, or 0. */
  lastSeq(): number {
    return this.n === 0 ? 0 : this.seqs[this.slot(this.n - 1)]!;
  }
}
