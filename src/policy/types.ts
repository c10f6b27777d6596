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

/**
 * What the special team gets with a tier-4 handover: enough context to pick
 * the call up without making the caller start again.
 */
export interface HandoverContext {
  /** Why tier 4: the agitation level itself, or repeated escalations without recovery. */
  trigger: 'level' | 'repeated-escalations';
  /** Highest smoothed agitation seen on the call so far, 0..1. */
  peakAgitation: number;
  /** Caller audio time spent at each tier before the handover, ms (silence included). */
  msAtTier: Readonly<Record<Tier, number>>;
  /** Escalations (upward tier changes) since the call last recovered to tier 1, this one included. */
  escalationCount: number;
}

/** The call's routing priority changed. */
export interface PriorityEvent extends PolicyEventBase {
  type: 'priority';
  previousTier: Tier;
  /** Human-readable cause, e.g. `agitation 0.82 ≥ 0.70 for 1.5 s`. */
  reason: string;
  /** Smoothed agitation when the change was decided, 0..1. */
  score: number;
  /**
   * Present only on a change to tier 4: the call's context for the special
   * team. (Additive, optional field; older consumers may ignore it.)
   */
  handover?: HandoverContext;
}

export type PolicyEvent = PromptEvent | PriorityEvent;
