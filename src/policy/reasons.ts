import type { TierDecision } from './hysteresis.js';
import type { HandoverContext, Situation, Tier } from './types.js';

/**
 * Plain-words reasons for policy events, for agents and supervisors. Fixed
 * precision keeps them deterministic and greppable:
 * `agitation 0.82 above 0.75 for 1.5 s`.
 */

export const level = (x: number): string => x.toFixed(2);
export const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** `agitation 0.82 above 0.75 for 1.5 s` (up) or `agitation 0.31 below 0.60 for 8.0 s` (down). */
export function tierChangeReason(decision: TierDecision, smoothed: number): string {
  const word = decision.direction === 'up' ? 'above' : 'below';
  return `agitation ${level(smoothed)} ${word} ${level(decision.threshold)} for ${seconds(decision.dwellMs)} s`;
}

/** Suffix naming the customer value tier when it changed the thresholds. */
export function customerNote(customerTier: string | null, offset: number): string {
  return customerTier !== null && offset > 0 ? ` (${customerTier}: thresholds ${level(offset)} lower)` : '';
}

export function escalationReason(decision: TierDecision, smoothed: number, note: string): string {
  const action =
    decision.to === 3
      ? 'priority raised, supervisor alerted, senior-agent assist suggested'
      : 'priority raised, calming prompt to the agent';
  return `tier ${decision.from} → ${decision.to}: ${tierChangeReason(decision, smoothed)}${note}; ${action}`;
}

export function recoveryReason(decision: TierDecision, smoothed: number, recoveryMs: number): string {
  const what = decision.to === 1 ? 'recovered to routine' : `stepped down to tier ${decision.to}`;
  return `tier ${decision.from} → ${decision.to}: ${tierChangeReason(decision, smoothed)}; ${what} ${seconds(recoveryMs)} s after reaching tier ${decision.from}`;
}

export function customerValueReason(customerTier: string, priority: number, offset: number): string {
  const lower = offset > 0 ? `; thresholds ${level(offset)} lower` : '';
  return `customer tier ${customerTier}: routing priority ${priority} from the start of the call${lower}`;
}

const ordinal = (n: number): string => {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th'}`;
};

/** `time at tier 1 60.0 s, tier 2 14.0 s` (tiers with no time left out). */
export function tierTimesText(msAtTier: Readonly<Record<Tier, number>>): string {
  const parts = ([1, 2, 3, 4] as Tier[]).filter((t) => msAtTier[t] > 0).map((t) => `tier ${t} ${seconds(msAtTier[t])} s`);
  return parts.length > 0 ? `time at ${parts.join(', ')}` : 'no time at any tier yet';
}

/**
 * `handover to special-care: 3rd escalation without recovery (agitation 0.74
 * above 0.70 for 1.5 s); peak 0.88; 2 prompts tried; time at tier 1 60.0 s, …`
 */
export function handoverReason(
  queue: string,
  context: HandoverContext,
  decision: TierDecision | undefined,
  smoothed: number,
  note: string,
): string {
  let cause: string;
  const level_ = decision ? tierChangeReason(decision, smoothed) + note : `agitation ${level(smoothed)}`;
  switch (context.trigger) {
    case 'repeated-escalations':
      cause = `${ordinal(context.escalationCount)} escalation without recovery (${level_})`;
      break;
    case 'level':
      cause = `critical level: ${level_}`;
      break;
    case 'bot-agitation':
      cause = `caller agitated while with the voicebot: ${level_}`;
      break;
    case 'bot-unresolved-turns':
      cause = `${context.unresolvedBotTurns} unresolved voicebot turns`;
      break;
  }
  const prompts = context.promptsTried.length;
  return `handover to ${queue}: ${cause}; peak ${level(context.peakAgitation)}; ${prompts} prompt${prompts === 1 ? '' : 's'} tried; ${tierTimesText(context.msAtTier)}`;
}

export function promptReason(tier: Tier, situation: Situation, smoothed: number, threshold: number, reminder: boolean): string {
  const what = reminder ? `still at tier ${tier}, next calming script` : `tier ${tier} calming script`;
  return `${what} for ${situation}: agitation ${level(smoothed)} above ${level(threshold)}`;
}
