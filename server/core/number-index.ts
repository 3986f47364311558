/**
 * A hash index from integer keys (0..2^53-1: IPv4 addresses, 48-bit MACs) to slot numbers, on typed arrays: open
 * addressing with linear probing, deleted entries left as tombstones until the next rebuild.
 *
 * Why not a Map: the lease indexes hold one entry per lease, and everything a Map holds is on V8's heap; a new
 * entry's table space, and the table a Map builds twice the size when it fills, are young objects a scavenge
 * copies. Here the keys and slots live in typed arrays whose memory is outside the heap, so an insert allocates
 * nothing V8 collects, and a rebuild copies bytes no collector looks at (docs/perf/changes.md, "Leases off the
 * heap"). A rebuild happens inside the `set` that fills the arrays past half; at 65,536 leases it moves them all in
 * about a millisecond. Pure.
 */

const EMPTY = -1;
const TOMB = -2;
/**
 * Entries an index takes before its first rebuild, unless told otherwise: 16,384 (a /18 of leases), in 32,768
 * slots, 384 KiB. Made room for up front because a rebuild in the first second of a burst ran before V8 had
 * compiled it, a stall of milliseconds.
 */
export const DEFAULT_ENTRIES = 16_384;

/** The probe start of a key: the two 26/27-bit halves mixed, then the finalizer of the "lowbias32" hash. */
function hashOf(k: number): number {
  let h = (k | 0) ^ Math.imul((k / 0x4000000) | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

/** A Map<number, number> for non-negative integer keys and non-negative values, off V8's heap. */
export class NumberIndex {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private n = 0;
  /** Live keys plus tombstones. */
  private used = 0;

  /** @param entries how many entries fit before the first rebuild (at most half the slots are used). */
  constructor(entries = DEFAULT_ENTRIES) {
    let slots = 16;
    while (slots < entries * 2) slots *= 2;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.vals = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.n;
  }

  /** The array index holding `k`, or -1. */
  private find(k: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = hashOf(k) & mask;
    for (;;) {
      const s = keys[i]!;
      if (s === k) return i;
      if (s === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** The value of `k`, or -1. */
  get(k: number): number {
    const i = this.find(k);
    return i < 0 ? -1 : this.vals[i]!;
  }

  /** Set `k` to `v` (both non-negative integers; `k` below 2^53). */
  set(k: number, v: number): void {
    if (!(Number.isSafeInteger(k) && k >= 0)) throw new RangeError(`NumberIndex: keys are integers 0..2^53-1, not ${k}`);
    const keys = this.keys;
    const mask = this.mask;
    let i = hashOf(k) & mask;
    let tomb = -1;
    for (;;) {
      const s = keys[i]!;
      if (s === k) {
        this.vals[i] = v;
        return;
      }
      if (s === EMPTY) break;
      if (s === TOMB && tomb < 0) tomb = i;
      i = (i + 1) & mask;
    }
    if (tomb >= 0) i = tomb;
    else this.used++;
    keys[i] = k;
    this.vals[i] = v;
    this.n++;
    if (this.used * 2 > mask + 1) this.rebuild();
  }

  /** Remove `k`; true when it was there. */
  delete(k: number): boolean {
    const i = this.find(k);
    if (i < 0) return false;
    this.keys[i] = TOMB;
    this.n--;
    return true;
  }

  /** Every entry, in no particular order, as [key, value] pairs (for tests and rare scans). */
  *entries(): IterableIterator<[number, number]> {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) yield [keys[i]!, this.vals[i]!];
  }

  /** For each entry, how many slots a lookup of it walks (1 = found at once): how well the keys spread. */
  probeLengths(): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.keys.length; j++) {
      const k = this.keys[j]!;
      if (k >= 0) out.push(((j - (hashOf(k) & this.mask) + this.keys.length) & this.mask) + 1);
    }
    return out;
  }

  /** Move the entries into fresh arrays: twice the size when more than a quarter of them are live, else the same. */
  private rebuild(): void {
    const { keys, vals } = this;
    const slots = this.n * 4 > keys.length ? keys.length * 2 : keys.length;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.vals = new Int32Array(slots);
    this.mask = slots - 1;
    this.used = this.n;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j]!;
      if (k < 0) continue;
      let i = hashOf(k) & this.mask;
      while (this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.vals[i] = vals[j]!;
    }
  }
}
