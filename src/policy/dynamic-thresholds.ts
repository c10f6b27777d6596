import type { PolicyOptions } from './options.js';
import type { Tier } from './types.js';

type EnterTier = Exclude<Tier, 1>;

/** Smallest gap kept between a lowered enter threshold and the exit threshold. */
const MIN_BAND = 0.05;

/**
 * Per-call enter thresholds that adapt to the caller's own running level.
 *
 * The model's agitation for calm speech differs a lot between callers (a
 * loud voice, a fast talker, a bad line, a language it was not trained on:
 * measured calm levels range from 0.2 to 0.55 with the same model). So a
 * slow baseline (mean and variance of the smoothed agitation) is kept and the
 * enter thresholds follow it: `lift = liftGain × (baseline − liftStartLevel)`,
 * clamped to −maxDrop..maxLift. A caller whose calm level is high and STABLE
 * gets higher thresholds (no prompt after prompt); a caller whose calm level
 * is low gets lower ones, so their anger is flagged sooner. Three things keep
 * this safe:
 * - no lift until {@link PolicyOptions.baselineWarmupMs} of speech has been
 *   heard, so a caller angry from the first second escalates on the fixed
 *   thresholds;
 * - a volatile baseline (std ≥ 2 × stableStd) gives no lift: swings are
 *   exactly what escalation should react to;
 * - the lift never exceeds {@link PolicyOptions.maxLift} (the fixed ceiling),
 *   so a genuinely agitated caller always escalates; the drop never exceeds
 *   {@link PolicyOptions.maxDrop} and keeps enter above exit.
 * Exit thresholds do not move: recovering means getting truly calm.
 *
 * Off by default (maxLift = maxDrop = 0): on the calibration calls no lift or
 * drop setting beat fixed thresholds with the current model
 * (docs/policy-calibration.md); rerun scripts/calibrate-policy.ts after
 * retraining.
 */
export class DynamicThresholds {
  private mean = 0;
  private variance = 0;
  private evidenceMs = 0;
  private seeded = false;
  private currentLift = 0;

  constructor(private readonly options: PolicyOptions) {}

  /** Current lift added to every enter threshold, −maxDrop..maxLift. */
  get lift(): number {
    return this.currentLift;
  }

  /** Running baseline of the smoothed agitation, for logs and tests. */
  get baseline(): number {
    return this.mean;
  }

  /** Feeds the smoothed agitation of one window credited with `stepMs` of audio. */
  update(smoothedAgitation: number, stepMs: number): void {
    const o = this.options;
    if (!this.seeded) {
      this.mean = smoothedAgitation;
      this.seeded = true;
    } else if (stepMs > 0) {
      const alpha = 1 - Math.exp(-stepMs / o.baselineTimeConstantMs);
      const diff = smoothedAgitation - this.mean;
      this.mean += alpha * diff;
      // Exponentially weighted variance (West's incremental form).
      this.variance = (1 - alpha) * (this.variance + alpha * diff * diff);
    }
    this.evidenceMs += stepMs;
    this.currentLift = this.computeLift();
  }

  /**
   * Effective enter threshold of `tier`: configured value + lift, at most 1
   * and never at or below the tier's exit threshold (the hysteresis band
   * stays open however low a calm caller's baseline is).
   */
  enter(tier: EnterTier): number {
    const o = this.options;
    const floor = o.exitThresholds[tier] + MIN_BAND;
    return Math.min(Math.max(o.enterThresholds[tier] + this.currentLift, floor), 1);
  }

  private computeLift(): number {
    const o = this.options;
    if (this.evidenceMs < o.baselineWarmupMs) return 0;
    const raw = Math.max(-o.maxDrop, Math.min(o.maxLift, o.liftGain * (this.mean - o.liftStartLevel)));
    if (raw === 0) return 0;
    const std = Math.sqrt(this.variance);
    let stability: number;
    if (o.stableStd <= 0) stability = std === 0 ? 1 : 0;
    else stability = Math.min(1, Math.max(0, (2 * o.stableStd - std) / o.stableStd));
    return raw * stability;
  }
}
