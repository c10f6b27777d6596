import type { Tier } from './types.js';

/**
 * Remembers when each tier last got a prompt, on the audio clock, so the
 * same tier's prompt is sent at most once per cooldown however the call
 * moves between tiers.
 */
export class PromptCooldown {
  // Indexed by tier (0 and 1 unused); allocated once per call.
  private readonly lastPromptMs = [
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ];

  constructor(private readonly cooldownMs: number) {}

  ready(tier: Tier, audioMs: number): boolean {
    return audioMs - (this.lastPromptMs[tier] as number) >= this.cooldownMs;
  }

  mark(tier: Tier, audioMs: number): void {
    this.lastPromptMs[tier] = audioMs;
  }
}
