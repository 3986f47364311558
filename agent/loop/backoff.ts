/** Exponential back-off with full jitter (AWS architecture blog's "full jitter"): pure. */

/** First retry after about a second: an appliance restart takes a few. */
export const DEFAULT_BACKOFF_BASE_MS = 1000;
/** Never wait more than five minutes: the operator expects nodes to show up soon after the appliance is back. */
export const DEFAULT_BACKOFF_CAP_MS = 300_000;

/** Upper bound of the wait before retry number `attempt` (1-based). */
export function backoffCeiling(attempt: number, baseMs: number, capMs: number): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(capMs, baseMs * 2 ** exp);
}

/** The wait before retry `attempt`: uniform in [ceiling/2, ceiling] so it grows yet spreads a rack out. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const c = backoffCeiling(attempt, baseMs, capMs);
  return Math.round(c / 2 + random() * (c / 2));
}
