/**
 * The policy chain's own latency on unmistakable anger (issue 8, seventh
 * round): how long the agitation tracker and the escalation policy take to
 * flag a caller whose agitation head steps from the calm prior to a clear
 * anger level, with no model error at all.
 *
 * Why it is a requirement of its own: "calm→angry flagged within 6 s" is
 * a budget shared by the model (the 2-s windows fill with anger, the head
 * rises) and the chain (smoothing, threshold, dwell). On our held-out
 * corpora the head's evidence is weak, so the call-level validation
 * rewards slow, cautious chains; a chain slow enough that even a perfect
 * head is flagged after 6 s cannot meet the target on any caller, however
 * good the model on some other corpus. Capping the step response keeps part
 * of the 6 s for the model.
 */
import { createAgitationTracker, type AgitationTrackerSpec } from '../model/agitation-tracker.js';
import type { EmotionScores } from '../model/types.js';
import { createEscalationPolicy } from '../policy/create-escalation-policy.js';
import { isAlert, type ReplaySettings } from './call-validation.js';

/** The head's output on clear anger used for the requirement. */
export const CLEAR_ANGER_LEVEL = 0.95;

/**
 * Largest step response the shipped defaults may have (`calibrate-policy.ts
 * --max-step-ms 4500`, the documented command): 4.5 s of the 6-s detection
 * window, leaving 1.5 s (three window hops) for a head that ramps up or dips
 * for a window. A test holds the shipped defaults to it.
 */
export const MAX_STEP_RESPONSE_MS = 4500;

/** Window hop of the scores the policy sees, ms (a window every 0.5 s). */
const HOP_MS = 500;
/** Window length, ms: a window counts as angry once half of it is. */
const WINDOW_MS = 2000;
/** Calm lead-in before the step, ms (long enough for every smoother to settle). */
const LEAD_MS = 30_000;
/** How long after the step to wait for a flag, ms. */
const HORIZON_MS = 60_000;

export interface StepResponseOptions {
  /** Head output on the angry windows, 0..1. Default `CLEAR_ANGER_LEVEL`. */
  level?: number;
  /** Head output on the calm windows. Default: the prior's calm level, sigmoid(calmLogit). */
  calmLevel?: number;
}

/**
 * Milliseconds from the anger onset to the first alert (a prompt or a
 * priority raise), for a head that reads `calmLevel` on every window until
 * half of a 2-s window is anger, then `level`; `Infinity` when no alert
 * comes within 60 s. Deterministic: replays the real tracker and policy.
 */
export function stepResponseMs(settings: ReplaySettings, prior: AgitationTrackerSpec, options: StepResponseOptions = {}): number {
  const level = options.level ?? CLEAR_ANGER_LEVEL;
  const calm = options.calmLevel ?? 1 / (1 + Math.exp(-prior.calmLogit));
  if (!(level >= 0 && level <= 1) || !(calm >= 0 && calm <= 1)) throw new RangeError('stepResponseMs: levels must lie in 0..1');
  const tracker = createAgitationTracker(prior, settings.tracker);
  const policy = createEscalationPolicy(settings.policy)({ callId: 'step-response', language: 'en' });
  for (let t = HOP_MS; t <= LEAD_MS + HORIZON_MS; t += HOP_MS) {
    const angryShare = Math.min(1, Math.max(0, (t - LEAD_MS) / WINDOW_MS));
    const a = angryShare >= 0.5 ? level : calm;
    const scores: EmotionScores = { neutral: 1 - a, anger: a, happiness: 0, sadness: 0, arousal: a, agitation: a, angerVsRest: a };
    for (const e of policy.observe(tracker.apply(scores), t)) {
      if (!isAlert(e)) continue;
      // A flag before the onset means the calm level alone trips the chain: no response to measure.
      return t <= LEAD_MS ? Number.NEGATIVE_INFINITY : t - LEAD_MS;
    }
  }
  return Number.POSITIVE_INFINITY;
}
