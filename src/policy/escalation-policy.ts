import type { EmotionScores } from '../model/types.js';
import type { PolicyEvent, Tier } from './types.js';

/**
 * Per-call policy state machine: scored windows in, policy events out.
 * One instance per call. Timing is audio time (`audioMs`), never wall-clock,
 * so a call replayed at any speed yields the same events.
 */
export interface EscalationPolicy {
  /** Feeds one scored window, ending at `audioMs` of caller audio; returns the events it caused. */
  observe(scores: EmotionScores, audioMs: number): PolicyEvent[];
  /** Current tier. */
  readonly tier: Tier;
  /** Smoothed agitation the policy is acting on, 0..1. */
  readonly smoothedAgitation: number;
}

/** Everything a policy needs to know about its call at creation. */
export interface PolicyCallInfo {
  callId: string;
  /** BCP-47 tag of the wanted script language; unknown languages fall back to English. */
  language: string | undefined;
}

export type EscalationPolicyFactory = (call: PolicyCallInfo) => EscalationPolicy;
