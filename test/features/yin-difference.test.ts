import { describe, expect, it } from 'vitest';
import { harmonicComplex, mix, whiteNoise } from '../../src/audio/synth.js';
import { YinDifference } from '../../src/features/yin-difference.js';

/** The definition: d(τ) = Σ_{j<W} (x_{a+j} − x_{a+j+τ})², a = (τmax+1−τ) >> 1. */
function direct(x: Float32Array, offset: number, W: number, tauMax: number): Float64Array {
  const d = new Float64Array(tauMax + 2);
  for (let tau = 1; tau <= tauMax + 1; tau++) {
    const a = offset + ((tauMax + 1 - tau) >> 1);
    let s = 0;
    for (let j = 0; j < W; j++) {
      const e = x[a + j]! - x[a + j + tau]!;
      s += e * e;
    }
    d[tau] = s;
  }
  return d;
}

describe('YinDifference', () => {
  it('equals the direct centred difference function up to rounding, for several ranges and offsets', () => {
    const x = mix(harmonicComplex({ durationS: 0.2, f0Hz: 118, amplitude: 0.3 }), whiteNoise(0.2, 0.02, 9));
    for (const [W, tauMax] of [
      [240, 134],
      [240, 16],
      [160, 99],
      [240, 255],
    ] as const) {
      const yd = new YinDifference(W, tauMax);
      const got = new Float64Array(tauMax + 2);
      for (const offset of [0, 37, 400]) {
        yd.compute(x, offset, got);
        const want = direct(x, offset, W, tauMax);
        let energy = 0;
        for (let i = 0; i < W + tauMax + 1; i++) energy += x[offset + i]! ** 2;
        expect(got[0]).toBe(0);
        for (let tau = 1; tau <= tauMax + 1; tau++) expect(Math.abs(got[tau]! - want[tau]!)).toBeLessThanOrEqual(1e-12 * energy);
      }
    }
  });

  it('is exactly zero for silence and finds the period of a periodic signal', () => {
    const yd = new YinDifference(240, 134);
    const got = new Float64Array(136);
    yd.compute(new Float32Array(375), 0, got);
    expect(Array.from(got).every((v) => v === 0)).toBe(true);
    const period = 50;
    const x = Float32Array.from({ length: 375 }, (_, i) => Math.sin((2 * Math.PI * i) / period) + 0.5 * Math.sin((4 * Math.PI * i) / period + 1));
    yd.compute(x, 0, got);
    expect(got[period]!).toBeLessThan(1e-9 * got[period / 2]!);
  });
});
