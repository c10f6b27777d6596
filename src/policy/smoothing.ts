import { EMOTION_LABELS, type EmotionLabel, type EmotionScores } from '../model/types.js';

/**
 * Audio time one window is credited with: the step since the previous
 * window, capped at `maxStepMs`. Anything beyond the cap is a gap (silence,
 * hold, the agent talking) and counts as no evidence. The first window is
 * credited 0: it seeds the smoothers rather than moving them.
 */
export function creditedStepMs(previousAudioMs: number | undefined, audioMs: number, maxStepMs: number): number {
  if (previousAudioMs === undefined) return 0;
  return Math.min(Math.max(audioMs - previousAudioMs, 0), maxStepMs);
}

/**
 * Exponential smoothing on the audio clock: `alpha = 1 - exp(-stepMs / tau)`,
 * so the result does not depend on how often windows arrive, only on how
 * much audio they cover. The first value seeds the filter: a 2-s window is
 * already an average, and seeding with it (rather than with 0) lets a caller
 * who is angry from the first second escalate without a long ramp.
 */
export class ExponentialSmoother {
  private current = 0;
  private seeded = false;

  constructor(private readonly timeConstantMs: number) {}

  get value(): number {
    return this.current;
  }

  update(x: number, stepMs: number): number {
    if (!this.seeded) {
      this.current = x;
      this.seeded = true;
    } else if (stepMs > 0) {
      const alpha = 1 - Math.exp(-stepMs / this.timeConstantMs);
      this.current += alpha * (x - this.current);
    }
    return this.current;
  }
}

/** Smooths agitation and the four class probabilities with one time constant. */
export class ScoreSmoother {
  private readonly agitationFilter: ExponentialSmoother;
  // Fixed-size, allocated once per call; indexed like EMOTION_LABELS.
  private readonly classFilters: ExponentialSmoother[];

  constructor(timeConstantMs: number) {
    this.agitationFilter = new ExponentialSmoother(timeConstantMs);
    this.classFilters = EMOTION_LABELS.map(() => new ExponentialSmoother(timeConstantMs));
  }

  get agitation(): number {
    return this.agitationFilter.value;
  }

  update(scores: EmotionScores, stepMs: number): number {
    for (let i = 0; i < EMOTION_LABELS.length; i++) {
      const label = EMOTION_LABELS[i] as EmotionLabel;
      (this.classFilters[i] as ExponentialSmoother).update(clamp01(scores[label]), stepMs);
    }
    return this.agitationFilter.update(clamp01(scores.agitation), stepMs);
  }

  /** Most probable emotion over the smoothed class probabilities; ties go to the earlier label. */
  dominantEmotion(): EmotionLabel {
    let best: EmotionLabel = EMOTION_LABELS[0];
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < EMOTION_LABELS.length; i++) {
      const value = (this.classFilters[i] as ExponentialSmoother).value;
      if (value > bestValue) {
        bestValue = value;
        best = EMOTION_LABELS[i] as EmotionLabel;
      }
    }
    return best;
  }
}

/** Clamps to 0..1; NaN becomes 0 (callers drop windows whose agitation is not finite). */
export function clamp01(x: number): number {
  if (!(x > 0)) return 0;
  return x > 1 ? 1 : x;
}
