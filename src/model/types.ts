import type { AgitationTrackerSpec } from './agitation-tracker.js';
import type { CallerScoreBaselineSpec } from './caller-score-baseline.js';

/** What the emotion model says about one window of caller speech. */
export interface EmotionScores {
  /** Class probabilities of the four-way head; they sum to 1. */
  neutral: number;
  anger: number;
  happiness: number;
  sadness: number;
  /** Arousal estimate, 0 (low) .. 1 (high). */
  arousal: number;
  /**
   * The policy's single input: how agitated the caller sounds, 0..1. Derived
   * from the anger probability and arousal as the model card specifies.
   */
  agitation: number;
  /**
   * The binary anger head: P(anger vs any other emotion, incl. fear and
   * surprise), 0..1. Set by the ONNX model; offline evaluation's `anger` task
   * reads it. Optional so other producers (tests, fakes) may omit it.
   */
  angerVsRest?: number;
  /**
   * The model's own per-window agitation (the agitation head), kept
   * when the per-call AgitationTracker has replaced `agitation` with the
   * tracked signal. Absent when no tracker ran.
   */
  absoluteAgitation?: number;
}

export const EMOTION_LABELS = ['neutral', 'anger', 'happiness', 'sadness'] as const;
export type EmotionLabel = (typeof EMOTION_LABELS)[number];

/** A scored window on the call's audio clock. */
export interface ScoredWindow {
  /** Window start and end, in ms of caller audio since the call started. */
  startMs: number;
  endMs: number;
  scores: EmotionScores;
}

/**
 * The shared emotion model: one ONNX session for the whole process, loaded
 * once at start-up. Stateless per call; per-call state lives in the
 * CallerFeatureStream and the CallerScoreBaseline built from
 * `callerScoreBaseline`.
 */
export interface EmotionModel {
  /** Feature names in input order, from the model card; must equal the extractor's. */
  readonly featureNames: readonly string[];
  /** Model version from the card, for logs and `/readyz`. */
  readonly version: string;
  /**
   * How each call re-centres these scores on the caller's own norm (see
   * caller-score-baseline.ts); undefined = scores are used as they come.
   */
  readonly callerScoreBaseline?: CallerScoreBaselineSpec;
  /**
   * The prior (and any overrides) of the per-call agitation tracker (see
   * agitation-tracker.ts); undefined = `agitation` reaches the policy as the model gives it.
   */
  readonly agitationTracker?: AgitationTrackerSpec;
  /** Scores a batch of feature vectors (each of `featureNames.length` values). */
  score(batch: readonly Float32Array[]): Promise<EmotionScores[]>;
  close(): Promise<void>;
}
