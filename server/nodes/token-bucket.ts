/** Token buckets per key, with a bounded number of keys. Pure: the caller passes the clock. */

/** One bucket: tokens left and when they were counted. */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Rate limits keyed by source. Each bucket holds up to `perMin` tokens and refills `perMin` per minute,
 * so a burst of one minute's allowance passes and the rest waits. At most `maxKeys` buckets are kept
 * (least recently used goes first): a flood of sources cannot grow memory; a source pushed out starts
 * over with a full bucket, which is why the callers also keep global caps.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly maxKeys: number) {}

  /** Take `cost` tokens from `key`'s bucket; false (nothing taken) when it has fewer. `perMin` 0 = unlimited. */
  take(key: string, cost: number, perMin: number, now: number): boolean {
    if (perMin <= 0) return true;
    const b = this.refill(key, perMin, now);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /** Tokens `key` has right now (a full bucket when unknown). */
  peek(key: string, perMin: number, now: number): number {
    if (perMin <= 0) return Infinity;
    const b = this.buckets.get(key);
    return b ? Math.min(perMin, b.tokens + ((now - b.at) * perMin) / 60_000) : perMin;
  }

  /** Number of keys held (bounded by maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string, perMin: number, now: number): Bucket {
    const old = this.buckets.get(key);
    const b: Bucket = old ? { tokens: refilled(old.tokens, old.at, perMin, now), at: now } : { tokens: perMin, at: now };
    // Re-insert so the map's order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, b);
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return b;
  }
}

/**
 * The tokens of a bucket that held `tokens` at `at`, at `now`: refilled `perMin` a minute (none for a clock gone
 * back), never more than `perMin`. Pure; also the DHCP event budget's refill (server/events/event-budget.ts).
 */
export function refilled(tokens: number, at: number, perMin: number, now: number): number {
  return Math.min(perMin, tokens + (Math.max(0, now - at) * perMin) / 60_000);
}
