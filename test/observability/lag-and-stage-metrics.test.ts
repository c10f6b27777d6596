import { describe, expect, it } from 'vitest';
import { AudioLag, AUDIO_LAG_BUCKETS_S } from '../../src/observability/audio-lag.js';
import { Metrics } from '../../src/observability/metrics.js';
import { RecentMax } from '../../src/observability/recent-max.js';
import { Stage, StageClock } from '../../src/observability/stage-clock.js';
import { exposedSamples } from './exposition-samples.js';

/** `name{labels} value` lines of the exposition text, as a map. */
async function samples(metrics: Metrics): Promise<Map<string, number>> {
  return exposedSamples(await metrics.registry.metrics());
}

describe('RecentMax', () => {
  it('keeps the largest value per tick and forgets ticks older than its window', () => {
    const r = new RecentMax(3);
    r.observe(5);
    r.observe(9);
    expect(r.max()).toBe(9);
    r.tick();
    r.observe(2);
    expect(r.max()).toBe(9);
    r.tick();
    // Window of 3: the current tick and the 2 newest closed ones.
    expect(r.max()).toBe(9);
    r.tick();
    expect(r.max()).toBe(2);
    r.tick();
    expect(r.max()).toBe(0);
    r.observe(-1);
    expect(r.max()).toBe(0);
  });
});

describe('AudioLag', () => {
  it('counts lags into the contract buckets (seconds), with sum, count and the 10-s max', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const empty = await samples(metrics);
    // Nothing observed yet: the series exist, at zero.
    expect(empty.get('undertone_audio_lag_seconds_count')).toBe(0);
    expect(empty.get('undertone_audio_lag_seconds_bucket{le="+Inf"}')).toBe(0);
    expect(empty.get('undertone_audio_lag_max_seconds')).toBe(0);

    const lag = metrics.audioLag;
    for (const ms of [3, 7, 15, 45, 180, 1500, 20_000, -4]) lag.observe(ms);
    expect(lag.count).toBe(8);
    const s = await samples(metrics);
    expect(AUDIO_LAG_BUCKETS_S).toEqual([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]);
    // Cumulative; -4 (clock jitter) counts as 0.
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

    // The max covers 10 ticks (seconds); the histogram keeps everything.
    for (let i = 0; i < 9; i++) lag.tick();
    expect(lag.maxRecentMs()).toBe(20_000);
    lag.observe(50);
    lag.tick();
    expect(lag.maxRecentMs()).toBe(50);
    expect((await samples(metrics)).get('undertone_audio_lag_seconds_count')).toBe(9);
    expect(new AudioLag().maxRecentMs()).toBe(0);
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

describe('undertone_dsp_batches_total', () => {
  it('exists only once a DSP worker pool is a source, and reads its count at each scrape', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    expect([...(await samples(metrics)).keys()].some((k) => k.startsWith('undertone_dsp_batches_total'))).toBe(false);
    let posted = 3;
    metrics.setSources({ dspBatches: () => posted });
    expect((await samples(metrics)).get('undertone_dsp_batches_total')).toBe(3);
    posted = 10;
    metrics.setSources({ dspBatches: () => posted });
    expect((await samples(metrics)).get('undertone_dsp_batches_total')).toBe(10);
  });
});
