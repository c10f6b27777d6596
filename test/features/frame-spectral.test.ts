import { describe, expect, it } from 'vitest';
import { harmonicComplex, sine, whiteNoise } from '../../src/audio/synth.js';
import { BAND_FIRST_BIN, BAND_LAST_BIN, FrameSpectralAnalyzer, loudnessPow, SLOPE_SCALE } from '../../src/features/frame-spectral.js';
import { barkScale, meyda, meydaExtractors } from '../../src/features/meyda-extractors.js';

describe('frame spectral features', () => {
  it('matches Meyda.extract for rms, zcr and loudness on the same frame', () => {
    meyda.bufferSize = 256;
    meyda.sampleRate = 8000;
    const x = harmonicComplex({ durationS: 0.05, f0Hz: 130, amplitude: 0.3 }).subarray(0, 256);
    const ours = new FrameSpectralAnalyzer().analyze(x);
    // Level and zero crossings on the frame itself (Meyda would window it first) …
    meyda.windowingFunction = 'rect';
    const plain = meyda.extract(['rms', 'zcr'], x) as { rms: number; zcr: number };
    // … loudness on the Hann-windowed spectrum, as Meyda does.
    meyda.windowingFunction = 'hanning';
    const ref = meyda.extract(['loudness'], x) as { loudness: { total: number } };
    expect(ours.rms).toBeCloseTo(plain.rms, 6);
    expect(ours.zcr * 255).toBe(plain.zcr);
    expect(ours.loudness).toBeCloseTo(ref.loudness.total, 3);
  });

  // The analyzer restates Meyda's loudness (no allocation, band limits
  // computed once) and calls Meyda's other extractors on its own spectrum
  // views: every value must stay exactly Meyda's on the frame's spectrum, as
  // the model was trained on them.
  it('gives exactly what the Meyda extractors give on its spectrum', () => {
    const a = new FrameSpectralAnalyzer();
    const frames = [
      harmonicComplex({ durationS: 0.05, f0Hz: 130, amplitude: 0.3 }),
      harmonicComplex({ durationS: 0.05, f0Hz: 245, amplitude: 0.02, tilt: 1.5 }),
      whiteNoise(0.05, 0.1, 7),
      whiteNoise(0.05, 1e-4, 8),
      sine(697, 0.05, 0.3),
      new Float32Array(400).map((_, i) => (i % 37 < 18 ? 0.2 : -0.15)),
    ];
    const bark = barkScale(256, 8000, 256);
    for (const x of frames) {
      const f = a.analyze(x, 10);
      const signal = x.slice(10, 266);
      expect(f.rms).toBe(meydaExtractors.rms({ signal }));
      expect(f.zcr * 255).toBe(meydaExtractors.zcr({ signal }));
      const spectrum = a.ampMeyda;
      expect(f.loudness).toBe(meydaExtractors.loudness({ ampSpectrum: spectrum, barkScale: bark, numberOfBarkBands: 24 }).total);
      const band = { ampSpectrum: spectrum.subarray(BAND_FIRST_BIN, BAND_LAST_BIN + 1), sampleRate: 8000, bufferSize: 256 };
      expect(f.centroidHz).toBe((meydaExtractors.spectralCentroid(band) + BAND_FIRST_BIN) * 31.25);
      expect(f.spreadHz).toBe(meydaExtractors.spectralSpread(band) * 31.25);
      expect(f.flatnessDb).toBe(10 * Math.log10(Math.max(meydaExtractors.spectralFlatness(band), 1e-10)));
      expect(f.slope).toBe(meydaExtractors.spectralSlope(band) * SLOPE_SCALE);
    }
  });

  it('computes the loudness power exactly as Math.fround(Math.pow(x, 0.23))', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const xs = [0, -0, 1, 2, 1e-300, 5e-324, 1e300, Number.MAX_VALUE, Number.POSITIVE_INFINITY];
    for (let i = 0; i < 200_000; i++) xs.push(Math.exp(rand() * 60 - 40));
    // Amplitude sums as the spectrum gives them (sums of float32 values).
    for (let i = 0; i < 50_000; i++) xs.push(Math.fround(rand() * 3) + Math.fround(rand() * 40));
    let mismatches = 0;
    for (const x of xs) if (!Object.is(loudnessPow(x), Math.fround(Math.pow(x, 0.23)))) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('puts the centroid and rolloff of a tone at the tone', () => {
    const a = new FrameSpectralAnalyzer();
    const f = a.analyze(sine(1500, 0.05, 0.5));
    expect(f.centroidHz).toBeGreaterThan(1350);
    expect(f.centroidHz).toBeLessThan(1650);
    expect(Math.abs(f.rolloffHz - 1500)).toBeLessThan(100);
    expect(f.energyDb).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 0);
  });

  it('is flatter for noise than for a harmonic complex, and tilts with vocal effort', () => {
    const a = new FrameSpectralAnalyzer();
    const noise = a.analyze(whiteNoise(0.05, 0.1, 2)).flatnessDb;
    const voice = a.analyze(harmonicComplex({ durationS: 0.05, f0Hz: 120 })).flatnessDb;
    // Meyda's flatness is on the amplitude spectrum: Rayleigh noise reads ≈ −1 dB.
    expect(noise).toBeGreaterThan(voice + 1);
    expect(voice).toBeLessThan(-2);
    const soft = a.analyze(harmonicComplex({ durationS: 0.05, f0Hz: 120, tilt: 1.5 }));
    const softAlpha = soft.alphaRatioDb;
    const softSlope = soft.slope;
    const softMfcc1 = soft.mfcc[1]!;
    const pressed = a.analyze(harmonicComplex({ durationS: 0.05, f0Hz: 120, tilt: 0.5 }));
    expect(pressed.alphaRatioDb).toBeGreaterThan(softAlpha + 3);
    expect(pressed.slope).toBeGreaterThan(softSlope);
    expect(softSlope).toBeLessThan(0);
    expect(pressed.mfcc[1]!).toBeLessThan(softMfcc1);
  });

  it('has level-independent MFCCs beyond c0 (log, not log(1 + x))', () => {
    const a = new FrameSpectralAnalyzer();
    const x = harmonicComplex({ durationS: 0.05, f0Hz: 150, amplitude: 0.3 });
    const loud = Float64Array.from(a.analyze(x).mfcc);
    const quiet = Float64Array.from(a.analyze(x.map((v) => v * 0.01)).mfcc);
    // c0 moves by 40 dB worth of log energy; the shape coefficients do not.
    expect(loud[0]! - quiet[0]!).toBeCloseTo(Math.sqrt(20) * Math.log(1e4), 1);
    for (let c = 1; c < 13; c++) expect(quiet[c]).toBeCloseTo(loud[c]!, 4);
  });

  it('tells tones (one or two sinusoids) from voices by the tone ratio', () => {
    const a = new FrameSpectralAnalyzer();
    const dtmf = new Float32Array(400).map((_, i) => 0.1 * Math.sin((2 * Math.PI * 697 * i) / 8000) + 0.1 * Math.sin((2 * Math.PI * 1209 * i) / 8000));
    expect(a.analyze(dtmf).toneRatio).toBeGreaterThan(0.999);
    expect(a.analyze(harmonicComplex({ durationS: 0.05, f0Hz: 220 })).toneRatio).toBeLessThan(0.99);
    expect(a.analyze(whiteNoise(0.05, 0.1, 4)).toneRatio).toBeLessThan(0.5);
  });

  it('measures spectral flux as change between frames', () => {
    const a = new FrameSpectralAnalyzer();
    const x = sine(800, 0.05, 0.3);
    a.analyze(x);
    expect(a.analyze(x).flux).toBeLessThan(0.05);
    expect(a.analyze(sine(2500, 0.05, 0.3)).flux).toBeGreaterThan(1);
  });

  it('logs the per-frame cost of the spectral stage and of Meyda.extract', () => {
    const a = new FrameSpectralAnalyzer();
    const x = harmonicComplex({ durationS: 1, f0Hz: 140, amplitude: 0.3 });
    meyda.bufferSize = 256;
    meyda.sampleRate = 8000;
    const feats = ['rms', 'zcr', 'loudness', 'spectralCentroid', 'spectralSpread', 'spectralFlatness', 'spectralSlope', 'spectralRolloff', 'mfcc'];
    const run = (fn: (i: number) => void, n: number): number => {
      for (let i = 0; i < 500; i++) fn(i);
      const t = performance.now();
      for (let i = 0; i < n; i++) fn(i);
      return ((performance.now() - t) * 1000) / n;
    };
    const ours = run((i) => a.analyze(x, (i * 160) % 7000), 5000);
    const theirs = run((i) => meyda.extract(feats, x.subarray((i * 160) % 7000, ((i * 160) % 7000) + 256)), 5000);
    console.log(`spectral stage: ${ours.toFixed(1)} µs/frame; Meyda.extract of the same features: ${theirs.toFixed(1)} µs/frame`);
    expect(ours).toBeGreaterThan(0);
  });
});
