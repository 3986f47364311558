/**
 * The in-memory ring of the most recent events, each kept as the JSON line that goes to disk, with its seq, node
 * and type beside it for filtering. Seqs only grow, so `since` is a binary search. Pure: no clock, no file.
 *
 * The lines live outside the JavaScript heap, UTF-8 in 4 MiB arena chunks written front to back, each line
 * followed by its newline; the ring holds numbers (chunk, offset, length) in typed arrays. Kept as strings, every
 * line (four per DHCP exchange, a few hundred bytes each, 200,000 held) was an object the garbage collector
 * copied twice on its way to the old generation and walked there until it fell out; in the arena nothing per
 * event stays on the heap, and the bytes go to the file as they are (`bytes`, a writev(2) of views). A chunk is
 * dropped once every line in it has fallen out of the ring.
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

/** A query's page when it names no limit. */
export const DEFAULT_QUERY_LIMIT = 200;

/** Where a ring's evicted events go when `keep` says so. */
export interface Spill {
  ring: EventRing;
  keep: (type: string) => boolean;
}

/** Arena chunk size; a longer line gets a chunk of its own size. */
const CHUNK_BYTES = 4 << 20;

/** A fixed-capacity ring of serialized events. */
export class EventRing {
  private readonly seqs: Float64Array;
  /** NaN = no node. */
  private readonly nodes: Float64Array;
  private readonly types: string[];
  /** Where each line is: the chunk's number, its offset there, its length with the newline. */
  private readonly chunkNo: Float64Array;
  private readonly offs: Uint32Array;
  private readonly lens: Uint32Array;
  /** The arena: chunks[i] has number firstChunk + i; lines go into the last one from `fill` on. */
  private chunks: Buffer[] = [];
  private firstChunk = 0;
  private fill = 0;
  /** Slot of the oldest event, and how many are held. */
  private head = 0;
  private n = 0;

  /**
   * `chunkBytes`: the arena's chunk size (the DHCP warm start's scratch log uses small ones, see EventLog.scratch).
   * `spill`: where an event goes when it falls out of this ring, if `keep` says so (the event log's history ring).
   */
  constructor(
    readonly capacity: number,
    private readonly chunkBytes = CHUNK_BYTES,
    private readonly spill: Spill | null = null,
  ) {
    this.seqs = new Float64Array(capacity);
    this.nodes = new Float64Array(capacity);
    this.types = new Array<string>(capacity);
    this.chunkNo = new Float64Array(capacity);
    this.offs = new Uint32Array(capacity);
    this.lens = new Uint32Array(capacity);
  }

  /** Events held. */
  get size(): number {
    return this.n;
  }

  /** Bytes of the arena held (for status and tests). */
  get arenaBytes(): number {
    let b = 0;
    for (const c of this.chunks) b += c.length;
    return b;
  }

  /** Add the newest event (its seq must be above every held one); the oldest falls out when full. */
  push(seq: number, nodeId: number | null, type: string, line: string): void {
    let slot: number;
    if (this.n < this.capacity) slot = (this.head + this.n++) % this.capacity;
    else {
      slot = this.head;
      this.head = (this.head + 1) % this.capacity;
      const sp = this.spill;
      if (sp !== null && sp.keep(this.types[slot]!)) {
        const node = this.nodes[slot]!;
        sp.ring.push(this.seqs[slot]!, Number.isNaN(node) ? null : node, this.types[slot]!, this.line(slot));
      }
    }
    let cur = this.chunks[this.chunks.length - 1];
    // A UTF-16 unit is at most 3 UTF-8 bytes: only a line that might not fit is measured.
    if (!cur || cur.length - this.fill < line.length * 3 + 1) {
      const need = Buffer.byteLength(line) + 1;
      if (!cur || cur.length - this.fill < need) {
        cur = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, need));
        this.chunks.push(cur);
        this.fill = 0;
      }
    }
    const len = cur.write(line, this.fill, 'utf8') + 1;
    cur[this.fill + len - 1] = 0x0a;
    this.seqs[slot] = seq;
    this.nodes[slot] = nodeId ?? NaN;
    this.types[slot] = type;
    this.chunkNo[slot] = this.firstChunk + this.chunks.length - 1;
    this.offs[slot] = this.fill;
    this.lens[slot] = len;
    this.fill += len;
    // Chunks older than the oldest line held are free.
    const oldest = this.chunkNo[this.head]!;
    while (this.firstChunk < oldest) {
      this.chunks.shift();
      this.firstChunk++;
    }
  }

  private slot(i: number): number {
    return (this.head + i) % this.capacity;
  }

  /** The line in slot `s`, without its newline. */
  private line(s: number): string {
    return this.chunks[this.chunkNo[s]! - this.firstChunk]!.toString('utf8', this.offs[s]!, this.offs[s]! + this.lens[s]! - 1);
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
    for (let i = this.firstAfter(seq); i < this.n && out.length < limit; i++) out.push(JSON.parse(this.line(this.slot(i))) as CcEvent);
    return out;
  }

  /** How many held events have a seq below `seq` (they are the oldest `countBelow(seq)`). */
  countBelow(seq: number): number {
    return this.firstAfter(seq - 1);
  }

  /** Events matching `f`, newest first. */
  query(f: EventFilter): CcEvent[] {
    const out: CcEvent[] = [];
    const limit = f.limit ?? DEFAULT_QUERY_LIMIT;
    const end = f.before !== undefined ? this.firstAfter(f.before - 1) : this.n;
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const s = this.slot(i);
      if (f.node_id !== undefined && this.nodes[s] !== f.node_id) continue;
      if (f.type && !this.types[s]!.startsWith(f.type)) continue;
      out.push(JSON.parse(this.line(s)) as CcEvent);
    }
    return out;
  }

  /**
   * The lines of events `from` to `to` (0 = oldest, `to` excluded), each with its newline, as views of the arena:
   * one view per run of lines in one chunk. The views stay valid after the lines fall out of the ring.
   */
  bytes(from: number, to: number): Buffer[] {
    const out: Buffer[] = [];
    let runChunk = -1;
    let runStart = 0;
    let runEnd = 0;
    for (let i = Math.max(0, from); i < Math.min(to, this.n); i++) {
      const s = this.slot(i);
      const c = this.chunkNo[s]!;
      if (c === runChunk && this.offs[s] === runEnd) runEnd += this.lens[s]!;
      else {
        if (runChunk >= 0) out.push(this.chunks[runChunk - this.firstChunk]!.subarray(runStart, runEnd));
        runChunk = c;
        runStart = this.offs[s]!;
        runEnd = runStart + this.lens[s]!;
      }
    }
    if (runChunk >= 0) out.push(this.chunks[runChunk - this.firstChunk]!.subarray(runStart, runEnd));
    return out;
  }

  /** The oldest seq held, or Infinity when empty. */
  firstSeq(): number {
    return this.n === 0 ? Infinity : this.seqs[this.head]!;
  }

  /** The newest seq held, or 0. */
  lastSeq(): number {
    return this.n === 0 ? 0 : this.seqs[this.slot(this.n - 1)]!;
  }
}
