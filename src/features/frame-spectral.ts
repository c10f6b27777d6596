/**
 * Per-frame level and spectral features of one 256-sample frame.
 *
 * One Hann-windowed FFT per frame feeds everything: Meyda's extractors
 * (rms, zcr, loudness, centroid, spread, flatness, slope) are called on our
 * preallocated spectrum, and the few features Meyda gets wrong or lacks are
 * computed here (flux — Meyda's `spectralFlux` reads out of bounds and
 * returns NaN; rolloff at 85 %, where Meyda's fixed 99 % sits at the band
 * edge of telephone audio; alpha ratio and Hammarberg index; MFCCs, see
 * mfcc.ts). Meyda's extractors give rms, zcr, centroid, spread, flatness
 * and slope; they run on speech frames only for the spectral ones
 * (`spectrumDetail`), the only frames window statistics read. Meyda's
 * loudness is restated here with its arithmetic in its order (bit-identical,
 * checked against Meyda in test/features/frame-spectral.test.ts): Meyda's
 * allocates two arrays and recomputes the Bark band limits on every call,
 * and its 24 Math.pow calls per frame cost more than the guarded exp/log
 * below. Spectral shape is measured over the telephone band only
 * (bins 10..108, 312–3375 Hz), so what lies outside it — present in
 * corpus clips, absent from many calls — does not move the features.
 */
import { TELEPHONE_BAND_HZ } from '../audio/telephone-band.js';
import FFT from 'fft.js';
import { FEATURE_CONFIG } from './feature-names.js';
import { barkScale, meydaExtractors, type MeydaExtractorArgs } from './meyda-extractors.js';
import { MfccComputer } from './mfcc.js';

const N = FEATURE_CONFIG.frameSamples;
const BINS = N / 2 + 1;
const BIN_HZ = FEATURE_CONFIG.sampleRate / N;
/** First and last bin inside the telephone band. */
export const BAND_FIRST_BIN = Math.ceil(TELEPHONE_BAND_HZ.low / BIN_HZ);
export const BAND_LAST_BIN = Math.floor(TELEPHONE_BAND_HZ.high / BIN_HZ);
const BAND_BINS = BAND_LAST_BIN - BAND_FIRST_BIN + 1;
/** Boundary between "low" and "high" bands for the alpha ratio (eGeMAPS uses 1 kHz) and Hammarberg index (2 kHz). */
const ALPHA_SPLIT_BIN = Math.round(1000 / BIN_HZ);
const HAMMARBERG_SPLIT_BIN = Math.round(2000 / BIN_HZ);
const TINY = 1e-12;
/** Bins of the eGeMAPS-style log-spectrum slopes (dB/kHz): 0–500 Hz (here from the band edge) and 500–1500 Hz. */
const SLOPE_LO = [BAND_FIRST_BIN, Math.round(500 / BIN_HZ)] as const;
const SLOPE_MID = [Math.round(500 / BIN_HZ), Math.round(1500 / BIN_HZ)] as const;
/** Band-energy shares (dB re the whole band): 300–800 Hz and 2–3.4 kHz. */
const BAND_LO_LAST_BIN = Math.round(800 / BIN_HZ) - 1;
const BAND_HI_FIRST_BIN = HAMMARBERG_SPLIT_BIN;
/**
 * Meyda 5.6's spectralSlope divides by (Σf² − (Σf)²) where the least-squares
 * slope needs (N·Σf² − (Σf)²), which flips its sign and scales it by a
 * constant of the frequency grid. Multiplying by the ratio of the two gives
 * the true regression slope of amplitude on frequency divided by the summed
 * amplitude; × bins × 1000 makes it the change per kHz relative to the mean
 * bin amplitude (negative for speech: −0.3 steep, −0.1 flat).
 */
export const SLOPE_SCALE = (() => {
  let sumF = 0;
  let sumF2 = 0;
  for (let i = 0; i < BAND_BINS; i++) {
    const f = i * BIN_HZ;
    sumF += f;
    sumF2 += f * f;
  }
  return ((sumF2 - sumF * sumF) / (BAND_BINS * sumF2 - sumF * sumF)) * BAND_BINS * 1000;
})();

/** Meyda's symmetric Hann window ("hanning"), shared. */
const HANN = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)));
const HANN_POWER = HANN.reduce((s, w) => s + w * w, 0);
/** Meyda computes Bark positions over bufferSize entries and reads the first bufferSize/2. */
const BARK = barkScale(N, FEATURE_CONFIG.sampleRate, N);
/** Bins of Meyda's amplitude spectrum (bufferSize/2: no Nyquist bin), the loudness input. */
const MEYDA_BINS = N / 2;
const BARK_BANDS = 24;
/**
 * Meyda's loudness band limits: band b sums bins [limits[b], limits[b+1]).
 * Meyda recomputes them (and allocates them) on every call; they depend
 * only on the Bark scale, so here they are computed once, by its algorithm.
 */
const BARK_LIMITS = (() => {
  const limits = new Int32Array(BARK_BANDS + 1);
  let bandEnd = BARK[MEYDA_BINS - 1]! / BARK_BANDS;
  let band = 1;
  for (let i = 0; i < MEYDA_BINS; i++) {
    while (BARK[i]! > bandEnd) {
      limits[band++] = i;
      bandEnd = (band * BARK[MEYDA_BINS - 1]!) / BARK_BANDS;
    }
  }
  limits[BARK_BANDS] = MEYDA_BINS - 1;
  return limits;
})();
/** logSlope's abscissae (kHz) and their sums per bin range, constants of the layout (summed in its order). */
function slopeAxis(k0: number, k1: number): { sx: number; sxx: number } {
  let sx = 0;
  let sxx = 0;
  for (let k = k0; k <= k1; k++) {
    const x = (k * BIN_HZ) / 1000;
    sx += x;
    sxx += x * x;
  }
  return { sx, sxx };
}
const SLOPE_LO_AXIS = slopeAxis(SLOPE_LO[0], SLOPE_LO[1]);
const SLOPE_MID_AXIS = slopeAxis(SLOPE_MID[0], SLOPE_MID[1]);
/** The bins logSlope reads (both ranges: they share one bin). */
const LOG_FIRST_BIN = Math.min(SLOPE_LO[0], SLOPE_MID[0]);
const LOG_LAST_BIN = Math.max(SLOPE_LO[1], SLOPE_MID[1]);

/** One frame's features; overwritten by every `analyze` call. */
export interface SpectralFrame {
  /** RMS of the (unwindowed) frame, linear. */
  rms: number;
  /** 10·log10(mean square), dBFS (a full-scale square wave is 0), floored at −100. */
  energyDb: number;
  /** Zero crossings per sample. */
  zcr: number;
  /** Meyda total loudness (sum over 24 Bark bands of band amplitude^0.23). */
  loudness: number;
  centroidHz: number;
  spreadHz: number;
  /** 10·log10 of Meyda spectral flatness over the band. */
  flatnessDb: number;
  /** Meyda spectral slope over the band, as change per kHz relative to the mean amplitude. */
  slope: number;
  /** Frequency below which 85 % of the band's spectral amplitude lies. */
  rolloffHz: number;
  /**
   * Euclidean distance between this frame's and the previous frame's
   * unit-norm band spectra, 0..√2; 1 after a frame that was not analysed.
   */
  flux: number;
  /** 10·log10(energy 1–3.4 kHz / energy 0.3–1 kHz). Rises with vocal effort. */
  alphaRatioDb: number;
  /** 10·log10(peak bin power 0.3–2 kHz / peak bin power 2–3.4 kHz). */
  hammarbergDb: number;
  /** Least-squares slope of the dB power spectrum over 312–500 Hz (dB/kHz). */
  slopeLoDbKhz: number;
  /** Least-squares slope of the dB power spectrum over 500–1500 Hz (dB/kHz). */
  slopeMidDbKhz: number;
  /** 10·log10(energy 0.3–0.8 kHz / band energy). */
  bandLoDb: number;
  /** 10·log10(energy 2–3.4 kHz / band energy). */
  bandHiDb: number;
  /** c0..c12. */
  mfcc: Float64Array;
  /**
   * Share of the band's power within ±2 bins of its two strongest peaks.
   * Near 1 for call-progress tones and DTMF (one or two sinusoids); well
   * below for voices, whose power spreads over many harmonics.
   */
  toneRatio: number;
}

/** Loudness exponent of Meyda's loudness (band amplitude^0.23). */
const LOUDNESS_EXPONENT = 0.23;
/** Relative margin around exp(0.23·ln x) within which float32 rounding must not change (see `loudnessPow`). */
const POW_GUARD = 1e-12;

/**
 * Math.fround(Math.pow(x, 0.23)), bit-identical, at about half the cost:
 * V8's Math.pow takes ≈90 ns, Math.exp(0.23·Math.log(x)) ≈50 ns, and the
 * loudness needs 24 per frame. The two differ only in the last bits of the
 * double (|error| of the exp/log form < 1e-13 relative for any finite x > 0:
 * log's one ulp times |0.23·ln x| ≤ 171, plus exp's ulp; pow's own < 1 ulp),
 * while the result is rounded to float32 (Meyda stores it so). When every
 * value within ±1e-12 of the estimate rounds to the same float32 (float
 * rounding is monotonic, so checking both ends is enough), so does pow's
 * result; otherwise (≈1 call in 10⁵, near a float32 rounding midpoint) pow
 * itself decides.
 */
export function loudnessPow(x: number): number {
  if (!(x > 0) || x === Number.POSITIVE_INFINITY) return Math.fround(Math.pow(x, LOUDNESS_EXPONENT));
  const y = Math.exp(LOUDNESS_EXPONENT * Math.log(x));
  const r = Math.fround(y);
  if (Math.fround(y * (1 + POW_GUARD)) === r && Math.fround(y * (1 - POW_GUARD)) === r) return r;
  return Math.fround(Math.pow(x, LOUDNESS_EXPONENT));
}

/** A packed-double JS array of zeros. */
function packedDoubles(n: number): number[] {
  const a = Array.from({ length: n }, () => 0.5);
  a.fill(0);
  return a;
}

/**
 * The FFT (its tables) and `spectrum()`'s input and output arrays, shared by
 * every analyzer on this thread: `spectrum()` fills `windowed` in full and the
 * transform writes what is then read, synchronously, keeping nothing between
 * frames, so calls need no copies of their own (≈10 KB less per live call).
 */
const SHARED_FFT = new FFT(N);
const SHARED_WINDOWED = packedDoubles(N);
const SHARED_SPEC = packedDoubles(2 * N);

/** Per-call spectral analyzer; all buffers preallocated. */
export class FrameSpectralAnalyzer {
  readonly out: SpectralFrame;
  /** fft.js real transform (≈1 µs at 256 points, a quarter of the radix-2 complex one), on packed-double arrays, which it runs fastest on. */
  private readonly fft = SHARED_FFT;
  private readonly windowed: number[] = SHARED_WINDOWED;
  private readonly spec: number[] = SHARED_SPEC;
  /** Meyda-scaled amplitude spectrum (|FFT| of the Hann-windowed frame). */
  private readonly amp = new Float32Array(BINS);
  private readonly ampBand: Float32Array;
  /** The spectrum as Meyda's extractors see it: bins 0..N/2 − 1 (read by tests, to check them against Meyda). */
  readonly ampMeyda: Float32Array;
  /** Power spectrum normalised so white noise of variance σ² reads σ² per bin. */
  private readonly power = new Float64Array(BINS);
  private unitBand = new Float64Array(BAND_BINS);
  private prevUnitBand = new Float64Array(BAND_BINS);
  /** Whether `prevUnitBand` holds the previous frame's spectrum. */
  private prevValid = false;
  private readonly mfccComputer = new MfccComputer(BINS, BIN_HZ, FEATURE_CONFIG.mfccCount);
  /** The frame last passed to `level` (unwindowed). */
  private readonly signal = new Float32Array(N);
  private readonly frameArgs: MeydaExtractorArgs = { signal: this.signal };
  private readonly bandArgs: MeydaExtractorArgs;
  /** Band sums of the current frame, from `spectrumCore` for `spectrumDetail`. */
  private readonly sums = { bandAmp: 0, low: 0, high: 0, peakLow: 0, peakHigh: 0, lo: 0, hi: 0 };
  /** 10·log10(power + TINY) of the bins logSlope reads, each computed once (index k − LOG_FIRST_BIN). */
  private readonly logPower = new Float64Array(LOG_LAST_BIN - LOG_FIRST_BIN + 1);

  constructor() {
    this.ampBand = this.amp.subarray(BAND_FIRST_BIN, BAND_LAST_BIN + 1);
    // Meyda's own amplitude spectrum has bufferSize/2 bins (no Nyquist bin).
    this.ampMeyda = this.amp.subarray(0, MEYDA_BINS);
    this.bandArgs = { ampSpectrum: this.ampBand, sampleRate: FEATURE_CONFIG.sampleRate, bufferSize: N };
    this.out = {
      rms: 0,
      energyDb: -100,
      zcr: 0,
      loudness: 0,
      centroidHz: 0,
      spreadHz: 0,
      flatnessDb: 0,
      slope: 0,
      rolloffHz: 0,
      flux: 0,
      alphaRatioDb: 0,
      hammarbergDb: 0,
      slopeLoDbKhz: 0,
      slopeMidDbKhz: 0,
      bandLoDb: 0,
      bandHiDb: 0,
      mfcc: new Float64Array(FEATURE_CONFIG.mfccCount),
      toneRatio: 0,
    };
  }

  /**
   * Level stage only: rms, energyDb and zcr of the frame (256 samples at
   * 8 kHz, telephone-band filtered, read from `offset`), into `out`. Cheap;
   * run for every frame. `spectrum()` then completes the frame when needed.
   */
  level(source: Float32Array, offset = 0): SpectralFrame {
    const o = this.out;
    // One memcpy through a view: ≈3× faster than an element loop (≈60 vs ≈170 ns).
    const x = this.signal;
    x.set(source.subarray(offset, offset + N));
    o.rms = meydaExtractors.rms(this.frameArgs);
    o.energyDb = Math.max(-100, 10 * Math.log10(o.rms * o.rms + 1e-10));
    o.zcr = meydaExtractors.zcr(this.frameArgs) / (N - 1);
    return o;
  }

  /**
   * Marks the current frame as not analysed spectrally (silence), so the
   * next analysed frame's flux is measured against nothing (flux 1: an onset).
   */
  skipSpectrum(): void {
    this.prevValid = false;
  }

  /** Both stages; results in `out`. */
  analyze(source: Float32Array, offset = 0): SpectralFrame {
    this.level(source, offset);
    return this.spectrum();
  }

  /** Tone ratio given the band's total power and its strongest bin (both from the fused loop of `spectrum`). */
  private toneRatio(total: number, first: number): number {
    const p = this.power;
    if (total <= TINY) return 0;
    // The strongest bin more than 4 bins from the first peak (ascending, first of equals).
    let second = -1;
    for (let k = BAND_FIRST_BIN; k < first - 4; k++) if (second < 0 || p[k]! > p[second]!) second = k;
    for (let k = Math.max(BAND_FIRST_BIN, first + 5); k <= BAND_LAST_BIN; k++) if (second < 0 || p[k]! > p[second]!) second = k;
    // Power within ±2 bins of either peak, clipped to the band, summed in
    // ascending bin order. The zones cannot overlap (the peaks are > 4 bins
    // apart), so the lower zone then the upper one is that order.
    let peaks = 0;
    const lower = second >= 0 && second < first ? second : first;
    const upper = lower === first ? second : first;
    for (let k = Math.max(BAND_FIRST_BIN, lower - 2); k <= Math.min(BAND_LAST_BIN, lower + 2); k++) peaks += p[k]!;
    if (upper >= 0) for (let k = Math.max(BAND_FIRST_BIN, upper - 2); k <= Math.min(BAND_LAST_BIN, upper + 2); k++) peaks += p[k]!;
    return Math.min(1, peaks / total);
  }

  /**
   * Least-squares slope of 10·log10(power) against frequency over bins
   * [k0, k1], dB per kHz; the abscissa sums come from `axis`, the levels
   * from `logPower` (filled by `spectrum`).
   */
  private logSlope(k0: number, k1: number, axis: { sx: number; sxx: number }): number {
    let sy = 0;
    let sxy = 0;
    const n = k1 - k0 + 1;
    const y = this.logPower;
    for (let k = k0; k <= k1; k++) {
      const x = (k * BIN_HZ) / 1000;
      const v = y[k - LOG_FIRST_BIN]!;
      sy += v;
      sxy += x * v;
    }
    const { sx, sxx } = axis;
    const den = n * sxx - sx * sx;
    return den > 0 ? (n * sxy - sx * sy) / den : 0;
  }

  /** Spectral stage of the frame last passed to `level`; results in `out`. */
  spectrum(): SpectralFrame {
    this.spectrumCore();
    return this.spectrumDetail();
  }

  /**
   * First part of the spectral stage, what every analysed frame needs: the
   * FFT, the tone ratio (the tone gate) and the flux (whose previous
   * spectrum the next frame measures against). Sets `toneRatio` and `flux`
   * in `out`; `spectrumDetail` completes the frame. Why split: the rest —
   * ≈160 logarithms and 24 powers per frame — is read only for speech
   * frames, and the speech decision needs the tone ratio first.
   */
  spectrumCore(): SpectralFrame {
    const o = this.out;
    const signal = this.signal;
    const windowed = this.windowed;
    const spec = this.spec;
    for (let i = 0; i < N; i++) windowed[i] = signal[i]! * HANN[i]!;
    // Bins 0..N/2 (the left half of `spec`, interleaved re/im).
    this.fft.realTransform(spec, windowed);
    const amp = this.amp;
    const power = this.power;
    // Below and above the band only the loudness reads the spectrum (its
    // amplitude, up to bin N/2 − 1); nothing reads the power there. Kept
    // here (not in spectrumDetail) because `spec` is shared by the thread.
    for (let k = 0; k < BAND_FIRST_BIN; k++) {
      const re = spec[2 * k]!;
      const im = spec[2 * k + 1]!;
      amp[k] = Math.sqrt(re * re + im * im);
    }
    for (let k = BAND_LAST_BIN + 1; k < MEYDA_BINS; k++) {
      const re = spec[2 * k]!;
      const im = spec[2 * k + 1]!;
      amp[k] = Math.sqrt(re * re + im * im);
    }
    // One pass over the band for every running sum and peak below; each
    // accumulates in ascending bin order, as the separate loops it replaced did.
    let bandAmp = 0;
    let norm = 0;
    let low = 0;
    let high = 0;
    let peakLow = 0;
    let peakHigh = 0;
    let lo = 0;
    let hi = 0;
    let bandPower = 0;
    let strongest = BAND_FIRST_BIN;
    for (let k = BAND_FIRST_BIN; k <= BAND_LAST_BIN; k++) {
      const re = spec[2 * k]!;
      const im = spec[2 * k + 1]!;
      const p0 = re * re + im * im;
      const a = Math.fround(Math.sqrt(p0));
      amp[k] = a;
      const p = p0 / HANN_POWER;
      power[k] = p;
      bandAmp += a;
      norm += a * a;
      if (k < ALPHA_SPLIT_BIN) low += p;
      else high += p;
      if (k < HAMMARBERG_SPLIT_BIN) {
        if (p > peakLow) peakLow = p;
      } else if (p > peakHigh) peakHigh = p;
      if (k <= BAND_LO_LAST_BIN) lo += p;
      if (k >= BAND_HI_FIRST_BIN) hi += p;
      bandPower += p;
      if (p > power[strongest]!) strongest = k;
    }
    const sums = this.sums;
    sums.bandAmp = bandAmp;
    sums.low = low;
    sums.high = high;
    sums.peakLow = peakLow;
    sums.peakHigh = peakHigh;
    sums.lo = lo;
    sums.hi = hi;

    // Flux between unit-norm band spectra: level-free spectral change.
    norm = Math.sqrt(norm);
    let flux = 0;
    const unit = this.unitBand;
    const prev = this.prevUnitBand;
    if (!this.prevValid) prev.fill(0);
    const ampBand = this.ampBand;
    for (let k = 0; k < BAND_BINS; k++) {
      const u = norm > TINY ? ampBand[k]! / norm : 0;
      const d = u - prev[k]!;
      flux += d * d;
      unit[k] = u;
    }
    o.flux = Math.sqrt(flux);
    // This frame's unit spectrum becomes the previous one: swap, not copy.
    this.unitBand = prev;
    this.prevUnitBand = unit;
    this.prevValid = true;

    o.toneRatio = this.toneRatio(bandPower, strongest);
    return o;
  }

  /**
   * The rest of the spectral stage, from the spectrum `spectrumCore` left
   * in this analyzer (call it right after that, for the same frame):
   * loudness, centroid, spread, flatness, slope, rolloff, alpha ratio,
   * Hammarberg index, band shares, log-spectrum slopes and MFCCs.
   */
  spectrumDetail(): SpectralFrame {
    const o = this.out;
    const power = this.power;
    const { bandAmp, low, high, peakLow, peakHigh, lo, hi } = this.sums;
    // The levels logSlope reads, each computed once (the two ranges share a bin).
    for (let k = LOG_FIRST_BIN; k <= LOG_LAST_BIN; k++) this.logPower[k - LOG_FIRST_BIN] = 10 * Math.log10(power[k]! + TINY);

    // Meyda's loudness: Σ over Bark bands of (Σ band amplitude)^0.23, each
    // band's value rounded to float32 as Meyda stores it.
    const ampMeyda = this.ampMeyda;
    let loudness = 0;
    for (let b = 0; b < BARK_BANDS; b++) {
      let sum = 0;
      const end = BARK_LIMITS[b + 1]!;
      for (let i = BARK_LIMITS[b]!; i < end; i++) sum += ampMeyda[i]!;
      loudness += loudnessPow(sum);
    }
    o.loudness = loudness;

    if (bandAmp > TINY) {
      o.centroidHz = (meydaExtractors.spectralCentroid(this.bandArgs) + BAND_FIRST_BIN) * BIN_HZ;
      o.spreadHz = meydaExtractors.spectralSpread(this.bandArgs) * BIN_HZ;
      o.flatnessDb = 10 * Math.log10(Math.max(meydaExtractors.spectralFlatness(this.bandArgs), 1e-10));
      o.slope = meydaExtractors.spectralSlope(this.bandArgs) * SLOPE_SCALE;
      let acc = 0;
      const target = 0.85 * bandAmp;
      let k = 0;
      for (; k < BAND_BINS - 1; k++) {
        acc += this.ampBand[k]!;
        if (acc >= target) break;
      }
      o.rolloffHz = (k + BAND_FIRST_BIN) * BIN_HZ;
    } else {
      o.centroidHz = 0;
      o.spreadHz = 0;
      o.flatnessDb = -100;
      o.slope = 0;
      o.rolloffHz = 0;
    }

    o.alphaRatioDb = 10 * Math.log10((high + TINY) / (low + TINY));
    o.hammarbergDb = 10 * Math.log10((peakLow + TINY) / (peakHigh + TINY));
    const total = low + high;
    o.bandLoDb = 10 * Math.log10((lo + TINY) / (total + TINY));
    o.bandHiDb = 10 * Math.log10((hi + TINY) / (total + TINY));
    o.slopeLoDbKhz = this.logSlope(SLOPE_LO[0], SLOPE_LO[1], SLOPE_LO_AXIS);
    o.slopeMidDbKhz = this.logSlope(SLOPE_MID[0], SLOPE_MID[1], SLOPE_MID_AXIS);
    this.mfccComputer.compute(this.power, o.mfcc);
    return o;
  }
}
