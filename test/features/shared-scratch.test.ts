/**
 * Per-thread working buffers and tables shared by every call (YIN difference
 * scratch, the spectrum's FFT and arrays, MFCC tables): calls whose frames are
 * analysed interleaved on one thread get exactly what each gets alone.
 */
import { describe, expect, it } from 'vitest';
import { harmonicComplex, mix, whiteNoise } from '../../src/audio/synth.js';
import { createCallerFeatureStream } from '../../src/features/caller-feature-stream.js';
import type { FeatureWindow } from '../../src/features/types.js';
import { YinDifference } from '../../src/features/yin-difference.js';
import { voiceLike } from './voice-like.js';

function alone(x: Float32Array, chunk: number): FeatureWindow[] {
  const s = createCallerFeatureStream();
  const out: FeatureWindow[] = [];
  for (let i = 0; i < x.length; i += chunk) out.push(...s.push(x.subarray(i, i + chunk)));
  return out;
}

describe('shared working buffers', () => {
  it('YinDifference: trackers of the same and of other settings, computed in turn, give what a fresh tracker gives', () => {
    const a = mix(harmonicComplex({ durationS: 0.3, f0Hz: 118, amplitude: 0.3 }), whiteNoise(0.3, 0.02, 3));
    const b = mix(harmonicComplex({ durationS: 0.3, f0Hz: 231, amplitude: 0.5 }), whiteNoise(0.3, 0.05, 4));
    const settings = [
      [240, 134],
      [240, 134],
      [160, 99],
    ] as const;
    const trackers = settings.map(([W, tauMax]) => new YinDifference(W, tauMax));
    for (const offset of [0, 160, 320, 480, 640]) {
      trackers.forEach((t, i) => {
        const [W, tauMax] = settings[i]!;
        const x = i === 1 ? b : a;
        const got = new Float64Array(tauMax + 2);
        t.compute(x, offset + i * 7, got);
        const want = new Float64Array(tauMax + 2);
        new YinDifference(W, tauMax).compute(x, offset + i * 7, want);
        expect(got).toEqual(want);
      });
    }
  });

  it('CallerFeatureStream: two calls pushed in turn give the same windows as each alone', () => {
    const x = voiceLike({ durationS: 5, f0Hz: 140, seed: 1 });
    const y = voiceLike({ durationS: 5, f0Hz: 220, seed: 2, amplitude: 0.35, syllableRate: 5, noiseRms: 0.01 });
    const sx = createCallerFeatureStream();
    const sy = createCallerFeatureStream();
    const wx: FeatureWindow[] = [];
    const wy: FeatureWindow[] = [];
    for (let i = 0; i < x.length; i += 160) {
      wx.push(...sx.push(x.subarray(i, i + 160)));
      wy.push(...sy.push(y.subarray(i, i + 160)));
    }
    const ax = alone(x, 1000);
    const ay = alone(y, 1000);
    expect(wx.length).toBeGreaterThan(3);
    expect(wy.length).toBeGreaterThan(3);
    expect(wx).toEqual(ax);
    expect(wy).toEqual(ay);
    // The two calls differ: the check compares something.
    expect(wx[0]!.values).not.toEqual(wy[0]!.values);
  });
});
