import type { TierDecision } from './hysteresis.js';
import type { HandoverContext, Tier } from './types.js';

/** Human-readable reasons for priority events. Fixed precision keeps them deterministic and greppable. */

const level = (x: number): string => x.toFixed(2);
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** `agitation 0.82 ≥ 0.70 for 1.5 s` (up) or `agitation 0.31 < 0.40 for 8.0 s — recovered` (down to tier 1). */
export function tierChangeReason(decision: TierDecision, smoothed: number): string {
  if (decision.direction === 'up') {
    return `agitation ${level(smoothed)} ≥ ${level(decision.threshold)} for ${seconds(decision.dwellMs)} s`;
  }
  const base = `agitation ${level(smoothed)} < ${level(decision.threshold)} for ${seconds(decision.dwellMs)} s`;
  return decision.to === 1 ? `${base} — recovered` : base;
}

const ordinal = (n: number): string => {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th'}`;
};

/**
 * `handover to special team: 3rd escalation without recovery (agitation 0.74
 * ≥ 0.70 for 1.5 s); peak 0.88; time at tier 1 20.0 s, tier 2 14.0 s, tier 3 9.5 s`
 */
export function handoverReason(decision: TierDecision, smoothed: number, context: HandoverContext): string {
  const cause =
    context.trigger === 'repeated-escalations'
      ? `${ordinal(context.escalationCount)} escalation without recovery (${tierChangeReason(decision, smoothed)})`
      : `${tierChangeReason(decision, smoothed)}, ${ordinal(context.escalationCount)} escalation without recovery`;
  const times = ([1, 2, 3, 4] as Tier[])
    .filter((t) => context.msAtTier[t] > 0)
    .map((t) => `tier ${t} ${seconds(context.msAtTier[t])} s`)
    .join(', ');
  return `handover to special team: ${cause}; peak ${level(context.peakAgitation)}${times ? `; time at ${times}` : ''}`;
}
