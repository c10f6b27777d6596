/**
 * Window statistics: the absolute part of the feature vector, computed from
 * the per-frame history over one 2 s window's speech frames (pitch features
 * over its voiced speech frames).
 */
import { FEATURE_CONFIG, FEATURE_NAMES, featureIndex } from './feature-names.js';
import type { FrameHistory } from './frame-history.js';
import { TempoAnalyzer } from './tempo.js';

const FRAME_S = FEATURE_CONFIG.hopSamples / FEATURE_CONFIG.sampleRate;
/** Fewer voiced frames than this and pitch statistics are reported as 0 (with `voiced_ratio` saying why). */
const MIN_VOICED_FRAMES = 5;

/** Summary of one sample of values. */
interface Summary {
  n: number;
  mean: number;
  std: number;
  p10: number;
  p50: number;
  p90: number;
  max: number;
  /** Least-squares slope against time (per second). */
  slope: number;
}

const I = (name: string): number => featureIndex(name);
const MFCC_MEAN = Array.from({ length: FEATURE_CONFIG.mfccCount }, (_, i) => I(`mfcc${i}_mean`));
/** Indices of the seven contour statistics under `<prefix>_…`, looked up once (not by building names per window). */
function contourIndex(prefix: string): Int32Array {
  return Int32Array.from(['mean', 'std', 'slope', 'p10', 'p50', 'p90', 'range'], (stat) => I(`${prefix}_${stat}`));
}
const F0_CONTOUR = contourIndex('f0_st');
const RMS_CONTOUR = contourIndex('rms_db');

/** Writes the seven contour statistics that F0 and level both get, at the indices from `contourIndex`. */
function writeContour(
  out: Float32Array,
  at: Int32Array,
  s: { mean: number; std: number; slope: number; p10: number; p50: number; p90: number },
): void {
  out[at[0]!] = s.mean;
  out[at[1]!] = s.std;
  out[at[2]!] = s.slope;
  out[at[3]!] = s.p10;
  out[at[4]!] = s.p50;
  out[at[5]!] = s.p90;
  out[at[6]!] = s.p90 - s.p10;
}

/** Voiced-frame features reported as 0 with the pitch ones when a window has too few voiced frames. */
const VOICED_EXTRA = [
  // The formant and voiced spectral-balance block stands together in FEATURE_NAMES.
  ...FEATURE_NAMES.slice(I('f1_hz_mean'), I('mfcc4_v_mean') + 1),
  'f0_rise_st_s',
  'f0_fall_st_s',
  'f0_final_st',
];
/** Everything zeroed when a window has too few voiced frames, as indices. */
const UNVOICED_ZERO = Int32Array.from(
  [
    'f0_st_mean',
    'f0_st_std',
    'f0_st_slope',
    'f0_st_p10',
    'f0_st_p50',
    'f0_st_p90',
    'f0_st_range',
    'f0_st_vel',
    'voicing_conf_mean',
    'jitter_mean',
    'shimmer_db_mean',
    'hnr_db_mean',
    'hnr_db_std',
    'hnr_db_p90',
    ...VOICED_EXTRA,
  ],
  I,
);
/** Mean and std indices of the spectral fields summarised over all speech frames (order of `compute`'s field list). */
const PAIR_NAMES = ['spread_hz', 'flatness_db', 'slope', 'rolloff_hz', 'zcr', 'flux', 'alpha_ratio_db'];
const PAIR_MEAN = Int32Array.from(PAIR_NAMES, (name) => I(`${name}_mean`));
const PAIR_STD = Int32Array.from(PAIR_NAMES, (name) => I(`${name}_std`));
const MFCC_V_MEAN = [1, 2, 3, 4].map((c) => I(`mfcc${c}_v_mean`));
/** mfcc_vel (lanes 1–12) and mfcc1..4_vel, the order `mfccVelocities` writes them in. */
const MFCC_VEL = Int32Array.from(['mfcc_vel', 'mfcc1_vel', 'mfcc2_vel', 'mfcc3_vel', 'mfcc4_vel'], I);
if (FEATURE_CONFIG.mfccCount < 5) throw new Error('window-stats: MFCC velocities need at least 5 coefficients');
const MFCC_STD = Array.from({ length: FEATURE_CONFIG.mfccCount }, (_, i) => I(`mfcc${i}_std`));

/** Voiced runs shorter than this (frames, 20 ms each) have no contour shape. */
const MIN_RUN_FRAMES = 5;
/** F0 steps over this (st) between neighbouring frames are tracking jumps: the run is split there. */
const MAX_RUN_STEP_ST = 3;
/** Frames averaged for the run's final F0. */
const FINAL_FRAMES = 3;
/** Peak position reported when a window has no complete voiced run: the middle. */
const NO_RUN_PEAK_POS = 0.5;

/**
 * F0 contour shape over the window's voiced speech runs (split at jumps of
 * more than 3 st; only runs of ≥ 5 frames lying wholly inside the window,
 * so a run cut by the window edge does not fake a peak or a final rise):
 * mean position of the F0 maximum (0 = start, 1 = end), and mean final
 * movement (mean F0 of the last 3 frames − the run's mean F0, st).
 */
function f0RunShape(h: FrameHistory, first: number, count: number): { peakPos: number; finalSt: number } {
  const m = h.mask;
  let runs = 0;
  let peakSum = 0;
  let finalSum = 0;
  let start = -1;
  for (let i = 0; i <= count; i++) {
    const slot = (first + i) & m;
    const inRun =
      i < count &&
      h.speech[slot] === 1 &&
      h.voiced[slot] === 1 &&
      (start < 0 || Math.abs(h.f0St[slot]! - h.f0St[(first + i - 1) & m]!) <= MAX_RUN_STEP_ST);
    if (inRun) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      const end = i - 1;
      const len = end - start + 1;
      if (len >= MIN_RUN_FRAMES && start > 0 && i < count) {
        let sum = 0;
        let peak = Number.NEGATIVE_INFINITY;
        let peakAt = start;
        for (let j = start; j <= end; j++) {
          const f = h.f0St[(first + j) & m]!;
          sum += f;
          if (f > peak) {
            peak = f;
            peakAt = j;
          }
        }
        let tail = 0;
        for (let j = end - FINAL_FRAMES + 1; j <= end; j++) tail += h.f0St[(first + j) & m]!;
        peakSum += (peakAt - start) / (len - 1);
        finalSum += tail / FINAL_FRAMES - sum / len;
        runs++;
      }
      // A frame that broke the run by a jump starts the next one.
      const slot2 = (first + i) & m;
      start = i < count && h.speech[slot2] === 1 && h.voiced[slot2] === 1 ? i : -1;
    }
  }
  return runs > 0 ? { peakPos: peakSum / runs, finalSt: finalSum / runs } : { peakPos: NO_RUN_PEAK_POS, finalSt: 0 };
}

/** Linear-interpolated percentile of sorted `v[0..n)`. */
function percentile(v: Float64Array, n: number, q: number): number {
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

export class WindowStatistics {
  readonly tempo = new TempoAnalyzer();
  private readonly values = new Float64Array(FEATURE_CONFIG.framesPerWindow);
  private readonly times = new Float64Array(FEATURE_CONFIG.framesPerWindow);
  private readonly summary: Summary = { n: 0, mean: 0, std: 0, p10: 0, p50: 0, p90: 0, max: 0, slope: 0 };

  /** Frame offsets (from `first`) of the window's speech, voiced speech and unvoiced speech frames. */
  private readonly speechList = new Int32Array(FEATURE_CONFIG.framesPerWindow);
  private readonly voicedList = new Int32Array(FEATURE_CONFIG.framesPerWindow);
  private readonly unvoicedList = new Int32Array(FEATURE_CONFIG.framesPerWindow);
  private speechN = 0;
  private voicedN = 0;
  private unvoicedN = 0;
  /** The window the lists describe (−1: none yet). */
  private listFirst = -1;
  private listCount = -1;

  /** Lists the window's speech frames once, instead of re-testing every frame in each of ~40 summaries. */
  private prepare(h: FrameHistory, first: number, count: number): void {
    let s = 0;
    let v = 0;
    let u = 0;
    for (let i = 0; i < count; i++) {
      const slot = (first + i) & h.mask;
      if (h.speech[slot] !== 1) continue;
      this.speechList[s++] = i;
      if (h.voiced[slot] === 1) this.voicedList[v++] = i;
      else this.unvoicedList[u++] = i;
    }
    this.speechN = s;
    this.voicedN = v;
    this.unvoicedN = u;
    this.listFirst = first;
    this.listCount = count;
  }

  /**
   * Gathers `field` over the window's speech frames (voiced ones when
   * `voicedOnly`), skipping NaN, and summarises it. `withOrder` adds
   * percentiles and max (sorting the gathered values); `withSlope` the slope
   * against time (only the F0 and level contours report it: the other ~40
   * summaries per window skip the regression, and its result is 0 for them).
   */
  private summarise(
    h: FrameHistory,
    field: Float64Array,
    first: number,
    count: number,
    voicedOnly: boolean | 'unvoiced',
    withOrder: boolean,
    stride = 1,
    lane = 0,
    withSlope = false,
  ): Summary {
    const v = this.values;
    const t = this.times;
    if (first !== this.listFirst || count !== this.listCount) this.prepare(h, first, count);
    // The window's qualifying frames (in order), listed once per window by `prepare`.
    const list = voicedOnly === true ? this.voicedList : voicedOnly === 'unvoiced' ? this.unvoicedList : this.speechList;
    const m = voicedOnly === true ? this.voicedN : voicedOnly === 'unvoiced' ? this.unvoicedN : this.speechN;
    const mask = h.mask;
    let n = 0;
    for (let j = 0; j < m; j++) {
      const i = list[j]!;
      const x = field[((first + i) & mask) * stride + lane]!;
      if (Number.isNaN(x)) continue;
      v[n] = x;
      t[n] = i * FRAME_S;
      n++;
    }
    const s = this.summary;
    s.n = n;
    if (n === 0) {
      s.mean = s.std = s.p10 = s.p50 = s.p90 = s.max = s.slope = 0;
      return s;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += v[i]!;
    const mean = sum / n;
    let sxx = 0;
    if (withSlope) {
      let sumT = 0;
      for (let i = 0; i < n; i++) sumT += t[i]!;
      const meanT = sumT / n;
      let stt = 0;
      let sxt = 0;
      for (let i = 0; i < n; i++) {
        const dx = v[i]! - mean;
        const dt = t[i]! - meanT;
        sxx += dx * dx;
        stt += dt * dt;
        sxt += dx * dt;
      }
      s.slope = stt > 0 ? sxt / stt : 0;
    } else {
      for (let i = 0; i < n; i++) {
        const dx = v[i]! - mean;
        sxx += dx * dx;
      }
      s.slope = 0;
    }
    s.mean = mean;
    s.std = Math.sqrt(sxx / n);
    if (withOrder) {
      // Native numeric sort (NaN never gathered): the same order as the insertion sort it replaced.
      v.subarray(0, n).sort();
      s.p10 = percentile(v, n, 0.1);
      s.p50 = percentile(v, n, 0.5);
      s.p90 = percentile(v, n, 0.9);
      s.max = v[n - 1]!;
    }
    return s;
  }

  /** Mean |x[i] − x[i−1]| per second over consecutive frame pairs that both qualify. */
  private velocity(h: FrameHistory, field: Float64Array, first: number, count: number, voicedOnly: boolean): number {
    let sum = 0;
    let n = 0;
    for (let i = 1; i < count; i++) {
      const a = (first + i - 1) & h.mask;
      const b = (first + i) & h.mask;
      if (h.speech[a] !== 1 || h.speech[b] !== 1) continue;
      if (voicedOnly && (h.voiced[a] !== 1 || h.voiced[b] !== 1)) continue;
      sum += Math.abs(field[b]! - field[a]!);
      n++;
    }
    return n > 0 ? sum / n / FRAME_S : 0;
  }

  /**
   * Mean per-second change between consecutive speech frames of MFCCs 1–12
   * (Euclidean) and of c1, c2, c3, c4 each (|Δ|), into `out` at
   * MFCC_VEL (in that order). One pass for all five: each is summed exactly
   * as a pass of its own would (same pairs, same order; a single lane's
   * distance is √(0 + Δ²) as the per-lane loop computed it).
   */
  private mfccVelocities(h: FrameHistory, first: number, count: number, out: Float32Array): void {
    const lanes = FEATURE_CONFIG.mfccCount;
    const mf = h.mfcc;
    let all = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let n = 0;
    for (let i = 1; i < count; i++) {
      const a = (first + i - 1) & h.mask;
      const b = (first + i) & h.mask;
      if (h.speech[a] !== 1 || h.speech[b] !== 1) continue;
      const ra = a * lanes;
      const rb = b * lanes;
      const d1 = mf[rb + 1]! - mf[ra + 1]!;
      const d2 = mf[rb + 2]! - mf[ra + 2]!;
      const d3 = mf[rb + 3]! - mf[ra + 3]!;
      const d4 = mf[rb + 4]! - mf[ra + 4]!;
      let e2 = 0;
      e2 += d1 * d1;
      e2 += d2 * d2;
      e2 += d3 * d3;
      e2 += d4 * d4;
      for (let c = 5; c < lanes; c++) {
        const d = mf[rb + c]! - mf[ra + c]!;
        e2 += d * d;
      }
      all += Math.sqrt(e2);
      s1 += Math.sqrt(0 + d1 * d1);
      s2 += Math.sqrt(0 + d2 * d2);
      s3 += Math.sqrt(0 + d3 * d3);
      s4 += Math.sqrt(0 + d4 * d4);
      n++;
    }
    const per = (sum: number): number => (n > 0 ? sum / n / FRAME_S : 0);
    out[MFCC_VEL[0]!] = per(all);
    out[MFCC_VEL[1]!] = per(s1);
    out[MFCC_VEL[2]!] = per(s2);
    out[MFCC_VEL[3]!] = per(s3);
    out[MFCC_VEL[4]!] = per(s4);
  }

  /** Local maxima of the [¼ ½ ¼]-smoothed loudness over speech frames, per second of speech. */
  private loudnessPeakRate(h: FrameHistory, first: number, count: number, speechFrames: number): number {
    if (speechFrames === 0) return 0;
    const m = h.mask;
    let peaks = 0;
    for (let i = 1; i < count - 1; i++) {
      const a = (first + i - 1) & m;
      const b = (first + i) & m;
      const c = (first + i + 1) & m;
      if (h.speech[a] !== 1 || h.speech[b] !== 1 || h.speech[c] !== 1) continue;
      const l = i >= 2 && h.speech[(first + i - 2) & m] === 1 ? h.loudness[(first + i - 2) & m]! : h.loudness[a]!;
      const sa = 0.25 * l + 0.5 * h.loudness[a]! + 0.25 * h.loudness[b]!;
      const sb = 0.25 * h.loudness[a]! + 0.5 * h.loudness[b]! + 0.25 * h.loudness[c]!;
      const r = i + 2 < count && h.speech[(first + i + 2) & m] === 1 ? h.loudness[(first + i + 2) & m]! : h.loudness[c]!;
      const sc = 0.25 * h.loudness[b]! + 0.5 * h.loudness[c]! + 0.25 * r;
      if (sb > sa && sb >= sc) peaks++;
    }
    return peaks / (speechFrames * FRAME_S);
  }

  /**
   * Writes the absolute features of frames [first, first + count) into
   * `out` (indexed as FEATURE_NAMES). Returns the tempo result (speech ratio, …).
   */
  compute(h: FrameHistory, first: number, count: number, out: Float32Array): void {
    // The history changed since the last window (even one with the same span, after a flush).
    this.prepare(h, first, count);
    const tempo = this.tempo.analyze(h, first, count);

    let voicedSpeech = 0;
    for (let i = 0; i < count; i++) {
      const slot = (first + i) & h.mask;
      if (h.speech[slot] === 1 && h.voiced[slot] === 1) voicedSpeech++;
    }
    out[I('voiced_ratio')] = tempo.speechFrames > 0 ? voicedSpeech / tempo.speechFrames : 0;

    if (voicedSpeech >= MIN_VOICED_FRAMES) {
      let s = this.summarise(h, h.f0St, first, count, true, true, 1, 0, true);
      writeContour(out, F0_CONTOUR, s);
      out[I('f0_st_vel')] = this.velocity(h, h.f0St, first, count, true);
      out[I('voicing_conf_mean')] = this.summarise(h, h.confidence, first, count, true, false).mean;
      out[I('jitter_mean')] = this.summarise(h, h.jitter, first, count, true, false).mean;
      out[I('shimmer_db_mean')] = this.summarise(h, h.shimmerDb, first, count, true, false).mean;
      s = this.summarise(h, h.hnrDb, first, count, true, true);
      out[I('hnr_db_mean')] = s.mean;
      out[I('hnr_db_std')] = s.std;
      out[I('hnr_db_p90')] = s.p90;

      s = this.summarise(h, h.f1Hz, first, count, true, false);
      out[I('f1_hz_mean')] = s.mean;
      out[I('f1_hz_std')] = s.std;
      s = this.summarise(h, h.f2Hz, first, count, true, false);
      out[I('f2_hz_mean')] = s.mean;
      out[I('f2_hz_std')] = s.std;
      out[I('f3_hz_mean')] = this.summarise(h, h.f3Hz, first, count, true, false).mean;
      out[I('f1_bw_hz_mean')] = this.summarise(h, h.f1BwHz, first, count, true, false).mean;
      out[I('f2_bw_hz_mean')] = this.summarise(h, h.f2BwHz, first, count, true, false).mean;
      out[I('f3_bw_hz_mean')] = this.summarise(h, h.f3BwHz, first, count, true, false).mean;
      out[I('a1a3_db_mean')] = this.summarise(h, h.a1a3Db, first, count, true, false).mean;
      out[I('slope_lo_v_mean')] = this.summarise(h, h.slopeLoDbKhz, first, count, true, false).mean;
      out[I('slope_mid_v_mean')] = this.summarise(h, h.slopeMidDbKhz, first, count, true, false).mean;
      out[I('alpha_ratio_v_mean')] = this.summarise(h, h.alphaRatioDb, first, count, true, false).mean;
      out[I('hammarberg_v_mean')] = this.summarise(h, h.hammarbergDb, first, count, true, false).mean;
      out[I('flux_v_mean')] = this.summarise(h, h.flux, first, count, true, false).mean;
      out[I('centroid_v_mean')] = this.summarise(h, h.centroidHz, first, count, true, false).mean;
      out[I('slope_v_mean')] = this.summarise(h, h.slope, first, count, true, false).mean;
      out[I('rolloff_v_mean')] = this.summarise(h, h.rolloffHz, first, count, true, false).mean;
      out[I('flatness_v_mean')] = this.summarise(h, h.flatnessDb, first, count, true, false).mean;
      for (let c = 1; c <= 4; c++) {
        out[MFCC_V_MEAN[c - 1]!] = this.summarise(h, h.mfcc, first, count, true, false, FEATURE_CONFIG.mfccCount, c).mean;
      }

      // Rising and falling F0 movement between consecutive voiced speech frames
      // (steps over 3 st are tracking jumps, not intonation).
      let rise = 0;
      let nRise = 0;
      let fall = 0;
      let nFall = 0;
      for (let i = 1; i < count; i++) {
        const a = (first + i - 1) & h.mask;
        const b = (first + i) & h.mask;
        if (h.speech[a] !== 1 || h.speech[b] !== 1 || h.voiced[a] !== 1 || h.voiced[b] !== 1) continue;
        const d = h.f0St[b]! - h.f0St[a]!;
        if (Math.abs(d) > 3) continue;
        if (d > 0) {
          rise += d;
          nRise++;
        } else if (d < 0) {
          fall -= d;
          nFall++;
        }
      }
      out[I('f0_rise_st_s')] = nRise > 0 ? rise / nRise / FRAME_S : 0;
      out[I('f0_fall_st_s')] = nFall > 0 ? fall / nFall / FRAME_S : 0;

      const shape = f0RunShape(h, first, count);
      out[I('f0_peak_pos')] = shape.peakPos;
      out[I('f0_final_st')] = shape.finalSt;
    } else {
      for (let i = 0; i < UNVOICED_ZERO.length; i++) out[UNVOICED_ZERO[i]!] = 0;
      out[I('f0_peak_pos')] = NO_RUN_PEAK_POS;
    }

    let s = this.summarise(h, h.energyDb, first, count, false, true, 1, 0, true);
    writeContour(out, RMS_CONTOUR, s);
    out[I('rms_db_mean_re_p90')] = s.mean - s.p90;
    out[I('rms_db_max_re_p50')] = s.max - s.p50;
    out[I('rms_db_vel')] = this.velocity(h, h.energyDb, first, count, false);

    s = this.summarise(h, h.loudness, first, count, false, true);
    out[I('loudness_mean')] = s.mean;
    out[I('loudness_cv')] = s.mean > 0 ? s.std / s.mean : 0;
    out[I('loudness_p90')] = s.p90;

    s = this.summarise(h, h.centroidHz, first, count, false, true);
    out[I('centroid_hz_mean')] = s.mean;
    out[I('centroid_hz_std')] = s.std;
    out[I('centroid_hz_p10')] = s.p10;
    out[I('centroid_hz_p90')] = s.p90;

    const pairs = [h.spreadHz, h.flatnessDb, h.slope, h.rolloffHz, h.zcr, h.flux, h.alphaRatioDb];
    for (let p = 0; p < pairs.length; p++) {
      s = this.summarise(h, pairs[p]!, first, count, false, false);
      out[PAIR_MEAN[p]!] = s.mean;
      out[PAIR_STD[p]!] = s.std;
    }
    out[I('hammarberg_db_mean')] = this.summarise(h, h.hammarbergDb, first, count, false, false).mean;

    const lanes = FEATURE_CONFIG.mfccCount;
    for (let c = 0; c < lanes; c++) {
      s = this.summarise(h, h.mfcc, first, count, false, false, lanes, c);
      out[MFCC_MEAN[c]!] = s.mean;
      out[MFCC_STD[c]!] = s.std;
    }

    out[I('alpha_ratio_uv_mean')] = this.summarise(h, h.alphaRatioDb, first, count, 'unvoiced', false).mean;
    out[I('hammarberg_uv_mean')] = this.summarise(h, h.hammarbergDb, first, count, 'unvoiced', false).mean;
    out[I('flux_uv_mean')] = this.summarise(h, h.flux, first, count, 'unvoiced', false).mean;
    out[I('band_lo_db_mean')] = this.summarise(h, h.bandLoDb, first, count, false, false).mean;
    s = this.summarise(h, h.bandHiDb, first, count, false, false);
    out[I('band_hi_db_mean')] = s.mean;
    out[I('band_hi_db_std')] = s.std;
    this.mfccVelocities(h, first, count, out);
    out[I('loudness_peak_rate')] = this.loudnessPeakRate(h, first, count, tempo.speechFrames);
    out[I('voiced_seg_std_s')] = tempo.voicedSegStdS;
    out[I('unvoiced_seg_mean_s')] = tempo.unvoicedSegMeanS;

    out[I('syl_rate')] = tempo.sylRate;
    out[I('artic_rate')] = tempo.articRate;
    out[I('voiced_seg_rate')] = tempo.voicedSegRate;
    out[I('voiced_seg_mean_s')] = tempo.voicedSegMeanS;
    out[I('pause_ratio')] = tempo.pauseRatio;
    out[I('speech_ratio')] = tempo.speechRatio;
  }
}
