/**
 * Window statistics: the absolute part of the feature vector, computed from
 * the per-frame history over one 2 s window's speech frames (pitch features
 * over its voiced speech frames).
 */
import { FEATURE_CONFIG, featureIndex } from './feature-names.js';
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
const MFCC_STD = Array.from({ length: FEATURE_CONFIG.mfccCount }, (_, i) => I(`mfcc${i}_std`));

/** Linear-interpolated percentile of sorted `v[0..n)`. */
function percentile(v: Float64Array, n: number, q: number): number {
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

/** Insertion sort of v[0..n): n ≤ 99, no allocation. */
function sortPrefix(v: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const x = v[i]!;
    let j = i - 1;
    while (j >= 0 && v[j]! > x) {
      v[j + 1] = v[j]!;
      j--;
    }
    v[j + 1] = x;
  }
}

export class WindowStatistics {
  readonly tempo = new TempoAnalyzer();
  private readonly values = new Float64Array(FEATURE_CONFIG.framesPerWindow);
  private readonly times = new Float64Array(FEATURE_CONFIG.framesPerWindow);
  private readonly summary: Summary = { n: 0, mean: 0, std: 0, p10: 0, p50: 0, p90: 0, max: 0, slope: 0 };

  /**
   * Gathers `field` over the window's speech frames (voiced ones when
   * `voicedOnly`), skipping NaN, and summarises it. `withOrder` adds
   * percentiles and max (sorting the gathered values).
   */
  private summarise(
    h: FrameHistory,
    field: Float64Array,
    first: number,
    count: number,
    voicedOnly: boolean,
    withOrder: boolean,
    stride = 1,
    lane = 0,
  ): Summary {
    const v = this.values;
    const t = this.times;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const slot = (first + i) & h.mask;
      if (h.speech[slot] !== 1 || (voicedOnly && h.voiced[slot] !== 1)) continue;
      const x = field[slot * stride + lane]!;
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
    let sumT = 0;
    for (let i = 0; i < n; i++) {
      sum += v[i]!;
      sumT += t[i]!;
    }
    const mean = sum / n;
    const meanT = sumT / n;
    let sxx = 0;
    let stt = 0;
    let sxt = 0;
    for (let i = 0; i < n; i++) {
      const dx = v[i]! - mean;
      const dt = t[i]! - meanT;
      sxx += dx * dx;
      stt += dt * dt;
      sxt += dx * dt;
    }
    s.mean = mean;
    s.std = Math.sqrt(sxx / n);
    s.slope = stt > 0 ? sxt / stt : 0;
    if (withOrder) {
      sortPrefix(v, n);
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
   * Writes the absolute features of frames [first, first + count) into
   * `out` (indexed as FEATURE_NAMES). Returns the tempo result (speech ratio, …).
   */
  compute(h: FrameHistory, first: number, count: number, out: Float32Array): void {
    const tempo = this.tempo.analyze(h, first, count);

    let voicedSpeech = 0;
    for (let i = 0; i < count; i++) {
      const slot = (first + i) & h.mask;
      if (h.speech[slot] === 1 && h.voiced[slot] === 1) voicedSpeech++;
    }
    out[I('voiced_ratio')] = tempo.speechFrames > 0 ? voicedSpeech / tempo.speechFrames : 0;

    if (voicedSpeech >= MIN_VOICED_FRAMES) {
      let s = this.summarise(h, h.f0St, first, count, true, true);
      out[I('f0_st_mean')] = s.mean;
      out[I('f0_st_std')] = s.std;
      out[I('f0_st_slope')] = s.slope;
      out[I('f0_st_p10')] = s.p10;
      out[I('f0_st_p50')] = s.p50;
      out[I('f0_st_p90')] = s.p90;
      out[I('f0_st_range')] = s.p90 - s.p10;
      out[I('f0_st_vel')] = this.velocity(h, h.f0St, first, count, true);
      out[I('voicing_conf_mean')] = this.summarise(h, h.confidence, first, count, true, false).mean;
      out[I('jitter_mean')] = this.summarise(h, h.jitter, first, count, true, false).mean;
      out[I('shimmer_db_mean')] = this.summarise(h, h.shimmerDb, first, count, true, false).mean;
      s = this.summarise(h, h.hnrDb, first, count, true, true);
      out[I('hnr_db_mean')] = s.mean;
      out[I('hnr_db_std')] = s.std;
      out[I('hnr_db_p90')] = s.p90;
    } else {
      for (const name of [
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
      ]) {
        out[I(name)] = 0;
      }
    }

    let s = this.summarise(h, h.energyDb, first, count, false, true);
    out[I('rms_db_mean')] = s.mean;
    out[I('rms_db_std')] = s.std;
    out[I('rms_db_slope')] = s.slope;
    out[I('rms_db_p10')] = s.p10;
    out[I('rms_db_p50')] = s.p50;
    out[I('rms_db_p90')] = s.p90;
    out[I('rms_db_range')] = s.p90 - s.p10;
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

    const pairs: [Float64Array, string][] = [
      [h.spreadHz, 'spread_hz'],
      [h.flatnessDb, 'flatness_db'],
      [h.slope, 'slope'],
      [h.rolloffHz, 'rolloff_hz'],
      [h.zcr, 'zcr'],
      [h.flux, 'flux'],
      [h.alphaRatioDb, 'alpha_ratio_db'],
    ];
    for (const [field, name] of pairs) {
      s = this.summarise(h, field, first, count, false, false);
      out[I(`${name}_mean`)] = s.mean;
      out[I(`${name}_std`)] = s.std;
    }
    out[I('hammarberg_db_mean')] = this.summarise(h, h.hammarbergDb, first, count, false, false).mean;

    const lanes = FEATURE_CONFIG.mfccCount;
    for (let c = 0; c < lanes; c++) {
      s = this.summarise(h, h.mfcc, first, count, false, false, lanes, c);
      out[MFCC_MEAN[c]!] = s.mean;
      out[MFCC_STD[c]!] = s.std;
    }

    out[I('syl_rate')] = tempo.sylRate;
    out[I('artic_rate')] = tempo.articRate;
    out[I('voiced_seg_rate')] = tempo.voicedSegRate;
    out[I('voiced_seg_mean_s')] = tempo.voicedSegMeanS;
    out[I('pause_ratio')] = tempo.pauseRatio;
    out[I('speech_ratio')] = tempo.speechRatio;
  }
}
