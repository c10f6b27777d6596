/**
 * Ring buffer of per-frame values: the last `capacity` frames of one call,
 * each field a preallocated typed array indexed by `frameIndex & mask`.
 */
import { FEATURE_CONFIG } from './feature-names.js';

/** Frames kept: a power of two above one window's 99 frames. */
export const HISTORY_FRAMES = 128;

export class FrameHistory {
  readonly capacity = HISTORY_FRAMES;
  readonly mask = HISTORY_FRAMES - 1;
  readonly energyDb = new Float64Array(HISTORY_FRAMES);
  /** RMS of the frame, linear (for shimmer). */
  readonly rms = new Float64Array(HISTORY_FRAMES);
  readonly speech = new Uint8Array(HISTORY_FRAMES);
  readonly voiced = new Uint8Array(HISTORY_FRAMES);
  /** F0 in semitones re 100 Hz; meaningful only where `voiced`. */
  readonly f0St = new Float64Array(HISTORY_FRAMES);
  readonly periodSamples = new Float64Array(HISTORY_FRAMES);
  readonly confidence = new Float64Array(HISTORY_FRAMES);
  readonly hnrDb = new Float64Array(HISTORY_FRAMES);
  /** Period perturbation against the previous frame, NaN unless both frames are voiced speech. */
  readonly jitter = new Float64Array(HISTORY_FRAMES);
  /** |Δ level| (dB) against the previous frame, NaN unless both frames are voiced speech. */
  readonly shimmerDb = new Float64Array(HISTORY_FRAMES);
  readonly loudness = new Float64Array(HISTORY_FRAMES);
  readonly centroidHz = new Float64Array(HISTORY_FRAMES);
  readonly spreadHz = new Float64Array(HISTORY_FRAMES);
  readonly flatnessDb = new Float64Array(HISTORY_FRAMES);
  readonly slope = new Float64Array(HISTORY_FRAMES);
  readonly rolloffHz = new Float64Array(HISTORY_FRAMES);
  readonly zcr = new Float64Array(HISTORY_FRAMES);
  readonly flux = new Float64Array(HISTORY_FRAMES);
  readonly alphaRatioDb = new Float64Array(HISTORY_FRAMES);
  readonly hammarbergDb = new Float64Array(HISTORY_FRAMES);
  /** dB-spectrum slopes 312–500 Hz and 500–1500 Hz (dB/kHz). */
  readonly slopeLoDbKhz = new Float64Array(HISTORY_FRAMES);
  readonly slopeMidDbKhz = new Float64Array(HISTORY_FRAMES);
  /** Band-energy shares (dB): 0.3–0.8 kHz and 2–3.4 kHz of the band. */
  readonly bandLoDb = new Float64Array(HISTORY_FRAMES);
  readonly bandHiDb = new Float64Array(HISTORY_FRAMES);
  /** LPC formants and bandwidths (Hz), A1−A3 (dB); NaN unless voiced and found. */
  readonly f1Hz = new Float64Array(HISTORY_FRAMES);
  readonly f2Hz = new Float64Array(HISTORY_FRAMES);
  readonly f3Hz = new Float64Array(HISTORY_FRAMES);
  readonly f1BwHz = new Float64Array(HISTORY_FRAMES);
  readonly f2BwHz = new Float64Array(HISTORY_FRAMES);
  readonly f3BwHz = new Float64Array(HISTORY_FRAMES);
  readonly a1a3Db = new Float64Array(HISTORY_FRAMES);
  /** MFCCs, `mfccCount` per frame slot. */
  readonly mfcc = new Float64Array(HISTORY_FRAMES * FEATURE_CONFIG.mfccCount);
}
