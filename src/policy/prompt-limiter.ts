import { PromptCooldown } from './cooldown.js';
import type { Tier } from './types.js';

const MINUTE_MS = 60_000;

/**
 * Both limits on prompts, on the audio clock: at most one per tier per
 * `cooldownMs`, and at most `maxPerMinute` in any 60 s of audio whatever
 * the tier — so a call moving up and down the ladder cannot storm the agent.
 * The tier-4 prompt (how to hand the caller over) is exempt from the
 * per-minute cap: it comes once, with the handover, and must not be lost.
 */
export class PromptLimiter {
  private readonly cooldown: PromptCooldown;
  private readonly recentMs: number[] = [];

  constructor(
    cooldownMs: number,
    private readonly maxPerMinute: number,
  ) {
    this.cooldown = new PromptCooldown(cooldownMs);
  }

  ready(tier: Tier, audioMs: number): boolean {
    while (this.recentMs.length > 0 && audioMs - (this.recentMs[0] as number) >= MINUTE_MS) this.recentMs.shift();
    return this.cooldown.ready(tier, audioMs) && (tier === 4 || this.recentMs.length < this.maxPerMinute);
  }

  mark(tier: Tier, audioMs: number): void {
    this.cooldown.mark(tier, audioMs);
    this.recentMs.push(audioMs);
  }
}
