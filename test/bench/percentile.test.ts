/** The benches' one percentile and median (bench/percentile.ts): every table's medians come from here. */
import { describe, expect, it } from 'vitest';
import { median, percentile, percentileOf } from '../../bench/percentile.ts';

describe('bench/percentile.ts', () => {
  it('ranks floor(p% of n) of a sorted list, the last for p = 100, null when empty', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(6);
    expect(percentile([1, 2, 3], 100)).toBe(3);
    expect(percentile([1, 2, 3], 0)).toBe(1);
    expect(percentile([], 50)).toBeNull();
  });

  it('median: the middle of an odd count, the upper middle of an even one, in any order, NaN for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([2.5])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('leaves its input as it was', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentileOf(xs, 80)).toBe(5);
    expect(percentileOf(xs, 20)).toBe(2);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
  });
});
