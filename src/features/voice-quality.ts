/**
 * Voice-quality measures of one voiced frame, read from the frame's power
 * spectrum (the one FrameSpectralAnalyzer already computed: no second FFT
 * of the signal):
 *
 * - **Cepstral peak prominence** (CPP, Hillenbrand et al. 1994): how far the
 *   power cepstrum's peak in the F0 quefrency range stands above the
 *   regression line through that range. Breathy, lax or creaky phonation
 *   (and noise) flattens the harmonic ripple of the log spectrum and lowers
 *   it; pressed, tense phonation raises it. Only the telephone band
 *   (312–3375 Hz) of the log spectrum is used, tapered, so the filter edges
 *   do not ring through the cepstrum.
 * - **Harmonic tilt 1–3.4 kHz**: least-squares slope (dB/kHz) of the
 *   harmonic amplitudes k·F0 in 1000–3400 Hz, each the strongest bin near
 *   k·F0. Anger's pressed voice keeps its upper harmonics (a flatter
 *   slope); the whole-band tilt measures mixes them with the noise between
 *   harmonics and with F1.
 *
 * The cepstrum's buffers and FFT are module-level and shared by every call on
 * this thread: `analyze` is synchronous, writes every element it reads and
 * keeps nothing between frames (as frame-spectral.ts does).
 */
import FFT from 'fft.js';
import { FEATURE_CONFIG } from './feature-names.js';
import { BAND_FIRST_BIN, BAND_LAST_BIN } from './frame-spectral.js';

const N = FEATURE_CONFIG.frameSamples;
const RATE = FEATURE_CONFIG.sampleRate;
const BIN_HZ = RATE / N;
const TINY = 1e-12;
/**
 * Quefrency range of the cepstral peak (samples): 2 ms (500 Hz, the pitch
 * ceiling) to 16 ms (62.5 Hz, the longest quefrency a 256-point cepstrum
 * holds; the pitch floor is 60 Hz).
 */
export const CPP_QMIN = Math.floor(RATE / FEATURE_CONFIG.f0MaxHz);
export const CPP_QMAX = N / 2;
/** Harmonic-tilt frequency range (Hz). */
export const HARM_TILT_LOW_HZ = 1000;
export const HARM_TILT_HIGH_HZ = 3400;
/** Fewer harmonics than this in range and the frame has no harmonic tilt (NaN). */
const MIN_HARMONICS = 3;

/** Hann taper over the band's bins: the log spectrum falls smoothly to 0 at the band edges. */
const BAND_BINS = BAND_LAST_BIN - BAND_FIRST_BIN + 1;
const TAPER = Float64Array.from({ length: BAND_BINS }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 1)) / (BAND_BINS + 1)));

/** Regression sums of the quefrency axis (ms), fixed. */
const Q_COUNT = CPP_QMAX - CPP_QMIN + 1;
const Q_SUM = (() => {
  let s = 0;
  let s2 = 0;
  for (let q = CPP_QMIN; q <= CPP_QMAX; q++) {
    const x = (q * 1000) / RATE;
    s += x;
    s2 += x * x;
  }
  return { s, s2 };
})();

function packedDoubles(n: number): number[] {
  const a = Array.from({ length: n }, () => 0.5);
  a.fill(0);
  return a;
}
const CEP_FFT = new FFT(N);
const CEP_IN = packedDoubles(N);
const CEP_OUT = packedDoubles(2 * N);

/** Results of one frame; overwritten by every `analyze` call. */
export interface VoiceQualityFrame {
  /** Cepstral peak prominence (dB), NaN when the spectrum is empty. */
  cppDb: number;
  /** CPP with the peak taken within ±15 % of the pitch period (dB), NaN without F0. */
  cppF0Db: number;
  /** Quefrency of the cepstral peak (samples), 0 when none. */
  cppQuefrency: number;
  /** Slope of the harmonic amplitudes over 1–3.4 kHz (dB/kHz), NaN with fewer than 3 harmonics. */
  harmTiltDbKhz: number;
}

/** Stateless per-frame analyzer (state-free: one may serve every call). */
export class VoiceQuality {
  readonly out: VoiceQualityFrame = { cppDb: Number.NaN, cppF0Db: Number.NaN, cppQuefrency: 0, harmTiltDbKhz: Number.NaN };

  /**
   * Analyzes one frame's power spectrum (`power[0..N/2]`, linear, as
   * FrameSpectralAnalyzer.powerSpectrum) given the frame's F0 (Hz; ≤ 0 skips
   * the harmonic tilt).
   */
  analyze(power: Float64Array, f0Hz: number): VoiceQualityFrame {
    const o = this.out;
    this.cepstralPeak(power, f0Hz);
    o.harmTiltDbKhz = f0Hz > 0 ? harmonicTilt(power, f0Hz) : Number.NaN;
    return o;
  }

  private cepstralPeak(power: Float64Array, f0Hz: number): void {
    const o = this.out;
    const x = CEP_IN;
    // Band log spectrum (dB), its mean removed, tapered; zero outside the
    // band; mirrored so that the transform of this even sequence is the real
    // cepstrum.
    let mean = 0;
    for (let k = BAND_FIRST_BIN; k <= BAND_LAST_BIN; k++) mean += 10 * Math.log10(power[k]! + TINY);
    mean /= BAND_BINS;
    if (!(mean > 10 * Math.log10(TINY) + 1)) {
      o.cppDb = Number.NaN;
      o.cppF0Db = Number.NaN;
      o.cppQuefrency = 0;
      return;
    }
    x.fill(0);
    for (let k = BAND_FIRST_BIN; k <= BAND_LAST_BIN; k++) {
      const v = (10 * Math.log10(power[k]! + TINY) - mean) * TAPER[k - BAND_FIRST_BIN]!;
      x[k] = v;
      x[N - k] = v;
    }
    CEP_FFT.realTransform(CEP_OUT, x);
    // Power cepstrum (dB) over the F0 quefrencies; its peak and the
    // least-squares line through the whole range.
    let sy = 0;
    let sxy = 0;
    let peak = Number.NEGATIVE_INFINITY;
    let peakQ = CPP_QMIN;
    for (let q = CPP_QMIN; q <= CPP_QMAX; q++) {
      const re = CEP_OUT[2 * q]!;
      const y = 10 * Math.log10(re * re + TINY);
      const xq = (q * 1000) / RATE;
      sy += y;
      sxy += xq * y;
      // A peak must be a local maximum, not the range's edge sloping down into it.
      if (y > peak && q > CPP_QMIN && q < CPP_QMAX) {
        peak = y;
        peakQ = q;
      }
    }
    const den = Q_COUNT * Q_SUM.s2 - Q_SUM.s * Q_SUM.s;
    const slope = (Q_COUNT * sxy - Q_SUM.s * sy) / den;
    const icept = (sy - slope * Q_SUM.s) / Q_COUNT;
    o.cppDb = peak - (icept + (slope * peakQ * 1000) / RATE);
    o.cppQuefrency = peakQ;
    o.cppF0Db = Number.NaN;
    if (f0Hz > 0) {
      const t = RATE / f0Hz;
      const q0 = Math.max(CPP_QMIN, Math.floor(t * 0.87));
      const q1 = Math.min(CPP_QMAX, Math.ceil(t * 1.15));
      let best = Number.NEGATIVE_INFINITY;
      let bestQ = q0;
      for (let q = q0; q <= q1; q++) {
        const re = CEP_OUT[2 * q]!;
        const y = 10 * Math.log10(re * re + TINY);
        if (y > best) {
          best = y;
          bestQ = q;
        }
      }
      o.cppF0Db = best - (icept + (slope * bestQ * 1000) / RATE);
    }
  }
}

/**
 * Least-squares slope (dB/kHz) of the harmonic amplitudes k·F0 within
 * 1–3.4 kHz: each harmonic's amplitude is the strongest power bin within
 * ±r bins of k·F0 (r = 30 % of the harmonic spacing, 1..3 bins), so an F0
 * estimate a little off still finds the harmonic peak.
 */
export function harmonicTilt(power: Float64Array, f0Hz: number): number {
  const spacing = f0Hz / BIN_HZ;
  const r = Math.max(1, Math.min(3, Math.floor(0.3 * spacing)));
  const h0 = Math.ceil(HARM_TILT_LOW_HZ / f0Hz);
  const h1 = Math.floor(HARM_TILT_HIGH_HZ / f0Hz);
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let h = h0; h <= h1; h++) {
    const centre = Math.round(h * spacing);
    const lo = Math.max(BAND_FIRST_BIN, centre - r);
    const hi = Math.min(BAND_LAST_BIN, centre + r);
    if (lo > hi) continue;
    let p = 0;
    for (let k = lo; k <= hi; k++) if (power[k]! > p) p = power[k]!;
    const xk = (h * f0Hz) / 1000;
    const y = 10 * Math.log10(p + TINY);
    n++;
    sx += xk;
    sy += y;
    sxx += xk * xk;
    sxy += xk * y;
  }
  if (n < MIN_HARMONICS) return Number.NaN;
  const den = n * sxx - sx * sx;
  return den > 0 ? (n * sxy - sx * sy) / den : Number.NaN;
}
