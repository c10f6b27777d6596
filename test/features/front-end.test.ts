import { describe, expect, it } from 'vitest';
import { TelephoneBandFilter } from '../../src/audio/telephone-band.js';
import { concat, harmonicComplex, whiteNoise } from '../../src/audio/synth.js';
import { FeatureFrontEnd } from '../../src/features/front-end.js';
import { PitchInput } from '../../src/features/pitch-input.js';

describe('FeatureFrontEnd', () => {
  it('gives bit-identical band, low-passed and envelope signals to the per-sample filters, in any blocks, with NaN as 0', () => {
    const x = concat(harmonicComplex({ durationS: 0.3, f0Hz: 140, amplitude: 0.4 }), whiteNoise(0.2, 0.05, 5));
    x[1234] = Number.NaN;
    x[2000] = Number.POSITIVE_INFINITY;
    const band = new TelephoneBandFilter(8000);
    const pitch = new PitchInput();
    const ref = { band: new Float32Array(x.length), low: new Float32Array(x.length), env: new Float32Array(x.length) };
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const y = band.step(Number.isFinite(v) ? v : 0);
      pitch.step(y);
      ref.band[i] = y;
      ref.low[i] = pitch.lowPassed;
      ref.env[i] = pitch.envelope;
    }
    const fe = new FeatureFrontEnd(8000);
    const mirror = x.length;
    const got = { band: new Float32Array(2 * mirror), low: new Float32Array(2 * mirror), env: new Float32Array(2 * mirror) };
    for (let i = 0, block = 1; i < x.length; i += block, block = (block * 7) % 173 + 1) {
      const n = Math.min(block, x.length - i);
      fe.process(x, i, n, got.band, got.low, got.env, i, mirror);
    }
    for (const key of ['band', 'low', 'env'] as const) {
      expect(Array.from(got[key].subarray(0, mirror))).toEqual(Array.from(ref[key]));
      // The mirrored copy too.
      expect(Array.from(got[key].subarray(mirror))).toEqual(Array.from(ref[key]));
    }
    expect(ref.env.some((v) => v !== 0)).toBe(true);
  });
});
