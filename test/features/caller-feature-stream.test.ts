import { describe, expect, it } from 'vitest';
import { floatToMuLaw, muLawToFloat } from '../../src/audio/g711.js';
import { concat, harmonicComplex, mix, sine, whiteNoise } from '../../src/audio/synth.js';
import { createCallerFeatureStream } from '../../src/features/caller-feature-stream.js';
import { FEATURE_CONFIG, FEATURE_NAMES, featureIndex } from '../../src/features/feature-names.js';
import type { FeatureWindow } from '../../src/features/types.js';
import { voiceLike } from './voice-like.js';

const v = (w: FeatureWindow, name: string): number => w.values[featureIndex(name)]!;

function run(x: Float32Array, chunk = x.length, flush = false): FeatureWindow[] {
  const s = createCallerFeatureStream();
  const out: FeatureWindow[] = [];
  for (let i = 0; i < x.length; i += chunk) out.push(...s.push(x.subarray(i, i + chunk)));
  if (flush) out.push(...s.flush());
  expect(s.samplesSeen).toBe(x.length);
  return out;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('feature layout', () => {
  it('names 60–160 unique features and keeps the fixed parameters', () => {
    expect(FEATURE_NAMES.length).toBeGreaterThanOrEqual(60);
    expect(FEATURE_NAMES.length).toBeLessThanOrEqual(160);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    expect(FEATURE_CONFIG.frameSamples).toBe(256);
    expect(FEATURE_CONFIG.hopSamples).toBe(160);
    expect(FEATURE_CONFIG.windowSamples).toBe(16000);
    expect(FEATURE_CONFIG.windowHopSamples).toBe(4000);
    expect(() => featureIndex('no_such_feature')).toThrow();
  });
});

describe('CallerFeatureStream', () => {
  const speech = voiceLike({ durationS: 6.3 });

  it('emits a 2 s window every 0.5 s of speech, on the audio clock', () => {
    const ws = run(speech);
    // 6.3 s: windows end at 2.0, 2.5, … 6.0 s.
    expect(ws.map((w) => w.startSample)).toEqual([0, 4000, 8000, 12000, 16000, 20000, 24000, 28000, 32000]);
    for (const w of ws) {
      expect(w.endSample - w.startSample).toBe(16000);
      expect(w.values.length).toBe(FEATURE_NAMES.length);
      expect(w.speechRatio).toBeGreaterThan(0.5);
      expect(w.speechRatio).toBeLessThanOrEqual(1);
      for (const x of w.values) expect(Number.isFinite(x)).toBe(true);
      expect(v(w, 'speech_ratio')).toBeCloseTo(w.speechRatio, 6);
    }
  });

  it('gives identical windows whether pushed in 160-sample chunks, 1,000-sample chunks, odd chunks or at once', () => {
    const whole = run(speech);
    for (const chunk of [160, 1000, 37, 4001]) expect(run(speech, chunk)).toEqual(whole);
  });

  it('is deterministic across streams', () => {
    expect(run(speech, 320)).toEqual(run(speech, 320));
  });

  it('emits nothing for silence, line noise, mu-law idle noise, or a steady hum', () => {
    expect(run(new Float32Array(8000 * 5))).toEqual([]);
    expect(run(whiteNoise(6, 0.01, 11))).toEqual([]);
    expect(run(whiteNoise(6, 0.05, 12))).toEqual([]);
    // mu-law-coded faint hiss, as an idle phone line delivers it.
    expect(run(muLawToFloat(floatToMuLaw(whiteNoise(6, 0.0008, 13))))).toEqual([]);
    // Brown-ish rumble + hiss: low-passed noise.
    const rumble = whiteNoise(6, 0.05, 14);
    for (let i = 1; i < rumble.length; i++) rumble[i] = 0.97 * rumble[i - 1]! + 0.03 * rumble[i]!;
    expect(run(mix(rumble, whiteNoise(6, 0.003, 15)))).toEqual([]);
    // 50 Hz mains hum with harmonics through a steady line: periodic, but its own floor.
    const hum = harmonicComplex({ durationS: 8, f0Hz: 50, amplitude: 0.05, maxHz: 1000 });
    expect(run(hum).filter((w) => w.startSample >= 16000)).toEqual([]);
  });

  it('emits nothing for DTMF key presses and call-progress tones', () => {
    const tones = (on: number, off: number, reps: number, a: number, b: number): Float32Array =>
      concat(...Array.from({ length: reps }, () => concat(mix(sine(a, on, 0.1), sine(b, on, 0.1)), new Float32Array(off * 8000))));
    const line = (x: Float32Array): Float32Array => mix(x, whiteNoise(x.length / 8000, 0.0005, 21));
    expect(run(line(tones(0.1, 0.1, 40, 697, 1209)))).toEqual([]); // DTMF "1" pressed 40 times
    expect(run(line(tones(2, 4, 3, 440, 480)))).toEqual([]); // US ringback
    expect(run(line(tones(0.5, 0.5, 10, 480, 620)))).toEqual([]); // busy
    expect(run(line(tones(0.4, 0.2, 10, 400, 450)))).toEqual([]); // UK ringback cadence
  });

  it('still hears a caller who speaks right after pressing keys', () => {
    const keys = concat(...Array.from({ length: 5 }, () => concat(mix(sine(770, 0.1, 0.1), sine(1336, 0.1, 0.1)), new Float32Array(800))));
    const ws = run(concat(keys, voiceLike({ durationS: 4 })));
    expect(ws.length).toBeGreaterThanOrEqual(6);
    expect(v(ws.at(-1)!, 'syl_rate')).toBeGreaterThan(3);
  });

  it('skips windows with too little speech', () => {
    // 0.3 s of speech in the middle of 4 s of faint noise: < 25 % of any window.
    const x = concat(whiteNoise(1.8, 0.0005, 1), voiceLike({ durationS: 0.3 }), whiteNoise(1.9, 0.0005, 2));
    expect(run(x)).toEqual([]);
  });

  it('raises level features when the voice gets louder, keeping the shape-only ones', () => {
    // The same recording 12 dB apart, line noise included (far enough above
    // the −60 dBFS speech minimum that the same frames count as speech).
    const x = voiceLike({ durationS: 4, amplitude: 0.2, noiseRms: 0.001 });
    const quiet = run(x);
    const loud = run(x.map((s) => s * 4));
    const q = quiet.at(-1)!;
    const l = loud.at(-1)!;
    const step = 20 * Math.log10(4);
    expect(v(l, 'rms_db_mean') - v(q, 'rms_db_mean')).toBeCloseTo(step, 1);
    expect(v(l, 'rms_db_p90') - v(q, 'rms_db_p90')).toBeCloseTo(step, 1);
    expect(v(l, 'loudness_mean')).toBeGreaterThan(v(q, 'loudness_mean') * 1.3);
    expect(v(l, 'mfcc0_mean')).toBeGreaterThan(v(q, 'mfcc0_mean') + 5);
    // Relative-to-own-peak level and spectral shape do not depend on level.
    expect(v(l, 'rms_db_mean_re_p90')).toBeCloseTo(v(q, 'rms_db_mean_re_p90'), 0);
    expect(v(l, 'centroid_hz_mean')).toBeCloseTo(v(q, 'centroid_hz_mean'), -1);
    expect(v(l, 'f0_st_mean')).toBeCloseTo(v(q, 'f0_st_mean'), 1);
  });

  it('measures the ut-features-3 voice-quality and balance features over voiced speech', () => {
    const soft = run(voiceLike({ durationS: 4, tilt: 1.5 })).at(-1)!;
    const pressed = run(voiceLike({ durationS: 4, tilt: 0.5 })).at(-1)!;
    // More vocal effort (flatter source spectrum): more energy above 1 kHz and
    // 2 kHz, a flatter 500–1500 Hz slope and a smaller Hammarberg index and A1−A3.
    expect(v(pressed, 'alpha_ratio_v_mean')).toBeGreaterThan(v(soft, 'alpha_ratio_v_mean') + 3);
    expect(v(pressed, 'band_hi_db_mean')).toBeGreaterThan(v(soft, 'band_hi_db_mean') + 3);
    expect(v(pressed, 'slope_mid_v_mean')).toBeGreaterThan(v(soft, 'slope_mid_v_mean'));
    expect(v(pressed, 'hammarberg_v_mean')).toBeLessThan(v(soft, 'hammarberg_v_mean'));
    for (const w of [soft, pressed]) {
      // Formants of a buzz are LPC's guess, but ordered and inside the band.
      expect(v(w, 'f1_hz_mean')).toBeGreaterThan(250);
      expect(v(w, 'f2_hz_mean')).toBeGreaterThan(v(w, 'f1_hz_mean'));
      expect(v(w, 'f3_hz_mean')).toBeGreaterThan(v(w, 'f2_hz_mean'));
      expect(v(w, 'f3_hz_mean')).toBeLessThan(3700);
      // 4 Hz syllables of ~equal length: voiced segments ~0.15–0.25 s, gaps between them.
      expect(v(w, 'unvoiced_seg_mean_s')).toBeGreaterThan(0);
      expect(v(w, 'loudness_peak_rate')).toBeGreaterThan(2);
      expect(v(w, 'loudness_peak_rate')).toBeLessThan(8);
      // Intonation ±2 st at 0.4 Hz rises and falls at most ~5 st/s.
      expect(v(w, 'f0_rise_st_s')).toBeGreaterThan(0);
      expect(v(w, 'f0_rise_st_s')).toBeLessThan(15);
      expect(v(w, 'f0_fall_st_s')).toBeGreaterThan(0);
      expect(v(w, 'f0_fall_st_s')).toBeLessThan(15);
    }
  });

  it('measures the F0 contour shape of voiced runs (ut-features-4): peak position and final movement', () => {
    // 2.5 syllables/s: 0.3 s voiced (20 ms raised-cosine ramps), 0.1 s silent.
    // Within each syllable F0 moves 4 st: "falling" peaks at 20 % of the
    // syllable and ends 4 st below its peak; "rising" climbs to its end.
    const syllables = (shape: 'falling' | 'rising'): Float32Array => {
      const pos = (t: number): number => (t % 0.4) / 0.3;
      const contour = (p: number): number => (shape === 'rising' ? 4 * p : p < 0.2 ? 2 + 5 * p : 3 - 5 * (p - 0.2));
      const voice = harmonicComplex({
        durationS: 5,
        f0Hz: (t) => 160 * Math.pow(2, contour(Math.min(pos(t), 1)) / 12),
        amplitude: 0.2,
        envelope: (t) => {
          const u = t % 0.4;
          if (u >= 0.3) return 0;
          const edge = Math.min(u, 0.3 - u);
          return edge >= 0.02 ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / 0.02);
        },
      });
      return mix(voice, whiteNoise(5, 0.0005, 3));
    };
    const falling = run(syllables('falling')).slice(1);
    const rising = run(syllables('rising')).slice(1);
    expect(falling.length).toBeGreaterThan(3);
    expect(rising.length).toBeGreaterThan(3);
    for (const w of falling) {
      // Peak at ~20 % of the run; the last 3 frames lie ~2 st below the run's mean.
      expect(v(w, 'f0_peak_pos')).toBeGreaterThan(0.05);
      expect(v(w, 'f0_peak_pos')).toBeLessThan(0.4);
      expect(v(w, 'f0_final_st')).toBeLessThan(-1);
    }
    for (const w of rising) {
      expect(v(w, 'f0_peak_pos')).toBeGreaterThan(0.8);
      expect(v(w, 'f0_final_st')).toBeGreaterThan(1);
    }
  });

  it('tracks shouted female F0 above 500 Hz (ceiling 650 Hz since ut-features-4)', () => {
    expect(FEATURE_CONFIG.f0MaxHz).toBe(650);
    // 540 Hz ± 2 st (481–606 Hz) = 29.2 st re 100 Hz; the 500 Hz ceiling
    // read such voices at half their F0 (17 st) or unvoiced.
    const ws = run(voiceLike({ durationS: 5, f0Hz: 540 }));
    for (const w of ws) {
      expect(v(w, 'voiced_ratio')).toBeGreaterThan(0.6);
      expect(v(w, 'f0_st_p50')).toBeGreaterThan(27);
      expect(v(w, 'f0_st_p50')).toBeLessThan(31);
    }
  });

  it('runs the pitch tracker on every 2nd frame and holds its F0 on the frame between', () => {
    const f0 = new Map<number, number>();
    const s = createCallerFeatureStream({ onFrame: (f) => void (f.pitchAnalysed && f.voiced && f0.set(f.index, f.f0Hz)) });
    s.push(voiceLike({ durationS: 3, f0Hz: 200 }));
    let held = 0;
    let moved = 0;
    for (const [k, hz] of f0) {
      const prev = f0.get(k - 1);
      if (prev === undefined) continue;
      if (k % 2 === 1) {
        expect(hz).toBe(prev);
        held++;
      } else if (hz !== prev) moved++;
    }
    // ±2 st of intonation: tracked (even) frames differ from the frame before.
    expect(held).toBeGreaterThan(40);
    expect(moved).toBeGreaterThan(held / 2);
  });

  it('finds F0 in semitones re 100 Hz', () => {
    const ws = run(voiceLike({ durationS: 5, f0Hz: 200 }));
    // 200 Hz = 12 st; intonation ±2 st around it.
    for (const w of ws) {
      expect(v(w, 'f0_st_mean')).toBeGreaterThan(10);
      expect(v(w, 'f0_st_mean')).toBeLessThan(14);
      expect(v(w, 'voiced_ratio')).toBeGreaterThan(0.7);
    }
  });

  it('estimates the syllable rate of 4 Hz and 6 Hz amplitude modulation', () => {
    for (const rate of [4, 6]) {
      const ws = run(voiceLike({ durationS: 8, syllableRate: rate }));
      const syl = mean(ws.map((w) => v(w, 'syl_rate')));
      expect(syl).toBeGreaterThan(rate * 0.85);
      expect(syl).toBeLessThan(rate * 1.15);
      const segs = mean(ws.map((w) => v(w, 'voiced_seg_rate')));
      expect(segs).toBeGreaterThan(rate * 0.7);
      expect(segs).toBeLessThan(rate * 1.15);
    }
  });

  it('flushes one shorter window for a clip under 2 s, and none after a window boundary', () => {
    const clip = voiceLike({ durationS: 1.8 });
    expect(run(clip)).toEqual([]);
    const ws = run(clip, 160, true);
    expect(ws.length).toBe(1);
    expect(ws[0]!.startSample).toBe(0);
    expect(ws[0]!.endSample).toBe(clip.length);
    expect(v(ws[0]!, 'syl_rate')).toBeGreaterThan(3);
    const s = createCallerFeatureStream();
    expect(s.push(voiceLike({ durationS: 2.1 })).length).toBe(1);
    expect(s.flush()).toEqual([]);
    expect(() => s.push(new Float32Array(10))).toThrow();
  });

  it('tolerates NaN and out-of-range input without poisoning the call', () => {
    const x = voiceLike({ durationS: 4 });
    x[100] = Number.NaN;
    x[200] = Number.POSITIVE_INFINITY;
    const ws = run(x);
    expect(ws.length).toBeGreaterThan(0);
    for (const w of ws) for (const y of w.values) expect(Number.isFinite(y)).toBe(true);
  });

  it('logs the per-frame cost of the whole extractor', () => {
    const x = voiceLike({ durationS: 30 });
    run(x, 160);
    const t = performance.now();
    const s = createCallerFeatureStream();
    for (let i = 0; i < x.length; i += 160) s.push(x.subarray(i, i + 160));
    const us = ((performance.now() - t) * 1000) / s.framesSeen;
    console.log(`extractor: ${us.toFixed(1)} µs/frame on continuous voiced speech (${(20_000 / us).toFixed(0)}× real time per core)`);
    expect(s.framesSeen).toBe(1499);
  });
});
