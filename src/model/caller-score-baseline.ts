/**
 * The caller score baseline: judges a caller's emotion against their own
 * norm in this call, at the model's output.
 *
 * A caller whose every window leans "angry" or "sad" to the model (a loud or
 * flat voice, a handset, a language it reads differently) is mostly that
 * caller, not that emotion. So each window's four-way log-probabilities and
 * anger logit are shifted back by how far the caller's *earlier* windows sat
 * from a reference (the training windows' mean), with the shift shrunk while
 * few windows have been seen:
 *
 *     shift_n = strength · n / (n + priorWindows) · (mean of windows 1..n − reference)
 *     relative = raw − shift_n, then softmax (emotions) / sigmoid (anger)
 *
 * The first windows of a call are judged as they are.
 *
 * The reported anger (`angerVsRest`) then takes `angerFromAgitation` of its
 * log-odds from the model's agitation head as it comes. Why (issue 8, fifth
 * round): re-centring on the caller's mean assumes a caller's windows are a
 * mix of emotions. A caller angry, or calm, for the whole call becomes their
 * own norm, and anger falls to chance: leave-one-corpus-out on calls that
 * hold one emotion each (`npm run eval -- --per-label`), anger UAR 0.573
 * against 0.704 on the mixed calls. The agitation head is not re-centred and
 * learnt from calls of both kinds (mixed 0.680, one emotion 0.702); the even
 * blend keeps what the baseline gives mixed calls (0.707, one emotion 0.679;
 * models/training/README.md, "Issue 8, fifth round").
 *
 * Agitation, the policy's input, stays absolute: a caller angry from the
 * first second and angry throughout must still be caught, and a relative
 * score would adapt to that anger. Arousal takes `arousalFromEmotion` of its
 * value from what the relative emotion mix implies (neutral ½, anger and
 * happiness 1, sadness 0):
 * re-centring the arousal head itself gained nothing held out, this mix did.
 * Causal and per call: one instance per call, windows in order.
 *
 * models/training/caller_scores.py is the same computation; train.py
 * validates with it and writes its settings into the model card.
 */
import { createAgitationTracker } from './agitation-tracker.js';
import type { EmotionModel, EmotionScores } from './types.js';

/** The model card's `callerScoreBaseline` section. */
export interface CallerScoreBaselineSpec {
  /** Windows over which the shift grows from none to full (20 = 10 s of scored speech). */
  priorWindows: number;
  /** 0 = off, 1 = full re-centring on the caller's mean. */
  strength: number;
  /**
   * Share (0..1) of the reported anger's log-odds taken from the model's
   * agitation head as it comes (absolute, not re-centred); the rest from
   * the re-centred anger head. Default 0.
   */
  angerFromAgitation?: number;
  /** Share (0..1) of the arousal value taken from the relative emotion mix. Default 0. */
  arousalFromEmotion?: number;
  reference: {
    /** Mean log-probabilities of neutral, anger, happiness, sadness over the training windows. */
    emotionLogProbs: number[];
    /** Mean logit of the binary anger head over the training windows. */
    angerLogit: number;
  };
}

/** Per-call state: feed every scored window of one call, in order. */
export interface CallerScoreBaseline {
  /** Returns the caller-relative scores of this window, then learns from it. */
  apply(scores: EmotionScores): EmotionScores;
}

const EPS = 1e-6;
/** Arousal each emotion implies (neutral, anger, happiness, sadness), as the corpora's labels map them. */
const EMOTION_AROUSAL = [0.5, 1, 1, 0] as const;

function log(p: number): number {
  return Math.log(Math.min(1, Math.max(EPS, p)));
}

function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q) - Math.log1p(-q);
}

/** No card section (older models, fakes): scores pass unchanged. */
const IDENTITY: CallerScoreBaseline = { apply: (s) => s };

class Baseline implements CallerScoreBaseline {
  private windows = 0;
  private readonly sumEmotion = [0, 0, 0, 0];
  private sumAnger = 0;
  private angerWindows = 0;

  constructor(private readonly spec: CallerScoreBaselineSpec) {}

  apply(scores: EmotionScores): EmotionScores {
    const { priorWindows, strength, reference } = this.spec;
    const raw = [log(scores.neutral), log(scores.anger), log(scores.happiness), log(scores.sadness)];
    // A non-finite score would poison the running means for the rest of the call.
    if (!raw.every(Number.isFinite)) return scores;
    const n = this.windows;
    const w = n > 0 ? (strength * n) / (n + priorWindows) : 0;
    const rel = raw.map((v, k) => v - w * (this.sumEmotion[k]! / Math.max(n, 1) - reference.emotionLogProbs[k]!));
    const top = Math.max(...rel);
    const exp = rel.map((v) => Math.exp(v - top));
    const total = exp.reduce((a, b) => a + b, 0);
    const out: EmotionScores = {
      ...scores,
      neutral: exp[0]! / total,
      anger: exp[1]! / total,
      happiness: exp[2]! / total,
      sadness: exp[3]! / total,
    };
    const mix = this.spec.arousalFromEmotion ?? 0;
    if (mix > 0) {
      const implied = exp.reduce((sum, e, k) => sum + (e / total) * EMOTION_AROUSAL[k]!, 0);
      out.arousal = (1 - mix) * scores.arousal + mix * implied;
    }
    raw.forEach((v, k) => (this.sumEmotion[k]! += v));
    this.windows++;

    if (scores.angerVsRest !== undefined && Number.isFinite(scores.angerVsRest)) {
      const a = logit(scores.angerVsRest);
      const m = this.angerWindows;
      const wa = m > 0 ? (strength * m) / (m + priorWindows) : 0;
      const shifted = a - wa * (this.sumAnger / Math.max(m, 1) - reference.angerLogit);
      const g = this.spec.angerFromAgitation ?? 0;
      const blended = g > 0 && Number.isFinite(scores.agitation) ? (1 - g) * shifted + g * logit(scores.agitation) : shifted;
      out.angerVsRest = 1 / (1 + Math.exp(-blended));
      this.sumAnger += a;
      this.angerWindows++;
    }
    return out;
  }
}

/** One call's baseline; without a spec (or at strength 0 with no anger blend) scores pass unchanged. */
export function createCallerScoreBaseline(spec: CallerScoreBaselineSpec | undefined): CallerScoreBaseline {
  return spec === undefined || (spec.strength <= 0 && !((spec.angerFromAgitation ?? 0) > 0)) ? IDENTITY : new Baseline(spec);
}

/**
 * Scores one whole call's feature windows (in call order) with a shared
 * model, as the live path scores them: caller-relative, then (unless
 * `trackAgitation` is false) with the per-call agitation tracker. Offline
 * tools that replay the tracker with other options pass false and get the
 * model's absolute agitation.
 */
export async function scoreCallWindows(
  model: Pick<EmotionModel, 'score' | 'callerScoreBaseline' | 'agitationTracker'>,
  vectors: readonly Float32Array[],
  batchSize = 512,
  trackAgitation = true,
): Promise<EmotionScores[]> {
  const baseline = createCallerScoreBaseline(model.callerScoreBaseline);
  const tracker = createAgitationTracker(trackAgitation ? model.agitationTracker : undefined);
  const out: EmotionScores[] = [];
  for (let s = 0; s < vectors.length; s += batchSize) {
    for (const scores of await model.score(vectors.slice(s, s + batchSize))) out.push(tracker.apply(baseline.apply(scores)));
  }
  return out;
}
