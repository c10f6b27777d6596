/**
 * The feature vector's layout and the fixed analysis parameters the model is
 * trained on. Changing anything here changes the model's input: bump
 * `FEATURE_CONFIG.version` and retrain.
 */
import { PIPELINE_SAMPLE_RATE } from './types.js';

/** Fixed analysis parameters (samples at 8 kHz unless the name says otherwise). */
export const FEATURE_CONFIG = Object.freeze({
  /**
   * Version of the extractor's output; the model card records the one it
   * was trained on. ut-features-5 (issue 13): YIN on every 2nd 20 ms frame.
   */
  version: 'ut-features-5',
  sampleRate: PIPELINE_SAMPLE_RATE,
  /** Analysis frame: 256 samples = 32 ms (spectrum, energy, MFCC). */
  frameSamples: 256,
  /** Frame hop: 160 samples = 20 ms = one Twilio media chunk. */
  hopSamples: 160,
  /** Statistics window: 2 s. */
  windowSamples: 16000,
  /** A window is emitted every 0.5 s. */
  windowHopSamples: 4000,
  /** Frames lying wholly inside one window: floor((16000 − 256) / 160) + 1. */
  framesPerWindow: 99,
  /** Frames per window hop. */
  framesPerWindowHop: 25,
  /** Pitch search range (Hz). */
  f0MinHz: 60,
  /**
   * 650 Hz since ut-features-4: at 500 Hz, shouted and elated female F0
   * was clipped (ravdess female anger: 26 % of Praat's voiced frames lie
   * above 450 Hz; our gross error vs Praat 17.5 % at a 500 Hz ceiling,
   * 7.3 % at 650, 6.3 % at 800; male voices lose 0.2–1.1 points at 650 and
   * 0.4–2.1 at 800, from octave-up errors: scripts/pitch-ceiling-check.ts).
   */
  f0MaxHz: 650,
  /**
   * YIN analysis buffer centred on the frame centre: 240-sample integration
   * window plus the longest lag (134 samples, 60 Hz) plus one for the
   * interpolation neighbour.
   */
  pitchBufferSamples: 375,
  /**
   * The pitch tracker sees the telephone-band signal low-passed again at
   * this frequency (Hz): harmonics up to here carry the period, and higher
   * ones, sampled at only 8 kHz, blur the difference function at integer
   * lags (YIN paper, §V; de Cheveigné & Kawahara 2002).
   */
  pitchLowPassHz: 1000,
  /** YIN integration window (samples). */
  pitchIntegrationSamples: 240,
  /** Semitone reference: F0 is reported as 12·log2(F0 / 100 Hz). */
  semitoneRefHz: 100,
  /** A window needs at least this share of speech frames … */
  minSpeechRatio: 0.25,
  /** … and at least this much speech (s) to be emitted. */
  minSpeechS: 0.3,
  /** Number of MFCCs (c0..c12). */
  mfccCount: 13,
} as const);

/** Window statistics of the per-frame features, over the window's speech frames. */
const ABSOLUTE: readonly string[] = [
  // Pitch (voiced speech frames), semitones re 100 Hz.
  'f0_st_mean',
  'f0_st_std',
  'f0_st_p10',
  'f0_st_p50',
  'f0_st_p90',
  'f0_st_range',
  'f0_st_slope',
  'f0_st_vel',
  'voiced_ratio',
  'voicing_conf_mean',
  'jitter_mean',
  'shimmer_db_mean',
  'hnr_db_mean',
  'hnr_db_std',
  'hnr_db_p90',
  // Level (speech frames), dBFS of the telephone-band signal.
  'rms_db_mean',
  'rms_db_std',
  'rms_db_p10',
  'rms_db_p50',
  'rms_db_p90',
  'rms_db_range',
  'rms_db_slope',
  'rms_db_vel',
  'rms_db_mean_re_p90',
  'rms_db_max_re_p50',
  'loudness_mean',
  'loudness_cv',
  'loudness_p90',
  // Spectral shape.
  'centroid_hz_mean',
  'centroid_hz_std',
  'centroid_hz_p10',
  'centroid_hz_p90',
  'spread_hz_mean',
  'spread_hz_std',
  'flatness_db_mean',
  'flatness_db_std',
  'slope_mean',
  'slope_std',
  'rolloff_hz_mean',
  'rolloff_hz_std',
  'zcr_mean',
  'zcr_std',
  'flux_mean',
  'flux_std',
  'alpha_ratio_db_mean',
  'alpha_ratio_db_std',
  'hammarberg_db_mean',
  // Cepstrum.
  ...Array.from({ length: FEATURE_CONFIG.mfccCount }, (_, i) => `mfcc${i}_mean`),
  ...Array.from({ length: FEATURE_CONFIG.mfccCount }, (_, i) => `mfcc${i}_std`),
  // Tempo.
  'syl_rate',
  'artic_rate',
  'voiced_seg_rate',
  'voiced_seg_mean_s',
  'pause_ratio',
  'speech_ratio',
  // eGeMAPS-style additions (ut-features-3). Formants from order-10 LPC over
  // voiced speech frames; A1−A3 = LPC envelope at F1 minus at F3.
  'f1_hz_mean',
  'f1_hz_std',
  'f2_hz_mean',
  'f2_hz_std',
  'f3_hz_mean',
  'f1_bw_hz_mean',
  'f2_bw_hz_mean',
  'f3_bw_hz_mean',
  'a1a3_db_mean',
  // Spectral balance over voiced (_v) and unvoiced (_uv) speech frames.
  'slope_lo_v_mean',
  'slope_mid_v_mean',
  'alpha_ratio_v_mean',
  'hammarberg_v_mean',
  'flux_v_mean',
  'centroid_v_mean',
  'slope_v_mean',
  'rolloff_v_mean',
  'flatness_v_mean',
  'mfcc1_v_mean',
  'mfcc2_v_mean',
  'mfcc3_v_mean',
  'mfcc4_v_mean',
  'alpha_ratio_uv_mean',
  'hammarberg_uv_mean',
  'flux_uv_mean',
  'band_lo_db_mean',
  'band_hi_db_mean',
  'band_hi_db_std',
  // Spectral dynamics: mean |Δ| per second of c1..c12 (Euclidean) and of c1..c4.
  'mfcc_vel',
  'mfcc1_vel',
  'mfcc2_vel',
  'mfcc3_vel',
  'mfcc4_vel',
  // Loudness peaks per second of speech; mean rising / falling F0 slope (st/s).
  'loudness_peak_rate',
  'f0_rise_st_s',
  'f0_fall_st_s',
  // Voiced segment length spread and unvoiced gap length between voiced segments (s).
  'voiced_seg_std_s',
  'unvoiced_seg_mean_s',
  // ut-features-4 (issue 8: cues that separate anger from joy). F0 contour
  // shape over the window's voiced runs: mean position of the F0 peak
  // (0 = run start, 1 = end) and final movement (mean F0 of the run's last
  // 3 frames minus the run's mean, st). Anger peaks early and falls at the
  // end; joy and surprise peak later and end higher.
  'f0_peak_pos',
  'f0_final_st',
];

/** An absolute window feature the caller baseline tracks. */
export interface BaselineFeature {
  /** Name of the absolute feature; the relative one is `rel_<name>`. */
  name: string;
  /**
   * How the relative feature is formed: `diff` = value − baseline,
   * `logratio` = 12·log2(value / baseline), a semitone-like scale for
   * positive quantities.
   */
  mode: 'diff' | 'logratio';
  /**
   * Largest step (in the relative unit) one window may pull the baseline
   * once it is established, so a burst of anger is not absorbed at once.
   */
  clip: number;
  /** Defined only for windows with enough voiced frames. */
  pitch: boolean;
}

/**
 * Absolute window features the caller baseline tracks: the prosodic ones
 * (pitch level and range, loudness level and dynamics, spectral tilt, voice
 * quality, tempo) a caller's own normal is most informative for.
 */
export const BASELINE_FEATURES: readonly BaselineFeature[] = [
  { name: 'f0_st_mean', mode: 'diff', clip: 1.5, pitch: true },
  { name: 'f0_st_std', mode: 'diff', clip: 1, pitch: true },
  { name: 'f0_st_range', mode: 'diff', clip: 2, pitch: true },
  { name: 'f0_st_vel', mode: 'diff', clip: 5, pitch: true },
  { name: 'hnr_db_mean', mode: 'diff', clip: 2, pitch: true },
  { name: 'jitter_mean', mode: 'diff', clip: 0.01, pitch: true },
  { name: 'shimmer_db_mean', mode: 'diff', clip: 0.5, pitch: true },
  { name: 'rms_db_mean', mode: 'diff', clip: 3, pitch: false },
  { name: 'rms_db_p90', mode: 'diff', clip: 3, pitch: false },
  { name: 'rms_db_range', mode: 'diff', clip: 3, pitch: false },
  { name: 'rms_db_vel', mode: 'diff', clip: 10, pitch: false },
  { name: 'loudness_mean', mode: 'logratio', clip: 3, pitch: false },
  { name: 'centroid_hz_mean', mode: 'logratio', clip: 1.5, pitch: false },
  { name: 'alpha_ratio_db_mean', mode: 'diff', clip: 2, pitch: false },
  { name: 'flatness_db_mean', mode: 'diff', clip: 1.5, pitch: false },
  { name: 'slope_mean', mode: 'diff', clip: 0.1, pitch: false },
  { name: 'mfcc1_mean', mode: 'diff', clip: 1, pitch: false },
  { name: 'syl_rate', mode: 'diff', clip: 1, pitch: false },
  { name: 'artic_rate', mode: 'diff', clip: 1, pitch: false },
  { name: 'voiced_seg_mean_s', mode: 'diff', clip: 0.1, pitch: false },
  { name: 'f1_hz_mean', mode: 'logratio', clip: 1, pitch: true },
  { name: 'f2_hz_mean', mode: 'logratio', clip: 1, pitch: true },
  { name: 'a1a3_db_mean', mode: 'diff', clip: 2, pitch: true },
  { name: 'slope_mid_v_mean', mode: 'diff', clip: 2, pitch: true },
  { name: 'hammarberg_db_mean', mode: 'diff', clip: 2, pitch: false },
  { name: 'flux_mean', mode: 'diff', clip: 0.05, pitch: false },
  { name: 'band_hi_db_mean', mode: 'diff', clip: 2, pitch: false },
  { name: 'mfcc_vel', mode: 'diff', clip: 10, pitch: false },
  { name: 'loudness_peak_rate', mode: 'diff', clip: 1, pitch: false },
  { name: 'alpha_ratio_v_mean', mode: 'diff', clip: 2, pitch: true },
  { name: 'hammarberg_v_mean', mode: 'diff', clip: 2, pitch: true },
  { name: 'flux_v_mean', mode: 'diff', clip: 0.05, pitch: true },
  { name: 'f0_fall_st_s', mode: 'diff', clip: 5, pitch: true },
  { name: 'centroid_v_mean', mode: 'logratio', clip: 1.5, pitch: true },
  { name: 'slope_v_mean', mode: 'diff', clip: 0.1, pitch: true },
];

/** Relative features: the baseline features against the caller's own earlier speech. */
const RELATIVE: readonly string[] = [
  ...BASELINE_FEATURES.map((f) => `rel_${f.name}`),
  // ln(1 + seconds of speech the baseline has seen, capped at 120 s).
  'baseline_log_speech_s',
];

/** Names of the feature vector's entries, in order. The model card must list exactly these. */
export const FEATURE_NAMES: readonly string[] = Object.freeze([...ABSOLUTE, ...RELATIVE]);

/** Index of each feature name in `FEATURE_NAMES`. */
export const FEATURE_INDEX: ReadonlyMap<string, number> = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

/** Index of a feature by name; throws for an unknown name (a typo would otherwise write nowhere). */
export function featureIndex(name: string): number {
  const i = FEATURE_INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature ${name}`);
  return i;
}
