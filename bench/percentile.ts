/** The benches' one percentile: the value at rank floor(p% of n) of an ascending list (the last for p = 100), null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

/** The p-th percentile of figures in any order, as `percentile` ranks it; NaN when there are none. */
export function percentileOf(xs: readonly number[], p: number): number {
  return (
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    ) ?? NaN
  );
}

/** The benches' median: the value at rank floor(n / 2) of the sorted figures (the upper middle of an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  return percentileOf(xs, 50);
}
