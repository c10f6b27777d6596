/**
 * The caller's own normal, learnt from their earlier speech in the same
 * call, and the relative features measured against it.
 *
 * Each tracked window feature (see BASELINE_FEATURES) has a running
 * estimate updated once per emitted window, weighted by the seconds of
 * speech the window adds. Until `timeConstantS` of speech has been seen it
 * is the plain mean of everything so far; after that an exponential average
 * with that time constant. Once `robustAfterS` of speech has been seen, one
 * window may move an estimate by at most its `clip` (a Huber-style bounded
 * update), so a minute of shouting shifts the baseline only slowly and the
 * relative features stay high while it lasts.
 *
 * Relative features of a window are computed against the baseline *before*
 * that window updates it; before any speech they are 0. The model also gets
 * `baseline_log_speech_s`, so it can learn to trust relative cues only once
 * the baseline has seen enough speech and rely on absolute cues before.
 */
import { BASELINE_FEATURES, featureIndex } from './feature-names.js';

/** Options of the caller baseline. */
export interface CallerBaselineOptions {
  /** Seconds of speech the running average spans once established. Default 45. */
  timeConstantS?: number;
  /** Seconds of speech after which updates are bounded by each feature's `clip`. Default 6. */
  robustAfterS?: number;
  /** Cap on the speech seconds reported in `baseline_log_speech_s`. Default 120. */
  maxReportedSpeechS?: number;
}

const SOURCE = BASELINE_FEATURES.map((f) => featureIndex(f.name));
const TARGET = BASELINE_FEATURES.map((f) => featureIndex(`rel_${f.name}`));
const SPEECH_INDEX = featureIndex('baseline_log_speech_s');
const LOG_RATIO = BASELINE_FEATURES.map((f) => f.mode === 'logratio');
const CLIP = BASELINE_FEATURES.map((f) => f.clip);
const PITCH = BASELINE_FEATURES.map((f) => f.pitch);

export class CallerBaseline {
  private readonly timeConstantS: number;
  private readonly robustAfterS: number;
  private readonly maxReportedSpeechS: number;
  /** Estimate per tracked feature, in the relative unit's domain (log for `logratio`). */
  private readonly estimate = new Float64Array(BASELINE_FEATURES.length);
  /** Speech seconds that have updated each estimate. */
  private readonly seenS = new Float64Array(BASELINE_FEATURES.length);
  private totalSpeechS = 0;

  constructor(options: CallerBaselineOptions = {}) {
    this.timeConstantS = options.timeConstantS ?? 45;
    this.robustAfterS = options.robustAfterS ?? 6;
    this.maxReportedSpeechS = options.maxReportedSpeechS ?? 120;
  }

  /** Seconds of speech the baseline has learnt from. */
  get speechS(): number {
    return this.totalSpeechS;
  }

  private transform(i: number, v: number): number {
    return LOG_RATIO[i] ? 12 * Math.log2(Math.max(v, 1e-9)) : v;
  }

  /**
   * Writes the relative features for the window whose absolute features are
   * in `values`, then learns from that window. `newSpeechS` is the speech
   * the window adds that no earlier update has counted; `pitchValid` says
   * whether its pitch features are defined.
   */
  apply(values: Float32Array, newSpeechS: number, pitchValid: boolean): void {
    values[SPEECH_INDEX] = Math.log1p(Math.min(this.totalSpeechS, this.maxReportedSpeechS));
    for (let i = 0; i < SOURCE.length; i++) {
      const usable = pitchValid || !PITCH[i];
      const v = this.transform(i, values[SOURCE[i]!]!);
      values[TARGET[i]!] = usable && this.seenS[i]! > 0 ? v - this.estimate[i]! : 0;
      if (!usable || newSpeechS <= 0) continue;
      const seen = this.seenS[i]! + newSpeechS;
      const alpha = newSpeechS / Math.max(seen, this.timeConstantS);
      let step = v - this.estimate[i]!;
      if (this.seenS[i]! >= this.robustAfterS) step = Math.max(-CLIP[i]!, Math.min(CLIP[i]!, step));
      this.estimate[i] = this.seenS[i]! > 0 ? this.estimate[i]! + alpha * step : v;
      this.seenS[i] = seen;
    }
    if (newSpeechS > 0) this.totalSpeechS += newSpeechS;
  }
}
