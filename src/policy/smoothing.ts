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

/** Smooths agitation, the four class probabilities and the binary anger head with one time constant. */
export class ScoreSmoother {
  private readonly agitationFilter: ExponentialSmoother;
  // Fixed-size, allocated once per call; indexed like EMOTION_LABELS.
  private readonly classFilters: ExponentialSmoother[];
  private readonly angerVsRestFilter: ExponentialSmoother;
  /** Whether the scores carry the binary anger head (the ONNX model's do; fakes may not). */
  private hasAngerVsRest = false;

  constructor(timeConstantMs: number) {
    this.agitationFilter = new ExponentialSmoother(timeConstantMs);
    this.classFilters = EMOTION_LABELS.map(() => new ExponentialSmoother(timeConstantMs));
    this.angerVsRestFilter = new ExponentialSmoother(timeConstantMs);
  }

  get agitation(): number {
    return this.agitationFilter.value;
  }

  update(scores: EmotionScores, stepMs: number): number {
    for (let i = 0; i < EMOTION_LABELS.length; i++) {
      const label = EMOTION_LABELS[i] as EmotionLabel;
      (this.classFilters[i] as ExponentialSmoother).update(clamp01(scores[label]), stepMs);
    }
    if (scores.angerVsRest !== undefined && Number.isFinite(scores.angerVsRest)) {
      this.hasAngerVsRest = true;
      this.angerVsRestFilter.update(clamp01(scores.angerVsRest), stepMs);
    }
    return this.agitationFilter.update(clamp01(scores.agitation), stepMs);
  }

  /**
   * The emotion a prompt names: the most probable of the four, ties to the
   * earlier label. Where the binary anger head is present, anger's
   * probability is that head's (the one agitation is built on) and the other
   * three share the rest as the four-way head splits it. The two heads
   * disagree on anger often (held out, the four-way head calls 37 % of nemo's
   * angry clips happy), and a prompt raised because the anger head fired
   * should not tell the agent the caller "sounds most like happiness".
   */
  dominantEmotion(): EmotionLabel {
    const probs = this.classFilters.map((f) => f.value);
    if (this.hasAngerVsRest) {
      const anger = EMOTION_LABELS.indexOf('anger');
      const others = probs.reduce((sum, p, i) => (i === anger ? sum : sum + p), 0);
      const a = this.angerVsRestFilter.value;
      for (let i = 0; i < probs.length; i++) {
        if (i === anger) probs[i] = a;
        else probs[i] = others > 0 ? (probs[i]! / others) * (1 - a) : (1 - a) / (probs.length - 1);
      }
    }
    let best: EmotionLabel = EMOTION_LABELS[0];
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < EMOTION_LABELS.length; i++) {
      const value = probs[i]!;
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
