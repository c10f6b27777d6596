import type { EmotionLabel } from '../model/types.js';

/**
 * Escalation tiers, after customer-service practice:
 * 1 routine (agent handles), 2 operational (calming prompt),
 * 3 serious (senior agent + supervisor alert),
 * 4 critical (hand over to the special team with the call's context).
 */
export type Tier = 1 | 2 | 3 | 4;
export const TIER_NAMES: Readonly<Record<Tier, string>> = {
  1: 'routine',
  2: 'operational',
  3: 'serious',
  4: 'critical',
};

interface PolicyEventBase {
  callId: string;
  /** Caller audio position the event was decided at, ms since the call started. */
  audioMs: number;
  /** Tier after this event. */
  tier: Tier;
  /** Monotonic per call, from 1: with callId it makes the event's identity (and job id). */
  seq: number;
}

/** A calming script for the agent to use now. */
export interface PromptEvent extends PolicyEventBase {
  type: 'prompt';
  emotion: EmotionLabel;
  /** Agitation score that triggered it, 0..1. */
  score: number;
  scriptId: string;
  text: string;
  /** BCP-47 tag of `text`. */
  language: string;
}

/** The call's routing priority changed. */
export interface PriorityEvent extends PolicyEventBase {
  type: 'priority';
  previousTier: Tier;
  /** Human-readable cause, e.g. `agitation 0.82 above 0.70 for 3.0 s`. */
  reason: string;
  score: number;
}

export type PolicyEvent = PromptEvent | PriorityEvent;
