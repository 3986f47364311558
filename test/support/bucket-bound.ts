/**
 * The bound of a flood counted against a token bucket on the real clock (server/nodes/token-bucket.ts and
 * server/events/event-budget.ts: a full bucket of `perMin` at once, then `perMin` a minute refilled). How many got
 * through depends on how long the flood took on this machine, so the bound is taken from that time, never from a
 * guess that the flood ends before the next refill.
 */

/** The most a bucket of `perMin` a minute lets through from `since` (Date.now() before the flood) to `until`. */
export function bucketBound(perMin: number, since: number, until: number = Date.now()): number {
  return perMin + Math.ceil(((until - since) * perMin) / 60_000);
}
