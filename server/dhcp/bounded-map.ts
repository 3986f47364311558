/**
 * A Map with a size cap for per-client memory fed by the rack (anyone can send
 * DHCP from a new MAC): past the cap the least recently used entry goes, so a
 * flood of random MACs costs bounded memory and only evicts stale entries.
 */
export class BoundedMap<K, V> {
  private readonly m = new Map<K, V>();
  /** Entries dropped to stay under the cap (for stats). */
  evictions = 0;

  constructor(readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer, got ${cap}`);
  }

  /** Read and mark as recently used. */
  get(k: K): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }

  /** Read without touching the order. */
  peek(k: K): V | undefined {
    return this.m.get(k);
  }

  /** True when `k` is held. */
  has(k: K): boolean {
    return this.m.has(k);
  }

  /** Insert or replace (most recently used), evicting the oldest past the cap. */
  set(k: K, v: V): this {
    this.m.delete(k);
    this.m.set(k, v);
    while (this.m.size > this.cap) {
      const oldest = this.m.keys().next();
      if (oldest.done) break;
      this.m.delete(oldest.value);
      this.evictions++;
    }
    return this;
  }

  /** Forget one key. */
  delete(k: K): boolean {
    return this.m.delete(k);
  }

  /** Entries held now (never more than `cap`). */
  get size(): number {
    return this.m.size;
  }
}
