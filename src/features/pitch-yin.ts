/**
 * YIN pitch tracker (de Cheveigné & Kawahara 2002) for 8 kHz telephone audio.
 *
 * Difference function over a 240-sample integration window (segments
 * centred on the frame centre), cumulative mean normalised difference
 * (CMND), then the first local minimum nearly as deep as the deepest one
 * (YIN's absolute threshold, tightened relative to the deepest dip),
 * refined by parabolic interpolation. The caller feeds the telephone-band
 * signal low-passed at 1 kHz (see FEATURE_CONFIG.pitchLowPassHz).
 *
 * Telephone audio lacks the fundamental below 300 Hz. The harmonics keep
 * the period, but male voices then often look periodic at half or a third
 * of it; Praat on the full-band corpus clips showed ~12 % such errors for
 * male speakers. Two per-call corrections, both measured with
 * scripts/pitch-check.ts:
 *  - envelope check: the rectified envelope of the band still beats at F0;
 *    if it repeats clearly better at 2× or 3× the lag, take that multiple;
 *  - speaker range prior: jumps of more than 9 semitones away from the
 *    speaker's typical period (learnt from confident frames, before
 *    correction, so a real octave rise is followed within ~0.1 s) must be
 *    clearly better than the alternatives near the speaker's range.
 *
 * The CMND value at the chosen lag is an aperiodicity measure: it gives the
 * voicing decision and confidence, and an HNR proxy
 * 10·log10((1 − d) / d).
 */
import { FEATURE_CONFIG } from './feature-names.js';
import { YinDifference } from './yin-difference.js';

/** Options of the YIN tracker. */
export interface YinOptions {
  /** Seconds between analysed frames, for the range prior's learning rate. Default: the extractor's hop. */
  frameS?: number;
  /** Input rate (Hz). Default 8000. */
  sampleRate?: number;
  /** Lowest F0 searched (Hz). Default 60. */
  f0MinHz?: number;
  /** Highest F0 searched (Hz). Default 500. */
  f0MaxHz?: number;
  /** Integration window (samples, a multiple of 4). Default 240 (30 ms). */
  integrationSamples?: number;
  /** Absolute CMND threshold for the first-dip rule. Default 0.15. */
  threshold?: number;
  /**
   * A dip earlier than the deepest one is taken only if its CMND is at most
   * `relativeTolerance` × deepest + `absoluteTolerance` (and under
   * `threshold`). Defaults 2 and 0.03.
   */
  relativeTolerance?: number;
  absoluteTolerance?: number;
  /**
   * Speaker range prior (per tracker, i.e. per call): lags more than
   * `freeOctaves` (default 0.75 = 9 semitones) from the speaker's typical
   * period pay `rangePenalty` (default 1) CMND units per further octave.
   * Default on.
   */
  rangePrior?: boolean;
  rangePenalty?: number;
  freeOctaves?: number;
  /** A frame is voiced when the CMND at the chosen lag is below this. Default 0.35. */
  voicingThreshold?: number;
}

/** Result of one analysis; overwritten by every call. */
export interface YinResult {
  /** Period in samples (fractional), 0 when no candidate was found. */
  periodSamples: number;
  /** F0 in Hz, 0 when unvoiced. */
  f0Hz: number;
  /** CMND at the chosen lag: 0 = perfectly periodic, ≈1 = noise. */
  aperiodicity: number;
  voiced: boolean;
  /** 1 − aperiodicity, clamped to 0..1. */
  confidence: number;
  /** 10·log10((1 − d) / d), d clamped to [0.001, 0.999]: −30..30 dB. */
  hnrDb: number;
}

/** Confident frames needed before the range prior applies. */
const REF_WARMUP = 9;
/** Only frames this periodic teach the range. */
const REF_CONFIDENT = 0.15;
/** Share of the way the range reference moves towards each confident 20 ms frame (time constant 0.4 s). */
const REF_RATE_PER_20MS = 0.05;
const REF_MAX_STEP = 0.5;

export class YinPitchTracker {
  readonly sampleRate: number;
  readonly tauMin: number;
  readonly tauMax: number;
  readonly integrationSamples: number;
  /** Samples the analysis buffer must hold: integration window + longest lag + 1. */
  readonly bufferSamples: number;
  readonly result: YinResult = { periodSamples: 0, f0Hz: 0, aperiodicity: 1, voiced: false, confidence: 0, hnrDb: -30 };
  private readonly threshold: number;
  private readonly relativeTolerance: number;
  private readonly useRef: boolean;
  private readonly rangePenalty: number;
  private readonly freeOctaves: number;
  private readonly refWarm = new Float64Array(REF_WARMUP);
  private refCount = 0;
  private refLog2 = 0;
  /** REF_RATE_PER_20MS at the frame hop, so the prior follows a voice at the same speed in seconds. */
  private readonly refRate: number;
  /** A multiple of the lag wins the envelope check if its score is below this share of the current one … */
  private readonly octaveRatio = 0.5;
  /** … and below this absolute score. */
  private readonly octaveMaxScore = 0.5;
  private readonly absoluteTolerance: number;
  private readonly voicingThreshold: number;
  private readonly diff: Float64Array;
  private readonly cmnd: Float64Array;
  private readonly difference: YinDifference;

  constructor(options: YinOptions = {}) {
    this.sampleRate = options.sampleRate ?? FEATURE_CONFIG.sampleRate;
    const f0Min = options.f0MinHz ?? FEATURE_CONFIG.f0MinHz;
    const f0Max = options.f0MaxHz ?? FEATURE_CONFIG.f0MaxHz;
    this.tauMin = Math.max(2, Math.floor(this.sampleRate / f0Max));
    this.tauMax = Math.ceil(this.sampleRate / f0Min);
    this.integrationSamples = options.integrationSamples ?? FEATURE_CONFIG.pitchIntegrationSamples;
    const frameS = options.frameS ?? FEATURE_CONFIG.hopSamples / FEATURE_CONFIG.sampleRate;
    this.refRate = 1 - Math.pow(1 - REF_RATE_PER_20MS, frameS / 0.02);
    if (this.integrationSamples % 4 !== 0) throw new RangeError('integrationSamples must be a multiple of 4');
    this.bufferSamples = this.integrationSamples + this.tauMax + 1;
    this.threshold = options.threshold ?? 0.15;
    this.relativeTolerance = options.relativeTolerance ?? 2;
    this.absoluteTolerance = options.absoluteTolerance ?? 0.03;
    this.voicingThreshold = options.voicingThreshold ?? 0.35;
    this.useRef = options.rangePrior ?? true;
    this.rangePenalty = options.rangePenalty ?? 1;
    this.freeOctaves = options.freeOctaves ?? 0.75;
    this.diff = new Float64Array(this.tauMax + 2);
    this.cmnd = new Float64Array(this.tauMax + 2);
    this.difference = new YinDifference(this.integrationSamples, this.tauMax);
  }

  /** Analyzes `bufferSamples` samples of `x` starting at `offset`. Result in `result`. */
  analyze(x: Float32Array | Float64Array, offset = 0, envelope?: Float32Array | Float64Array): YinResult {
    const W = this.integrationSamples;
    const tauMax = this.tauMax;
    const diff = this.diff;
    const cmnd = this.cmnd;
    // Difference function d(τ) = Σ_j (x_{s+j} − x_{s+j+τ})², τ = 1..tauMax+1,
    // with the pair of segments centred on the buffer centre (s depends on τ)
    // so every lag measures the same instant: the frame centre. Through an
    // FFT cross-correlation (yin-difference.ts): ~4× cheaper than the
    // ~32k multiply-adds of the direct sum, same values up to rounding.
    this.difference.compute(x, offset, diff);
    // Cumulative mean normalisation, and the deepest dip in the search range
    // (same comparisons in the same lag order as a separate pass).
    const tauMin = this.tauMin;
    cmnd[0] = 1;
    let running = 0;
    let globalMin = Number.POSITIVE_INFINITY;
    let globalAt = tauMin;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      const d = diff[tau]!;
      running += d;
      const v = running > 0 ? (d * tau) / running : 1;
      cmnd[tau] = v;
      if (tau >= tauMin && tau <= tauMax && v < globalMin) {
        globalMin = v;
        globalAt = tau;
      }
    }
    // The first local minimum that is nearly as deep as the global one.
    // Plain YIN takes the first dip under a fixed threshold, which picks half
    // the period whenever even harmonics dominate (common once the telephone
    // band has removed the fundamental); comparing with the deepest dip
    // keeps the true period, and still prefers the shortest lag over its
    // multiples (sub-octaves) when they are about as deep.
    const accept = Math.max(Math.min(this.threshold, globalMin * this.relativeTolerance + this.absoluteTolerance), globalMin);
    let best = globalAt;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (cmnd[tau]! <= accept) {
        while (tau + 1 <= tauMax && cmnd[tau + 1]! < cmnd[tau]!) tau++;
        best = tau;
        break;
      }
    }
    if (envelope !== undefined) best = this.checkMultiples(envelope, offset, best);
    const raw = best;
    if (this.useRef) best = this.applyRangePrior(best);
    // Parabolic interpolation of the CMND minimum.
    let period = best;
    let dMin = cmnd[best]!;
    if (best > this.tauMin && best < tauMax) {
      const a = cmnd[best - 1]!;
      const b = cmnd[best]!;
      const c = cmnd[best + 1]!;
      const denom = a - 2 * b + c;
      if (denom > 0) {
        const shift = (0.5 * (a - c)) / denom;
        if (Math.abs(shift) <= 1) {
          period = best + shift;
          dMin = b - 0.25 * (a - c) * shift;
        }
      }
    }
    const r = this.result;
    const d = Math.min(Math.max(dMin, 0), 1);
    r.periodSamples = period;
    r.aperiodicity = d;
    r.confidence = 1 - d;
    const dc = Math.min(Math.max(d, 0.001), 0.999);
    r.hnrDb = 10 * Math.log10((1 - dc) / dc);
    // A minimum at the edge of the search range is the range talking, not a period.
    r.voiced = d < this.voicingThreshold && best > this.tauMin && best < tauMax;
    r.f0Hz = r.voiced ? this.sampleRate / period : 0;
    if (this.useRef) this.learnRange(r, raw, cmnd[raw]!);
    return r;
  }

  /**
   * Speaker range prior: when the chosen lag lies more than `freeOctaves`
   * from the speaker's typical period, other CMND minima are weighed with a
   * penalty of `rangePenalty` per octave beyond that. Inside the free range
   * nothing changes, so genuine rises of up to 9 semitones (anger) are
   * never pulled back; what gets corrected are jumps to 2× or 3× F0.
   */
  private applyRangePrior(best: number): number {
    if (this.refCount < REF_WARMUP) return best;
    const cmnd = this.cmnd;
    let chosen = best;
    let chosenCost = this.rangeCost(best);
    if (chosenCost === cmnd[best]) return best;
    for (let tau = this.tauMin + 1; tau < this.tauMax; tau++) {
      const v = cmnd[tau]!;
      if (v >= this.voicingThreshold || v > cmnd[tau - 1]! || v > cmnd[tau + 1]!) continue;
      const c = this.rangeCost(tau);
      if (c < chosenCost) {
        chosen = tau;
        chosenCost = c;
      }
    }
    return chosen;
  }

  /** CMND at `tau` plus the range prior's penalty (a method, not a per-frame closure). */
  private rangeCost(tau: number): number {
    return this.cmnd[tau]! + this.rangePenalty * Math.max(0, Math.abs(Math.log2(tau) - this.refLog2) - this.freeOctaves);
  }

  /** Updates the speaker's typical period from confident frames (robust, slow). */
  private learnRange(r: YinResult, rawLag: number, rawCmnd: number): void {
    if (!r.voiced || rawCmnd > REF_CONFIDENT) return;
    // Learn from the tracker's own choice before the prior: learning from
    // corrected output would lock a genuine octave rise (screaming) out for good.
    const l = Math.log2(rawLag);
    if (this.refCount < REF_WARMUP) {
      this.refWarm[this.refCount++] = l;
      if (this.refCount === REF_WARMUP) {
        const sorted = Array.from(this.refWarm).sort((a, b) => a - b);
        this.refLog2 = sorted[REF_WARMUP >> 1]!;
      }
      return;
    }
    // Bounded step: a run of octave errors moves the reference only slowly.
    const step = Math.max(-REF_MAX_STEP, Math.min(REF_MAX_STEP, l - this.refLog2));
    this.refLog2 += this.refRate * step;
  }

  /**
   * Normalised difference of the envelope between the two segments `tau`
   * apart (same centring as the difference function), each with its mean
   * removed: 0 = identical, ≈1 = unrelated.
   */
  private envelopeDifference(e: Float32Array | Float64Array, offset: number, tau: number): number {
    const W = this.integrationSamples;
    const a = offset + ((this.tauMax + 1 - tau) >> 1);
    const b = a + tau;
    let ma = 0;
    let mb = 0;
    for (let j = 0; j < W; j++) {
      ma += e[a + j]!;
      mb += e[b + j]!;
    }
    ma /= W;
    mb /= W;
    let num = 0;
    let den = 0;
    for (let j = 0; j < W; j++) {
      const u = e[a + j]! - ma;
      const v = e[b + j]! - mb;
      num += (u - v) * (u - v);
      den += u * u + v * v;
    }
    return den > 0 ? num / den : 1;
  }

  /**
   * Octave check on the rectified envelope. When the telephone band has
   * removed the fundamental and the second harmonic, the waveform can repeat
   * nearly every half (or third) period and YIN locks onto that. The
   * envelope of the band-passed signal still beats at F0, so if it repeats
   * clearly better at 2× or 3× the chosen lag, the true period is that
   * multiple. (For a pure tone the envelope repeats every half period, so
   * the check never lengthens a correct lag.)
   */
  private checkMultiples(envelope: Float32Array | Float64Array, offset: number, best: number): number {
    // No multiple within the range (male voices, lag ≥ 68 at 8 kHz): nothing to
    // compare the lag with, so its own score is not needed.
    if (2 * best > this.tauMax - 1) return best;
    const base = this.envelopeDifference(envelope, offset, best);
    let chosen = best;
    let chosenScore = base;
    for (let m = 2; m <= 3; m++) {
      const lag = best * m;
      if (lag > this.tauMax - 1) break;
      const score = this.envelopeDifference(envelope, offset, lag);
      if (score < this.octaveRatio * chosenScore && score < this.octaveMaxScore) {
        chosen = lag;
        chosenScore = score;
      }
    }
    if (chosen === best) return best;
    // Settle on the CMND minimum next to the multiple.
    const cmnd = this.cmnd;
    let at = chosen;
    for (let t = Math.max(this.tauMin, chosen - 2); t <= Math.min(this.tauMax, chosen + 2); t++) if (cmnd[t]! < cmnd[at]!) at = t;
    return at;
  }
}

/** F0 in semitones re `FEATURE_CONFIG.semitoneRefHz` (100 Hz). */
export function hzToSemitones(hz: number): number {
  return 12 * Math.log2(hz / FEATURE_CONFIG.semitoneRefHz);
}
