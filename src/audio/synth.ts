/**
 * Deterministic synthetic signals for tests, benchmarks and the pitch
 * check: tones, harmonic complexes with a time-varying F0 (glides) and
 * optional band limits and amplitude envelopes, and seeded noise.
 */

import { createRng } from '../shared/random.js';

/** Seeded PRNG (mulberry32): the same seed gives the same sequence. */
export const seededRandom = createRng;

export interface HarmonicOptions {
  /** Duration (s). */
  durationS: number;
  /** F0 (Hz), constant or as a function of time (s). */
  f0Hz: number | ((tS: number) => number);
  sampleRate?: number;
  /** Peak amplitude of the sum before the envelope. Default 0.3. */
  amplitude?: number;
  /** Harmonics below this frequency are left out (e.g. 300 for telephone band). Default 0. */
  minHz?: number;
  /** Harmonics above this frequency are left out. Default 3800. */
  maxHz?: number;
  /** Spectral tilt: harmonic n has amplitude n^(−tilt). Default 1. */
  tilt?: number;
  /** Amplitude envelope as a function of time (s). Default 1. */
  envelope?: (tS: number) => number;
}

/** A sum of harmonics of a (possibly gliding) F0, phase-continuous. */
export function harmonicComplex(o: HarmonicOptions): Float32Array {
  const rate = o.sampleRate ?? 8000;
  const n = Math.round(o.durationS * rate);
  const out = new Float32Array(n);
  const f0 = typeof o.f0Hz === 'number' ? (): number => o.f0Hz as number : o.f0Hz;
  const minHz = o.minHz ?? 0;
  const maxHz = o.maxHz ?? 3800;
  const tilt = o.tilt ?? 1;
  let phase = 0;
  let norm = 0;
  const maxH = Math.floor(maxHz / 50);
  for (let h = 1; h <= maxH; h++) norm += Math.pow(h, -tilt);
  const amp = (o.amplitude ?? 0.3) / Math.max(norm, 1e-9);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f = f0(t);
    let v = 0;
    for (let h = 1; h * f <= maxHz; h++) {
      if (h * f < minHz) continue;
      v += Math.pow(h, -tilt) * Math.sin(h * phase);
    }
    out[i] = amp * v * (o.envelope ? o.envelope(t) : 1);
    phase += (2 * Math.PI * f) / rate;
    if (phase > 2 * Math.PI * 1e6) phase -= 2 * Math.PI * 1e6;
  }
  return out;
}

/** A sine tone. */
export function sine(freqHz: number, durationS: number, amplitude = 0.5, sampleRate = 8000): Float32Array {
  const n = Math.round(durationS * sampleRate);
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / sampleRate));
}

/** Gaussian-ish white noise of the given RMS (sum of uniforms), seeded. */
export function whiteNoise(durationS: number, rms: number, seed = 1, sampleRate = 8000): Float32Array {
  const rnd = seededRandom(seed);
  const n = Math.round(durationS * sampleRate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = rnd() + rnd() + rnd() + rnd() - 2; // variance 1/3
    out[i] = g * rms * Math.sqrt(3);
  }
  return out;
}

/** Element-wise sum of signals (length of the longest). */
export function mix(...signals: Float32Array[]): Float32Array {
  const n = Math.max(0, ...signals.map((s) => s.length));
  const out = new Float32Array(n);
  for (const s of signals) for (let i = 0; i < s.length; i++) out[i] = out[i]! + s[i]!;
  return out;
}

/** Concatenation of signals. */
export function concat(...signals: Float32Array[]): Float32Array {
  const out = new Float32Array(signals.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const s of signals) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}
