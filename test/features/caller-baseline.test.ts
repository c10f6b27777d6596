import { describe, expect, it } from 'vitest';
import { concat } from '../../src/audio/synth.js';
import { CallerBaseline } from '../../src/features/caller-baseline.js';
import { createCallerFeatureStream } from '../../src/features/caller-feature-stream.js';
import { FEATURE_NAMES, featureIndex } from '../../src/features/feature-names.js';
import type { FeatureWindow } from '../../src/features/types.js';
import { voiceLike } from './voice-like.js';

const v = (w: FeatureWindow, name: string): number => w.values[featureIndex(name)]!;

function vector(values: Record<string, number>): Float32Array {
  const out = new Float32Array(FEATURE_NAMES.length);
  for (const [k, x] of Object.entries(values)) out[featureIndex(k)] = x;
  return out;
}

describe('CallerBaseline', () => {
  it('gives 0 relative features before any speech, then learns the caller', () => {
    const b = new CallerBaseline();
    const first = vector({ f0_st_mean: 5, rms_db_mean: -30, centroid_hz_mean: 1200, loudness_mean: 10 });
    b.apply(first, 2, true);
    expect(v0(first, 'rel_f0_st_mean')).toBe(0);
    expect(v0(first, 'rel_rms_db_mean')).toBe(0);
    expect(v0(first, 'baseline_log_speech_s')).toBe(0);
    const same = vector({ f0_st_mean: 5, rms_db_mean: -30, centroid_hz_mean: 1200, loudness_mean: 10 });
    b.apply(same, 0.5, true);
    expect(v0(same, 'rel_f0_st_mean')).toBeCloseTo(0, 6);
    expect(v0(same, 'baseline_log_speech_s')).toBeCloseTo(Math.log1p(2), 6);
    const higher = vector({ f0_st_mean: 9, rms_db_mean: -24, centroid_hz_mean: 2400, loudness_mean: 20 });
    b.apply(higher, 0.5, true);
    expect(v0(higher, 'rel_f0_st_mean')).toBeCloseTo(4, 5);
    expect(v0(higher, 'rel_rms_db_mean')).toBeCloseTo(6, 5);
    // Log ratios: an octave up is +12.
    expect(v0(higher, 'rel_centroid_hz_mean')).toBeCloseTo(12, 4);
    expect(v0(higher, 'rel_loudness_mean')).toBeCloseTo(12, 4);
  });

  it('does not absorb a long burst at once once established (bounded updates)', () => {
    const b = new CallerBaseline();
    for (let i = 0; i < 120; i++) b.apply(vector({ f0_st_mean: 0, rms_db_mean: -30 }), 0.5, true); // 60 s calm
    const rel: number[] = [];
    for (let i = 0; i < 40; i++) {
      const w = vector({ f0_st_mean: 8, rms_db_mean: -15 });
      b.apply(w, 0.5, true); // 20 s of shouting
      rel.push(v0(w, 'rel_rms_db_mean'));
    }
    expect(rel[0]).toBeCloseTo(15, 4);
    // After 20 s the caller still reads clearly above their own normal.
    expect(rel.at(-1)!).toBeGreaterThan(8);
  });

  it('leaves pitch baselines alone for windows without pitch', () => {
    const b = new CallerBaseline();
    b.apply(vector({ f0_st_mean: 3 }), 2, true);
    const noPitch = vector({ f0_st_mean: 0 });
    b.apply(noPitch, 1, false);
    expect(v0(noPitch, 'rel_f0_st_mean')).toBe(0);
    const back = vector({ f0_st_mean: 3 });
    b.apply(back, 1, true);
    expect(v0(back, 'rel_f0_st_mean')).toBeCloseTo(0, 6);
  });
});

function v0(x: Float32Array, name: string): number {
  return x[featureIndex(name)]!;
}

describe('relative features on a call', () => {
  it('settle near 0 for a steady caller, then rise when they get louder and higher', () => {
    const calm = voiceLike({ durationS: 40, f0Hz: 120, amplitude: 0.1, seed: 1 });
    const agitated = voiceLike({ durationS: 6, f0Hz: 150, amplitude: 0.3, seed: 2, tilt: 0.7 });
    const s = createCallerFeatureStream();
    const ws: FeatureWindow[] = [];
    const x = concat(calm, agitated);
    for (let i = 0; i < x.length; i += 160) ws.push(...s.push(x.subarray(i, i + 160)));
    const calmEnd = ws.filter((w) => w.endSample <= calm.length && w.startSample >= 30 * 8000);
    expect(calmEnd.length).toBeGreaterThan(10);
    // The synthetic intonation (±2 st at 0.4 Hz) moves a 2 s window's mean
    // F0 by up to about ±1 st; on average the caller reads as their own normal.
    const avg = (name: string): number => calmEnd.reduce((a, w) => a + v(w, name), 0) / calmEnd.length;
    expect(Math.abs(avg('rel_f0_st_mean'))).toBeLessThan(0.25);
    expect(Math.abs(avg('rel_rms_db_mean'))).toBeLessThan(0.5);
    expect(Math.abs(avg('rel_centroid_hz_mean'))).toBeLessThan(0.5);
    for (const w of calmEnd) {
      expect(Math.abs(v(w, 'rel_f0_st_mean'))).toBeLessThan(1.2);
      expect(Math.abs(v(w, 'rel_rms_db_mean'))).toBeLessThan(1.5);
      expect(v(w, 'baseline_log_speech_s')).toBeGreaterThan(Math.log1p(20));
    }
    const loud = ws.filter((w) => w.startSample >= calm.length);
    expect(loud.length).toBeGreaterThan(5);
    for (const w of loud) {
      // 150 vs 120 Hz ≈ +3.9 st; ×3 peak amplitude spread over a flatter
      // spectrum (tilt 0.7 normalises lower) ≈ +7 dB in the band.
      expect(v(w, 'rel_f0_st_mean')).toBeGreaterThan(3);
      expect(v(w, 'rel_rms_db_mean')).toBeGreaterThan(5);
      expect(v(w, 'rel_alpha_ratio_db_mean')).toBeGreaterThan(1);
    }
  });
});
