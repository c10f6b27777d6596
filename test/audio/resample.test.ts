import { describe, expect, it } from 'vitest';
import { createResampler, resampleAll } from '../../src/audio/resample.js';
import { sine } from '../../src/audio/synth.js';

/** Amplitude of the component at `hz` (least squares on sin/cos), ignoring the first and last 10 %. */
function toneAmplitude(x: Float32Array, hz: number, rate: number): number {
  const a = Math.floor(x.length * 0.1);
  const b = Math.floor(x.length * 0.9);
  let s = 0;
  let c = 0;
  for (let i = a; i < b; i++) {
    s += x[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
    c += x[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(s, c)) / (b - a);
}

describe('resampler', () => {
  it('16 kHz → 8 kHz passes 1 kHz and 3 kHz at unit gain', () => {
    for (const hz of [1000, 3000]) {
      const y = resampleAll(sine(hz, 1, 0.5, 16000), 16000);
      expect(y.length).toBe(8000);
      expect(toneAmplitude(y, hz, 8000)).toBeCloseTo(0.5, 2);
    }
  });

  it('16 kHz → 8 kHz removes what would alias (≥ 4.5 kHz → ≤ 3.5 kHz) by more than 60 dB', () => {
    for (const hz of [4500, 5000, 6000, 7500]) {
      const y = resampleAll(sine(hz, 1, 0.5, 16000), 16000);
      const alias = 8000 - hz;
      expect(toneAmplitude(y, alias, 8000)).toBeLessThan(0.5e-3);
    }
  });

  it('keeps the timing: a 1 kHz tone stays in phase (no delay) after 16 → 8 kHz', () => {
    const x = sine(1000, 0.5, 0.5, 16000);
    const y = resampleAll(x, 16000);
    for (let i = 200; i < 3800; i += 97) expect(y[i]).toBeCloseTo(x[2 * i]!, 2);
  });

  it('is chunking-invariant', () => {
    const x = sine(700, 0.7, 0.4, 16000);
    const whole = resampleAll(x, 16000);
    for (const chunk of [1, 7, 320, 999]) {
      const r = createResampler(16000, 8000);
      const parts: number[] = [];
      for (let i = 0; i < x.length; i += chunk) parts.push(...r.process(x.subarray(i, i + chunk)));
      parts.push(...r.flush());
      expect(parts.length).toBe(whole.length);
      expect(Float32Array.from(parts)).toEqual(whole);
    }
  });

  it('converts other rates (44.1 kHz, 48 kHz, 11.025 kHz, 6 kHz) with the generic polyphase path', () => {
    for (const rate of [44100, 48000, 11025, 6000]) {
      const y = resampleAll(sine(800, 1, 0.5, rate), rate);
      expect(y.length).toBe(8000);
      expect(toneAmplitude(y, 800, 8000)).toBeCloseTo(0.5, 2);
    }
    // 44.1 kHz: 9 kHz would fold to 1 kHz without the low-pass.
    expect(toneAmplitude(resampleAll(sine(9000, 1, 0.5, 44100), 44100), 1000, 8000)).toBeLessThan(1e-3);
  });

  it('passes 8 kHz through untouched', () => {
    const x = sine(500, 0.1, 0.5, 8000);
    expect(createResampler(8000).process(x)).toBe(x);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => createResampler(0)).toThrow(RangeError);
    expect(() => createResampler(44100.5)).toThrow(RangeError);
  });
});
