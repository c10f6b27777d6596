/**
 * Percentiles from Prometheus cumulative histogram buckets, the way
 * `histogram_quantile` does it: find the bucket holding the rank, then
 * interpolate linearly inside it. The bench takes two scrapes and uses the
 * difference, so only the observations of the measurement window count.
 */
import type { HistogramBuckets } from './prom-text.js';

/** Bucket counts of `after` minus `before` (same bounds; a bucket absent before counts from 0). */
export function histogramDelta(before: HistogramBuckets | undefined, after: HistogramBuckets): HistogramBuckets {
  return after.map((b) => ({ le: b.le, count: b.count - (before?.find((x) => x.le === b.le)?.count ?? 0) }));
}

/**
 * The `q` quantile (0..1) of cumulative `buckets`, in the buckets' unit.
 * Undefined when there are no observations. A rank in the `+Inf` bucket
 * returns the largest finite bound (as Prometheus does): "at least this".
 */
export function histogramQuantile(buckets: HistogramBuckets, q: number): number | undefined {
  const last = buckets[buckets.length - 1];
  if (!last || !(last.count > 0)) return undefined;
  const rank = q * last.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank && b.count > prevCount) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    if (Number.isFinite(b.le)) prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** The `q` quantile of plain values (nearest rank); NaN for none. Sorts a copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
