import { describe, expect, it } from 'vitest';
import { harmonicComplex } from '../../src/audio/synth.js';
import { FrameSpectralAnalyzer } from '../../src/features/frame-spectral.js';
import { LpcFormants } from '../../src/features/lpc-formants.js';

/** A pulse train (F0 = 8000/period Hz) through an all-pole filter with the given formants (Hz, bandwidth Hz). */
function vowel(formants: readonly (readonly [number, number])[], period = 67, n = 2000): Float32Array {
  const fs = 8000;
  let a = [1];
  for (const [f, bw] of formants) {
    const r = Math.exp((-Math.PI * bw) / fs);
    const b = [1, -2 * r * Math.cos((2 * Math.PI * f) / fs), r * r];
    const c = new Array<number>(a.length + 2).fill(0);
    for (let i = 0; i < a.length; i++) for (let j = 0; j < 3; j++) c[i + j]! += a[i]! * b[j]!;
    a = c;
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = i % period === 0 ? 1 : 0;
    for (let k = 1; k < a.length; k++) if (i - k >= 0) v -= a[k]! * y[i - k]!;
    y[i] = v;
  }
  const out = new Float32Array(256);
  for (let i = 0; i < 256; i++) out[i] = y[1000 + i]! * 0.01;
  return out;
}

describe('LPC formants', () => {
  it('finds F1–F3 of a synthetic /a/-like vowel', () => {
    const o = new LpcFormants().analyze(vowel([[700, 80], [1200, 90], [2600, 120]]));
    expect(Math.abs(o.freqHz[0]! - 700)).toBeLessThan(50);
    expect(Math.abs(o.freqHz[1]! - 1200)).toBeLessThan(50);
    expect(Math.abs(o.freqHz[2]! - 2600)).toBeLessThan(60);
    for (let i = 0; i < 3; i++) {
      expect(o.bwHz[i]!).toBeGreaterThan(20);
      expect(o.bwHz[i]!).toBeLessThan(300);
    }
  });

  it('finds a low F1 and high F2 of an /i/-like vowel, and A1−A3 follows the formant levels', () => {
    const l = new LpcFormants();
    const i = l.analyze(vowel([[350, 60], [2200, 100], [2900, 150]], 50));
    expect(Math.abs(i.freqHz[0]! - 350)).toBeLessThan(60);
    expect(Math.abs(i.freqHz[1]! - 2200)).toBeLessThan(60);
    expect(Math.abs(i.freqHz[2]! - 2900)).toBeLessThan(80);
    const a1a3I = i.a1a3Db;
    // /a/: F1 and F3 far apart in level with F2 near F1 lifting the low end.
    const a = l.analyze(vowel([[700, 80], [1200, 90], [2600, 120]]));
    expect(a.a1a3Db).toBeGreaterThan(a1a3I + 5);
  });

  it('is independent of level and reports NaN for silence', () => {
    const l = new LpcFormants();
    const x = vowel([[600, 80], [1700, 100], [2500, 120]]);
    const f1 = l.analyze(x).freqHz[0]!;
    const loud = x.map((v) => v * 20);
    expect(l.analyze(loud).freqHz[0]!).toBeCloseTo(f1, 2);
    expect(Number.isNaN(l.analyze(new Float32Array(256)).freqHz[0]!)).toBe(true);
  });
});

describe('band energies and log-spectrum slopes', () => {
  it('puts more energy high and less low, with a flatter 500–1500 Hz slope, for a less tilted voice', () => {
    const a = new FrameSpectralAnalyzer();
    const soft = a.analyze(harmonicComplex({ durationS: 0.05, f0Hz: 120, tilt: 1.5 }));
    const s = { hi: soft.bandHiDb, lo: soft.bandLoDb, mid: soft.slopeMidDbKhz };
    const pressed = a.analyze(harmonicComplex({ durationS: 0.05, f0Hz: 120, tilt: 0.5 }));
    expect(pressed.bandHiDb).toBeGreaterThan(s.hi + 3);
    expect(pressed.bandLoDb).toBeGreaterThan(s.lo - 100);
    expect(pressed.bandLoDb).toBeLessThan(s.lo);
    expect(pressed.slopeMidDbKhz).toBeGreaterThan(s.mid);
    expect(s.mid).toBeLessThan(0);
    expect(pressed.bandHiDb).toBeLessThanOrEqual(0);
  });
});

describe('LPC formants: warm start', () => {
  it('gives the formants a cold start gives, frame after frame, through vowel changes, noise and silence', () => {
    // One analyser carries each frame's roots into the next (the warm start);
    // a fresh analyser per frame always starts from the fixed points.
    const vowels: (readonly (readonly [number, number])[])[] = [
      [[700, 80], [1200, 90], [2600, 120]],
      [[690, 85], [1230, 90], [2580, 125]],
      [[350, 60], [2200, 100], [2900, 150]],
      [[600, 80], [1700, 100], [2500, 120]],
      [[300, 400], [900, 600], [3500, 300]],
    ];
    let seed = 7;
    const noise = (): Float32Array => {
      const x = new Float32Array(256);
      for (let i = 0; i < 256; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        x[i] = (seed / 2 ** 32 - 0.5) * 0.02;
      }
      return x;
    };
    const frames: Float32Array[] = [];
    for (let round = 0; round < 3; round++) {
      for (const v of vowels) frames.push(vowel(v, 50 + 7 * round));
      frames.push(noise(), new Float32Array(256));
      for (const v of vowels) frames.push(vowel(v, 80 - 9 * round));
    }
    const warm = new LpcFormants();
    let compared = 0;
    for (const x of frames) {
      const w = warm.analyze(x);
      const c = new LpcFormants().analyze(x);
      for (let i = 0; i < 3; i++) {
        expect(Number.isNaN(w.freqHz[i]!)).toBe(Number.isNaN(c.freqHz[i]!));
        if (Number.isNaN(c.freqHz[i]!)) continue;
        expect(Math.abs(w.freqHz[i]! - c.freqHz[i]!)).toBeLessThan(1e-6);
        expect(Math.abs(w.bwHz[i]! - c.bwHz[i]!)).toBeLessThan(1e-6);
        compared++;
      }
      if (!Number.isNaN(c.a1a3Db)) expect(Math.abs(w.a1a3Db - c.a1a3Db)).toBeLessThan(1e-6);
    }
    expect(compared).toBeGreaterThan(60);
  });
});
