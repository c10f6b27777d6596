import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile, quantile } from '../../src/bench/histogram.js';

const INF = Number.POSITIVE_INFINITY;

describe('histogram percentiles (as histogram_quantile)', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    // 10 observations ≤ 0.1, 10 more in (0.1, 0.2], none above.
    const b = [
      { le: 0.1, count: 10 },
      { le: 0.2, count: 20 },
      { le: INF, count: 20 },
    ];
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.1, 10);
    expect(histogramQuantile(b, 0.25)).toBeCloseTo(0.05, 10); // half way into [0, 0.1]
    expect(histogramQuantile(b, 0.75)).toBeCloseTo(0.15, 10);
    expect(histogramQuantile(b, 0.99)).toBeCloseTo(0.198, 10);
  });

  it('skips empty buckets and answers the largest finite bound for a rank in +Inf', () => {
    const b = [
      { le: 0.005, count: 0 },
      { le: 0.01, count: 0 },
      { le: 0.05, count: 4 },
      { le: INF, count: 5 },
    ];
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.01 + 0.04 * (2.5 / 4), 10);
    expect(histogramQuantile(b, 0.99)).toBe(0.05);
  });

  it('is undefined without observations', () => {
    expect(histogramQuantile([{ le: INF, count: 0 }], 0.5)).toBeUndefined();
    expect(histogramQuantile([], 0.5)).toBeUndefined();
  });

  it('subtracts an earlier scrape bucket by bucket (a bucket new since then counts from 0)', () => {
    const before = [
      { le: 0.1, count: 5 },
      { le: INF, count: 6 },
    ];
    const after = [
      { le: 0.05, count: 2 },
      { le: 0.1, count: 9 },
      { le: INF, count: 12 },
    ];
    expect(histogramDelta(before, after)).toEqual([
      { le: 0.05, count: 2 },
      { le: 0.1, count: 4 },
      { le: INF, count: 6 },
    ]);
    expect(histogramDelta(undefined, after)).toEqual(after);
  });

  it('plain quantile: nearest rank over unsorted values', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(values, 0.5)).toBe(5);
    expect(quantile(values, 0.99)).toBe(10);
    expect(quantile(values, 0)).toBe(1);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
});
