import { describe, expect, it } from 'vitest';
import { harmonicComplex, mix, sine, whiteNoise } from '../../src/audio/synth.js';
import { TelephoneBandFilter } from '../../src/audio/telephone-band.js';
import { createCallerFeatureStream } from '../../src/features/caller-feature-stream.js';
import { FEATURE_CONFIG } from '../../src/features/feature-names.js';
import { PitchInput } from '../../src/features/pitch-input.js';
import { YinPitchTracker, hzToSemitones } from '../../src/features/pitch-yin.js';

const st = (hz: number): number => hzToSemitones(hz);

/** Runs YIN every 160 samples; returns [true F0 at frame centre, estimate or 0] pairs. */
function track(x: Float32Array, f0At: (tS: number) => number): [number, number][] {
  const yin = new YinPitchTracker({ frameS: 160 / 8000 });
  const out: [number, number][] = [];
  for (let start = 400; start + yin.bufferSamples < x.length - 400; start += 160) {
    const r = yin.analyze(x, start);
    const centre = (start + yin.bufferSamples / 2) / 8000;
    out.push([f0At(centre), r.voiced ? r.f0Hz : 0]);
  }
  return out;
}

function expectTracks(pairs: [number, number][], toleranceSt = 0.5, minVoiced = 0.95): void {
  const voiced = pairs.filter(([, est]) => est > 0);
  expect(voiced.length / pairs.length).toBeGreaterThanOrEqual(minVoiced);
  for (const [truth, est] of voiced) expect(Math.abs(st(est) - st(truth))).toBeLessThan(toleranceSt);
}

describe('YIN pitch tracker', () => {
  it('tracks pure tones across the range within 0.5 semitone', () => {
    for (const hz of [70, 100, 150, 220, 300, 450]) expectTracks(track(sine(hz, 0.5, 0.5), () => hz));
  });

  it('tracks harmonic complexes whose harmonics all lie above 300 Hz (missing fundamental)', () => {
    for (const hz of [80, 110, 140, 200, 260]) {
      const x = harmonicComplex({ durationS: 0.6, f0Hz: hz, minHz: 300, maxHz: 3400 });
      expectTracks(track(x, () => hz));
    }
  });

  it('tracks rising and falling glides through a telephone band-pass', () => {
    const up = (t: number): number => 90 * Math.pow(2, t / 1.2); // 90 → 180 Hz over 1.2 s
    const down = (t: number): number => 320 * Math.pow(2, -t / 1.2);
    for (const f of [up, down]) {
      const x = new TelephoneBandFilter().process(harmonicComplex({ durationS: 1.2, f0Hz: f, amplitude: 0.4 }));
      expectTracks(track(x, f));
    }
  });

  it('tracks a noisy voice-like signal (20 dB SNR) with few gross errors', () => {
    const hz = 125;
    const x = mix(harmonicComplex({ durationS: 1, f0Hz: hz, minHz: 300, amplitude: 0.3 }), whiteNoise(1, 0.01, 3));
    const pairs = track(x, () => hz);
    const good = pairs.filter(([t, e]) => e > 0 && Math.abs(st(e) - st(t)) < 0.5).length;
    expect(good / pairs.length).toBeGreaterThan(0.9);
  });

  it('calls noise unvoiced with low confidence and low HNR', () => {
    const yin = new YinPitchTracker();
    const x = whiteNoise(0.5, 0.1, 9);
    let voiced = 0;
    let n = 0;
    for (let s = 0; s + yin.bufferSamples < x.length; s += 160, n++) {
      const r = yin.analyze(x, s);
      if (r.voiced) voiced++;
      expect(r.hnrDb).toBeLessThan(5);
    }
    expect(voiced / n).toBeLessThan(0.1);
  });

  it('gives a high HNR and confidence for a clean periodic signal', () => {
    const yin = new YinPitchTracker();
    const r = yin.analyze(harmonicComplex({ durationS: 0.1, f0Hz: 150 }), 0);
    expect(r.voiced).toBe(true);
    expect(r.confidence).toBeGreaterThan(0.95);
    expect(r.hnrDb).toBeGreaterThan(15);
  });

  it('reports semitones re 100 Hz', () => {
    expect(hzToSemitones(100)).toBe(0);
    expect(hzToSemitones(200)).toBeCloseTo(12, 10);
  });
});

describe('YIN octave corrections for telephone audio', () => {
  /** F0 100 Hz, harmonics from 300 Hz, odd ones at `odd` × the even ones: nearly periodic at half the period. */
  function evenHeavy(odd: number): Float32Array {
    const x = new Float32Array(8000);
    for (let i = 0; i < x.length; i++) {
      let v = 0;
      for (let h = 3; h * 100 < 3400; h++) v += ((h % 2 === 0 ? 1 : odd) * Math.sin((2 * Math.PI * h * 100 * i) / 8000)) / h;
      x[i] = 0.2 * v;
    }
    return new TelephoneBandFilter().process(x);
  }

  it('the envelope check restores F0 where plain YIN locks onto half the period', () => {
    const { lowPassed, envelope } = PitchInput.of(evenHeavy(0.1));
    const plain = new YinPitchTracker({ rangePrior: false }).analyze(lowPassed, 4000);
    expect(plain.f0Hz).toBeCloseTo(200, -1);
    const checked = new YinPitchTracker({ rangePrior: false }).analyze(lowPassed, 4000, envelope);
    expect(checked.f0Hz).toBeCloseTo(100, 0);
  });

  it('the envelope check leaves pure tones alone (their envelope repeats every half period)', () => {
    for (const hz of [120, 250, 400]) {
      const { lowPassed, envelope } = PitchInput.of(new TelephoneBandFilter().process(sine(hz, 0.5, 0.4)));
      expect(new YinPitchTracker().analyze(lowPassed, 2000, envelope).f0Hz).toBeCloseTo(hz, -1);
    }
  });

  it('follows a sudden octave rise (a scream) within 0.3 s despite the speaker range prior', () => {
    for (const rise of [9, 12, 14]) {
      const f0 = (t: number): number => (t < 3 ? 110 : t < 3.3 ? 110 * Math.pow(2, (rise * (t - 3)) / 0.3 / 12) : 110 * Math.pow(2, rise / 12));
      const x = harmonicComplex({
        durationS: 4.5,
        f0Hz: f0,
        minHz: 300,
        amplitude: 0.3,
        envelope: (t) => 0.05 + 0.95 * Math.pow(0.5 - 0.5 * Math.cos(2 * Math.PI * 4 * t), 2),
      });
      const late: boolean[] = [];
      const stream = createCallerFeatureStream({
        onFrame: (f) => {
          const t = f.centreSample / 8000;
          // The glide ends at 3.3 s; the prior may lag it by up to 0.3 s.
          if (t > 3.6 && t < 4.4 && f.voiced) late.push(Math.abs(st(f.f0Hz) - st(f0(t))) < 1);
        },
      });
      stream.push(x);
      // Over 0.5 s of voiced frames in the 0.8 s span (15 of 20 frames at 40 ms).
      expect((late.length * FEATURE_CONFIG.hopSamples) / FEATURE_CONFIG.sampleRate).toBeGreaterThan(0.5);
      expect(late.every(Boolean)).toBe(true);
    }
  });
});
