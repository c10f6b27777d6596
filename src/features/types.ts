/**
 * Contract between the streaming feature extractor and its users (the model
 * stage at serving time, `train-features` and `eval` offline). One code path
 * for all three, so training sees exactly what a live call produces.
 */

/** Sample rate of everything inside the pipeline; other rates are resampled at decode. */
export const PIPELINE_SAMPLE_RATE = 8000;

/** One window of speech statistics, ready for the model. */
export interface FeatureWindow {
  /** First sample of the window, counted on the caller track from the start of the call. */
  startSample: number;
  /** One past the last sample of the window. */
  endSample: number;
  /** Feature values in the order of `FEATURE_NAMES` (and of the model card). */
  values: Float32Array;
  /** Share of the window's frames that voice-activity detection judged speech, 0..1. */
  speechRatio: number;
}

/**
 * Per-call feature state: frame buffer, pitch tracker, tempo, window
 * statistics and the caller baseline. Create one per call; never share.
 */
export interface CallerFeatureStream {
  /**
   * Pushes decoded caller audio (8 kHz, float samples in [-1, 1]) and returns
   * the windows this push completed, oldest first. Windows with too little
   * speech are not returned (silence is not scored).
   */
  push(samples: Float32Array): FeatureWindow[];
  /** Samples pushed so far (the audio clock of the call). */
  readonly samplesSeen: number;
}
