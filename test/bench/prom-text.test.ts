import { describe, expect, it } from 'vitest';
import { MetricsSnapshot, parsePrometheusText } from '../../src/bench/prom-text.js';

const TEXT = `# HELP undertone_stage_seconds_total Time per stage.
# TYPE undertone_stage_seconds_total counter
undertone_stage_seconds_total{stage="decode"} 0.25
undertone_stage_seconds_total{stage="features"} 1.5e-1

# HELP undertone_audio_lag_seconds Window lag.
# TYPE undertone_audio_lag_seconds histogram
undertone_audio_lag_seconds_bucket{le="0.05"} 3
undertone_audio_lag_seconds_bucket{le="+Inf"} 10
undertone_audio_lag_seconds_bucket{le="0.005"} 1
undertone_audio_lag_seconds_sum 2.5
undertone_audio_lag_seconds_count 10
undertone_refusals_total{reason="over \\"capacity\\"",instance="a,b"} 7 1700000000000
undertone_process_cpu_seconds_total 12.75
`;

describe('Prometheus text parser', () => {
  it('reads samples with and without labels, skipping comments and blank lines', () => {
    const samples = parsePrometheusText(TEXT);
    expect(samples.map((s) => s.name)).toEqual([
      'undertone_stage_seconds_total',
      'undertone_stage_seconds_total',
      'undertone_audio_lag_seconds_bucket',
      'undertone_audio_lag_seconds_bucket',
      'undertone_audio_lag_seconds_bucket',
      'undertone_audio_lag_seconds_sum',
      'undertone_audio_lag_seconds_count',
      'undertone_refusals_total',
      'undertone_process_cpu_seconds_total',
    ]);
    expect(samples[1]).toEqual({ name: 'undertone_stage_seconds_total', labels: { stage: 'features' }, value: 0.15 });
  });

  it('unescapes label values, keeps commas inside quotes and ignores a trailing timestamp', () => {
    const snap = MetricsSnapshot.parse(TEXT);
    const refusals = snap.samples.find((s) => s.name === 'undertone_refusals_total');
    expect(refusals?.labels).toEqual({ reason: 'over "capacity"', instance: 'a,b' });
    expect(refusals?.value).toBe(7);
  });

  it('looks up values, label maps and sorted histogram buckets; absent metrics are undefined', () => {
    const snap = MetricsSnapshot.parse(TEXT);
    expect(snap.value('undertone_process_cpu_seconds_total')).toBe(12.75);
    expect(snap.value('undertone_stage_seconds_total', { stage: 'decode' })).toBe(0.25);
    expect(snap.value('undertone_nope')).toBeUndefined();
    expect([...snap.byLabel('undertone_stage_seconds_total', 'stage')]).toEqual([
      ['decode', 0.25],
      ['features', 0.15],
    ]);
    expect(snap.histogram('undertone_audio_lag_seconds')).toEqual([
      { le: 0.005, count: 1 },
      { le: 0.05, count: 3 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ]);
    expect(snap.histogram('undertone_absent_seconds')).toBeUndefined();
  });
});

describe('MetricsSnapshot.merge (several instances as one fleet)', () => {
  it('adds counters and histogram buckets by name and labels, takes the largest of a _max gauge, keeps what only one has', () => {
    const a = MetricsSnapshot.parse(`undertone_stage_seconds_total{stage="features"} 1.5
undertone_audio_lag_seconds_bucket{le="0.05"} 3
undertone_audio_lag_seconds_bucket{le="+Inf"} 10
undertone_audio_lag_max_seconds 0.2
undertone_refusals_total{reason="capacity",kind="a"} 1
`);
    const b = MetricsSnapshot.parse(`undertone_stage_seconds_total{stage="features"} 2
undertone_stage_seconds_total{stage="decode"} 0.5
undertone_audio_lag_seconds_bucket{le="+Inf"} 5
undertone_audio_lag_seconds_bucket{le="0.05"} 4
undertone_audio_lag_max_seconds 0.05
undertone_refusals_total{kind="a",reason="capacity"} 2
`);
    const m = MetricsSnapshot.merge([a, b]);
    expect(m.byLabel('undertone_stage_seconds_total', 'stage')).toEqual(new Map([['features', 3.5], ['decode', 0.5]]));
    expect(m.histogram('undertone_audio_lag_seconds')).toEqual([
      { le: 0.05, count: 7 },
      { le: Number.POSITIVE_INFINITY, count: 15 },
    ]);
    expect(m.value('undertone_audio_lag_max_seconds')).toBe(0.2);
    // Label order does not make two series.
    expect(m.value('undertone_refusals_total', { reason: 'capacity' })).toBe(3);
    expect(MetricsSnapshot.merge([a])).toBe(a);
  });
});
