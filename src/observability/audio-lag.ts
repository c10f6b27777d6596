/**
 * Window lag (how late each scored window's scores came, see
 * `CallPipeline.onWindowLag`) as Prometheus metrics:
 *
 * - `undertone_audio_lag_seconds`: histogram of every window's lag;
 * - `undertone_audio_lag_max_seconds`: gauge, the largest lag over the last
 *   10 s (0 when no window was scored in them).
 *
 * `observe` runs once per scored window of every call, so it only adds into
 * typed arrays and fields (no labels, no objects, no closures, no clock
 * read; prom-client's Histogram allocates per observation). The exposition
 * objects are built when Prometheus scrapes. The max gauge's window moves
 * when the owner calls `tick()` once a second (buildApp does).
 */
import type { Histogram, Registry } from 'prom-client';
import { RecentMax } from './recent-max.js';

/** Bucket upper bounds, SECONDS (the contract the load generator reads). */
export const AUDIO_LAG_BUCKETS_S: readonly number[] = Object.freeze([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]);

/** Seconds the max gauge looks back over. */
export const AUDIO_LAG_MAX_WINDOW_S = 10;

export class AudioLag {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  private readonly counts = new Float64Array(AUDIO_LAG_BUCKETS_S.length + 1);
  private readonly boundsMs = Float64Array.from(AUDIO_LAG_BUCKETS_S, (s) => s * 1000);
  private sumMs = 0;
  private total = 0;
  /** Per-second maxima over the last 10 s, ms. */
  private readonly recent = new RecentMax(AUDIO_LAG_MAX_WINDOW_S);

  /** One scored window's lag, ms. Negative values (clock jitter) count as 0. */
  observe(lagMs: number): void {
    const v = lagMs > 0 ? lagMs : 0;
    const bounds = this.boundsMs;
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    this.counts[i] = this.counts[i]! + 1;
    this.sumMs += v;
    this.total += 1;
    this.recent.observe(v);
  }

  /** Closes the current second of the max gauge's window; call once a second. */
  tick(): void {
    this.recent.tick();
  }

  /** Windows observed so far. */
  get count(): number {
    return this.total;
  }

  /** Largest lag over the last 10 s, ms. */
  maxRecentMs(): number {
    return this.recent.max();
  }

  /** Registers both metrics on `registry`. */
  register(registry: Registry): void {
    const name = 'undertone_audio_lag_seconds';
    // A prom-client compatible metric object (name, help, type, get, reset);
    // prom-client's own Histogram cannot take pre-counted buckets.
    const histogram = {
      name,
      help: 'Window lag: wall time a scored window was decided minus when its last audio arrived (paced stream)',
      type: 'histogram',
      aggregator: 'sum',
      labelNames: [],
      get: async () => {
        const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
        let acc = 0;
        AUDIO_LAG_BUCKETS_S.forEach((le, i) => {
          acc += this.counts[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { le }, value: acc });
        });
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: this.total });
        values.push({ metricName: `${name}_sum`, labels: {}, value: this.sumMs / 1000 });
        values.push({ metricName: `${name}_count`, labels: {}, value: this.total });
        return { name, help: histogram.help, type: 'histogram', aggregator: 'sum', values };
      },
      reset: () => {
        this.counts.fill(0);
        this.sumMs = 0;
        this.total = 0;
      },
    };
    registry.registerMetric(histogram as unknown as Histogram);

    const maxName = 'undertone_audio_lag_max_seconds';
    const gauge = {
      name: maxName,
      help: `Largest window lag over the last ${AUDIO_LAG_MAX_WINDOW_S} s (0 when no window was scored)`,
      type: 'gauge',
      aggregator: 'max',
      labelNames: [],
      get: async () => ({ name: maxName, help: gauge.help, type: 'gauge', aggregator: 'max', values: [{ labels: {}, value: this.maxRecentMs() / 1000 }] }),
      reset: () => undefined,
    };
    registry.registerMetric(gauge as unknown as Histogram);
  }
}
