import { describe, expect, it } from 'vitest';
import { AudioLag, AUDIO_LAG_BUCKETS_S } from '../../src/observability/audio-lag.js';
import { Metrics } from '../../src/observability/metrics.js';
import { RecentMax } from '../../src/observability/recent-max.js';
import { Stage, StageClock } from '../../src/observability/stage-clock.js';

/** `name{labels} value` lines of the exposition text, as a map. */
async function samples(metrics: Metrics): Promise<Map<string, number>> {
  const text = await metrics.registry.metrics();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('RecentMax', () => {
  it('keeps the largest value per second and forgets seconds older than its window', () => {
    const r = new RecentMax(3);
    r.observe(5, 1_000);
    r.observe(9, 1_900);
    r.observe(2, 2_100);
    expect(r.secondMax(2_500, 0)).toBe(2);
    expect(r.secondMax(2_500, 1)).toBe(9);
    expect(r.max(2_500)).toBe(9);
    // Second 1 leaves the 3-s window at second 4; its slot is reused by second 4.
    expect(r.max(4_000)).toBe(2);
    r.observe(1, 4_200);
    expect(r.secondMax(4_300, 3)).toBe(0);
    expect(r.max(4_300)).toBe(2);
    expect(r.max(10_000)).toBe(0);
  });
});

describe('AudioLag', () => {
  it('counts lags into the contract buckets (seconds), with sum, count and the 10-s max', async () => {
    let now = 50_000;
    const lag = new AudioLag(() => now);
    const metrics = new Metrics({ defaultMetrics: false });
    // Exercise the class through its own registry too.
    const own = new Metrics({ defaultMetrics: false });
    for (const ms of [3, 7, 15, 45, 180, 1500, 20_000, -4]) {
      lag.observe(ms);
      own.audioLag.observe(ms);
    }
    expect(lag.count).toBe(8);
    expect(lag.maxRecentMs()).toBe(20_000);
    now += 11_000;
    expect(lag.maxRecentMs()).toBe(0);

    const s = await samples(own);
    expect(AUDIO_LAG_BUCKETS_S).toEqual([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]);
    // Cumulative: -4 counts as 0.
    expect(s.get('undertone_audio_lag_seconds_bucket{le="0.005"}')).toBe(2);
    expect(s.get('undertone_audio_lag_seconds_bucket{le="0.01"}')).toBe(3);
    expect(s.get('undertone_audio_lag_seconds_bucket{le="0.05"}')).toBe(5);
    expect(s.get('undertone_audio_lag_seconds_bucket{le="0.2"}')).toBe(6);
    expect(s.get('undertone_audio_lag_seconds_bucket{le="2"}')).toBe(7);
    expect(s.get('undertone_audio_lag_seconds_bucket{le="10"}')).toBe(7);
    expect(s.get('undertone_audio_lag_seconds_bucket{le="+Inf"}')).toBe(8);
    expect(s.get('undertone_audio_lag_seconds_count')).toBe(8);
    expect(s.get('undertone_audio_lag_seconds_sum')).toBeCloseTo(21.75, 6);
    expect(s.get('undertone_audio_lag_max_seconds')).toBe(20);
    // A registry with nothing observed still exposes the series (zeros).
    const empty = await samples(metrics);
    expect(empty.get('undertone_audio_lag_seconds_count')).toBe(0);
    expect(empty.get('undertone_audio_lag_max_seconds')).toBe(0);
  });
});

describe('undertone_stage_seconds_total', () => {
  it('sums every registered clock per stage at scrape time, in seconds', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const main = new StageClock();
    const worker = new StageClock();
    metrics.setSources({ stageClock: [main, worker] });
    main.add(Stage.features, 1500);
    worker.add(Stage.features, 500);
    main.add(Stage.model, 250);
    let s = await samples(metrics);
    expect(s.get('undertone_stage_seconds_total{stage="features"}')).toBe(2);
    expect(s.get('undertone_stage_seconds_total{stage="model"}')).toBe(0.25);
    expect(s.get('undertone_stage_seconds_total{stage="pitch"}')).toBe(0);
    // Read afresh on every scrape, never double-counted.
    main.add(Stage.model, 250);
    s = await samples(metrics);
    expect(s.get('undertone_stage_seconds_total{stage="model"}')).toBe(0.5);
    expect(s.get('undertone_stage_seconds_total{stage="features"}')).toBe(2);
    // One clock alone works too.
    metrics.setSources({ stageClock: worker });
    s = await samples(metrics);
    expect(s.get('undertone_stage_seconds_total{stage="features"}')).toBe(0.5);
  });
});
