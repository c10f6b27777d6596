import type { PolicyOptions } from './options.js';
import type { Tier } from './types.js';

type EnterTier = Exclude<Tier, 1>;

/**
 * Per-call enter thresholds that adapt to the caller's own running level.
 *
 * Some callers score mildly agitated all call long (a loud voice, a fast
 * talker, a bad line): with fixed thresholds they would get prompt after
 * prompt. So a slow baseline (mean and variance of the smoothed agitation)
 * is kept; when it is high but STABLE, enter thresholds rise a little. Three
 * things keep this safe:
 * - no lift until {@link PolicyOptions.baselineWarmupMs} of speech has been
 *   heard, so a caller angry from the first second escalates on the fixed
 *   thresholds;
 * - a volatile baseline (std ≥ 2 × stableStd) gives no lift: swings are
 *   exactly what escalation should react to;
 * - the lift never exceeds {@link PolicyOptions.maxLift} (the fixed ceiling),
 *   so a genuinely agitated caller always escalates.
 * Exit thresholds do not move: recovering means getting truly calm.
 */
export class DynamicThresholds {
  private mean = 0;
  private variance = 0;
  private evidenceMs = 0;
  private seeded = false;
  private currentLift = 0;

  constructor(private readonly options: PolicyOptions) {}

  /** Current lift added to every enter threshold, 0..maxLift. */
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

  /** Effective enter threshold of `tier`: configured value + lift, at most 1. */
  enter(tier: EnterTier): number {
    return Math.min(this.options.enterThresholds[tier] + this.currentLift, 1);
  }

  private computeLift(): number {
    const o = this.options;
    if (this.evidenceMs < o.baselineWarmupMs) return 0;
    const raw = Math.min(o.maxLift, o.liftGain * Math.max(0, this.mean - o.liftStartLevel));
    if (raw <= 0) return 0;
    const std = Math.sqrt(this.variance);
    let stability: number;
    if (o.stableStd <= 0) stability = std === 0 ? 1 : 0;
    else stability = Math.min(1, Math.max(0, (2 * o.stableStd - std) / o.stableStd));
    return raw * stability;
  }
}
