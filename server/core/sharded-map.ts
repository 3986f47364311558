/**
 * A Map split over many small Maps by a hash of the key, for indexes that grow with the rack (leases by MAC and
 * by address). A JavaScript Map grows by building a table twice the size and moving every entry into it, all in
 * one call: two such Maps filled together took 2.6-2.8 ms at 4,096 entries, 5-7 at 8,192, 10-11 at 16,384 and
 * 37-43 at 65,536 on the machine of 2026-12-02, time in which a DHCP server answers nothing (docs/perf/changes.md,
 * "Lease indexes in shards"). Split over SHARDS Maps, each grows in steps a SHARDS-th of that size, spread over the
 * whole growth. Pure.
 *
 * Iteration visits shard after shard: it is not insertion order.
 */

/** Shards per map: at 65,536 entries (a /16 pool) each holds about 256, and a growth moves no more than that. */
export const SHARDS = 256;
const MASK = SHARDS - 1;

/**
 * The shard of a key: numbers (IPv4 addresses as integers) by their low bits, strings by FNV-1a of their last eight
 * chars (a MAC's last three bytes, a dotted quad's last two octets: where the keys of one rack differ). Eight, not
 * all: a hash of every char of a MAC cost more than the Map lookup it guards (about 85 ns against 30-70 ns, here).
 */
export function shardOf(k: string | number): number {
  if (typeof k === 'number') return (k ^ (k >>> 8)) & MASK;
  const n = k.length;
  let h = 0x811c9dc5;
  for (let i = n > 8 ? n - 8 : 0; i < n; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) & MASK;
}

/** The Map operations the indexes use, over SHARDS Maps. */
export class ShardedMap<K extends string | number, V> implements Iterable<[K, V]> {
  private readonly shards: Map<K, V>[] = Array.from({ length: SHARDS }, () => new Map<K, V>());
  private n = 0;

  /** Entries held. */
  get size(): number {
    return this.n;
  }

  get(k: K): V | undefined {
    return this.shards[shardOf(k)]!.get(k);
  }

  has(k: K): boolean {
    return this.shards[shardOf(k)]!.has(k);
  }

  set(k: K, v: V): this {
    const m = this.shards[shardOf(k)]!;
    const before = m.size;
    m.set(k, v);
    this.n += m.size - before;
    return this;
  }

  delete(k: K): boolean {
    const gone = this.shards[shardOf(k)]!.delete(k);
    if (gone) this.n--;
    return gone;
  }

  clear(): void {
    for (const m of this.shards) m.clear();
    this.n = 0;
  }

  *values(): IterableIterator<V> {
    for (const m of this.shards) yield* m.values();
  }

  *keys(): IterableIterator<K> {
    for (const m of this.shards) yield* m.keys();
  }

  *entries(): IterableIterator<[K, V]> {
    for (const m of this.shards) yield* m.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
