import { describe, expect, it } from 'vitest';
import { HalfbandDecimator } from '../../src/audio/halfband.js';
import { createPolyphaseResampler, createResampler, outputsAfter, resampleAll } from '../../src/audio/resample.js';
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

  it('16 kHz → 8 kHz is the half-band decimator: flat through the telephone band, the fold-back kept above it', () => {
    expect(createResampler(16000, 8000)).toBeInstanceOf(HalfbandDecimator);
    // Unit gain (within 0.05 dB) up to the features' band edge, 3.4 kHz …
    for (const hz of [300, 2000, 3400]) expect(20 * Math.log10(toneAmplitude(resampleAll(sine(hz, 1, 0.5, 16000), 16000), hz, 8000) / 0.5)).toBeCloseTo(0, 1);
    // … and what folds back into 3.4–3.6 kHz (inputs at 4.4–4.6 kHz) is down by more than 70 dB.
    for (const hz of [4400, 4600]) expect(toneAmplitude(resampleAll(sine(hz, 1, 0.5, 16000), 16000), 8000 - hz, 8000)).toBeLessThan(0.5 * 10 ** (-70 / 20));
    // An odd number of inputs: the last output sits on the last input (ceil(n / 2) in all).
    expect(resampleAll(sine(1000, 1, 0.5, 16000).subarray(0, 8001), 16000)).toHaveLength(4001);
  });

  it('the half-band decimator and the generic filter give the same speech-band signal (within −80 dB)', () => {
    const n = 16000;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 310 * i) / 16000) + 0.2 * Math.sin((2 * Math.PI * 1234 * i) / 16000) + 0.1 * Math.sin((2 * Math.PI * 3000 * i) / 16000);
    const a = resampleAll(x, 16000);
    const g = createPolyphaseResampler(16000, 8000);
    const b = Float32Array.from([...g.process(x), ...g.flush()]);
    expect(a.length).toBe(b.length);
    let diff = 0;
    let power = 0;
    for (let i = 500; i < a.length - 500; i++) {
      diff += (a[i]! - b[i]!) ** 2;
      power += b[i]! ** 2;
    }
    expect(10 * Math.log10(diff / power)).toBeLessThan(-80);
  });

  it('at 16, 24, 32 and 48 kHz the output count is a function of the input count (outputsAfter), however the input is chunked', () => {
    for (const rate of [16000, 24000, 32000, 48000]) {
      const r = createResampler(rate, 8000);
      const count = outputsAfter(rate)!;
      const x = sine(440, 1, 0.5, rate);
      let inputs = 0;
      let outputs = 0;
      for (const size of [1, 63, 1, 2, 320, 7, 641, 64, 1000, 5]) {
        outputs += r.process(x.subarray(inputs, inputs + size)).length;
        inputs += size;
        expect(outputs).toBe(count(inputs));
      }
    }
    expect(outputsAfter(16000)!(1000)).toBe(HalfbandDecimator.outputsAfter(1000));
    // 44.1 kHz, a fractional ratio (80 phases), has no closed form here: such calls are not held.
    expect(outputsAfter(44100)).toBeUndefined();
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
