import type { CallSummary, SupervisorFeedEvent } from './supervisor-messages.js';

/** `endReason` of a call whose instance stopped refreshing it (crashed, cut off). */
export const LOST_CALL_END_REASON = 'instance-lost';

/**
 * A call's summary rebuilt from its feed history (≈1 s resolution), for a
 * call whose instance died before it could send `call.ended` itself.
 */
export function summaryFromHistory(events: readonly SupervisorFeedEvent[], endReason: string): CallSummary {
  const msAtTier: CallSummary['msAtTier'] = { 1: 0, 2: 0, 3: 0, 4: 0 };
  let tier: 1 | 2 | 3 | 4 = 1;
  let lastMs = 0;
  let peak = 0;
  let sum = 0;
  let n = 0;
  let prompts = 0;
  let escalations = 0;
  for (const e of events) {
    if (e.type === 'call.scores') {
      msAtTier[tier] += Math.max(0, e.audioMs - lastMs);
      lastMs = Math.max(lastMs, e.audioMs);
      peak = Math.max(peak, e.agitation);
      sum += e.agitation;
      n += 1;
    } else if (e.type === 'tier.changed') {
      msAtTier[tier] += Math.max(0, e.audioMs - lastMs);
      lastMs = Math.max(lastMs, e.audioMs);
      if (e.to > e.from) escalations += 1;
      tier = e.to;
    } else if (e.type === 'prompt') {
      prompts += 1;
    }
  }
  return { peakAgitation: peak, meanAgitation: n > 0 ? sum / n : 0, msAtTier, prompts, escalations, endReason, audioMs: lastMs };
}
