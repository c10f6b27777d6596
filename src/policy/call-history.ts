import type { PromptTried, Tier, TierTimes, TimelineBucket } from './types.js';

/** Timeline buckets kept for the handover context (at 5-s buckets: the last 5 minutes). */
const MAX_BUCKETS = 60;
/** Prompts kept for the handover context, newest kept. */
const MAX_PROMPTS = 50;

interface OpenBucket {
  index: number;
  sum: number;
  count: number;
  peak: number;
  tier: Tier;
}

/**
 * What the policy remembers of a call for hand-over contexts and reasons:
 * time at each tier on the call's audio clock FROM THE START OF THE CALL
 * (audioMs 0, not the first scored window: a caller who was silent or calm
 * for 60 s before turning angry has 60 s at tier 1), a bucketed score
 * timeline, the prompts already tried, peak and mean agitation.
 */
export class CallHistory {
  // Indexed by tier (0 unused).
  private readonly atTier = [0, 0, 0, 0, 0];
  private clockMs = 0;
  private readonly buckets: OpenBucket[] = [];
  private readonly prompts: PromptTried[] = [];
  private sum = 0;
  private count = 0;
  peakAgitation = 0;

  constructor(private readonly bucketMs: number) {}

  /** Moves the clock to `audioMs`, crediting the elapsed time to `tier` (the tier in force until now). */
  advance(audioMs: number, tier: Tier): void {
    if (audioMs > this.clockMs) {
      this.atTier[tier] = (this.atTier[tier] ?? 0) + audioMs - this.clockMs;
      this.clockMs = audioMs;
    }
  }

  /** Records one scored window's smoothed agitation, at the tier after its decision. */
  recordScore(audioMs: number, smoothed: number, tier: Tier): void {
    this.sum += smoothed;
    this.count += 1;
    if (smoothed > this.peakAgitation) this.peakAgitation = smoothed;
    const index = Math.floor(Math.max(audioMs - 1, 0) / this.bucketMs);
    let bucket = this.buckets[this.buckets.length - 1];
    if (bucket === undefined || bucket.index !== index) {
      bucket = { index, sum: 0, count: 0, peak: 0, tier };
      this.buckets.push(bucket);
      if (this.buckets.length > MAX_BUCKETS) this.buckets.shift();
    }
    bucket.sum += smoothed;
    bucket.count += 1;
    if (smoothed > bucket.peak) bucket.peak = smoothed;
    bucket.tier = tier;
  }

  /** Records the tier in force at the end of the latest bucket (after a decision on its last window). */
  setBucketTier(tier: Tier): void {
    const bucket = this.buckets[this.buckets.length - 1];
    if (bucket) bucket.tier = tier;
  }

  recordPrompt(prompt: PromptTried): void {
    this.prompts.push(Object.freeze(prompt));
    if (this.prompts.length > MAX_PROMPTS) this.prompts.shift();
  }

  get meanAgitation(): number {
    return this.count > 0 ? this.sum / this.count : 0;
  }

  get promptsTried(): readonly PromptTried[] {
    return this.prompts.slice();
  }

  /** Time at each tier from the call start until `audioMs` (≥ the clock), the current tier credited with the rest. */
  msAtTier(audioMs: number, currentTier: Tier): TierTimes {
    const extra = Math.max(audioMs - this.clockMs, 0);
    const t = (tier: Tier): number => (this.atTier[tier] ?? 0) + (tier === currentTier ? extra : 0);
    return Object.freeze({ 1: t(1), 2: t(2), 3: t(3), 4: t(4) });
  }

  timeline(): readonly TimelineBucket[] {
    return this.buckets.map((b) =>
      Object.freeze({
        startMs: b.index * this.bucketMs,
        endMs: (b.index + 1) * this.bucketMs,
        meanAgitation: round3(b.sum / b.count),
        peakAgitation: round3(b.peak),
        tier: b.tier,
      }),
    );
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
