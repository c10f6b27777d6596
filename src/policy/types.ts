import type { EmotionLabel } from '../model/types.js';

/**
 * Escalation tiers, after customer-service practice:
 * 1 routine (agent handles), 2 operational (calming prompt),
 * 3 serious (priority raised, supervisor alert, senior-agent assist),
 * 4 critical (hand over to the special team with the call's context).
 */
export type Tier = 1 | 2 | 3 | 4;
export const TIER_NAMES: Readonly<Record<Tier, string>> = {
  1: 'routine',
  2: 'operational',
  3: 'serious',
  4: 'critical',
};

/**
 * The caller situations the playbooks are written for. The model hears four
 * emotions; the policy maps them (with the agitation level and arousal) to
 * one of these, see `src/policy/situation.ts`.
 */
export const SITUATIONS = ['anger', 'frustration', 'anxiety', 'sadness'] as const;
/** anger; frustration/impatience; anxiety/fear; sadness/distress. */
export type Situation = (typeof SITUATIONS)[number];

/** The four event types a policy emits; equal to the `call-routing` job names. */
export type PolicyEventType = 'prompt' | 'priority' | 'recovered' | 'handover';

/** Audio time at each tier, ms, counted from the START of the call (audioMs 0), silence included. */
export type TierTimes = Readonly<Record<Tier, number>>;

interface PolicyEventBase {
  type: PolicyEventType;
  callId: string;
  /** Caller audio position the event was decided at, ms since the call started. */
  audioMs: number;
  /** Tier after this event. */
  tier: Tier;
  /** Monotonic per call, from 1: with callId it makes the event's identity (and job id). */
  seq: number;
  /**
   * Why, in plain words and numbers, for agents and supervisors, e.g.
   * `agitation 0.82 above 0.70 for 6.0 s`. Deterministic (fixed precision).
   */
  reason: string;
  /** Smoothed agitation when the event was decided, 0..1. */
  score: number;
}

/** A calming script for the agent to use now. */
export interface PromptEvent extends PolicyEventBase {
  type: 'prompt';
  /** Dominant caller emotion of the model's four. */
  emotion: EmotionLabel;
  /** The playbook situation the script was chosen for. */
  situation: Situation;
  /** Playbook script id, e.g. `en-US.anger.t2.1`. */
  scriptId: string;
  /** The line for the agent, placeholders filled from call metadata. */
  text: string;
  /** BCP-47 tag of `text` (the playbook language actually used, after fallback). */
  language: string;
}

/** Fields shared by every event that changes (or sets) the call's tier or routing priority. */
interface TierChangeFields {
  /** Tier before this event (equal to `tier` for the start-of-call customer-value priority). */
  previousTier: Tier;
  /**
   * Routing priority level after this event, 1 (routine) upward: the tier plus
   * the customer tier's `priorityBoost` from the policy file. Higher = more urgent.
   */
  priority: number;
  /** Routing priority level before this event. */
  previousPriority: number;
  /** Customer value tier from call metadata (`customerTier`, e.g. `vip`), or null. */
  customerTier: string | null;
  /** Audio time at each tier from the start of the call up to this event, ms. */
  msAtTier: TierTimes;
}

/**
 * The call's routing priority was raised (tier 2 or 3), or set at call start
 * for a valued customer. At tier 3 the consumer raises a supervisor alert and
 * suggests a senior agent (`seniorAssist`).
 */
export interface PriorityEvent extends PolicyEventBase, TierChangeFields {
  type: 'priority';
  /** What raised it: agitation, or the customer's value tier at call start. */
  cause: 'agitation' | 'customer-value';
  /** True at tier ≥ 3: alert the supervisor and suggest a senior agent's assist. */
  supervisorAlert: boolean;
  seniorAssist: boolean;
}

/** The caller stayed calm long enough: the tier stepped down and priority is restored. */
export interface RecoveredEvent extends PolicyEventBase, TierChangeFields {
  type: 'recovered';
  /** Audio time from the escalation to `previousTier` until this step down, ms. */
  recoveryMs: number;
  /** Audio time from when the call last left tier 1 until now, ms (the whole episode so far). */
  episodeMs: number;
  /** How long the caller stayed below the exit level before the step down, ms. */
  calmForMs: number;
}

/** One prompt already sent on the call, as the handover context lists it. */
export interface PromptTried {
  seq: number;
  audioMs: number;
  tier: Tier;
  situation: Situation;
  scriptId: string;
}

/** One bucket of the score timeline summary in a handover context. */
export interface TimelineBucket {
  /** Bucket start and end, ms of call audio. */
  startMs: number;
  endMs: number;
  /** Mean and peak of smoothed agitation over the scored windows in the bucket, 0..1. */
  meanAgitation: number;
  peakAgitation: number;
  /** Tier at the end of the bucket. */
  tier: Tier;
}

/** Why a handover happened. */
export type HandoverTrigger =
  /** Agitation reached the tier-4 level. */
  | 'level'
  /** The Nth escalation episode without recovery (policy `handoverAfterEscalations`). */
  | 'repeated-escalations'
  /** Voicebot/IVR call (no human agent yet) and the caller became agitated. */
  | 'bot-agitation'
  /** Voicebot/IVR call and the gateway reported N unresolved turns. */
  | 'bot-unresolved-turns';

/**
 * What the receiving team gets with a handover: enough context to pick the
 * call up without making the caller start again.
 */
export interface HandoverContext {
  trigger: HandoverTrigger;
  /** Highest smoothed agitation seen on the call so far, 0..1. */
  peakAgitation: number;
  /** Mean smoothed agitation over the scored windows so far, 0..1 (0 when none). */
  meanAgitation: number;
  /** Audio time at each tier from the START of the call until the handover, ms (silence included). */
  msAtTier: TierTimes;
  /** Escalation episodes (upward tier changes) since the call last recovered to tier 1, this one included. */
  escalationCount: number;
  /** Score timeline summary: fixed-length buckets from the call start, newest last (at most the last 60). */
  timeline: readonly TimelineBucket[];
  /** Prompts already sent on the call, oldest first. */
  promptsTried: readonly PromptTried[];
  /** Unresolved voicebot turns the gateway reported (0 on agent calls). */
  unresolvedBotTurns: number;
  /** Customer value tier from metadata, or null. */
  customerTier: string | null;
}

/**
 * The call goes to another team: the special team (tier 4 on an agent call),
 * or a human queue (a voicebot/IVR call with no agent yet).
 */
export interface HandoverEvent extends PolicyEventBase, TierChangeFields {
  type: 'handover';
  /** `special-team` for tier 4; `human-queue` for voicebot/IVR calls. */
  target: 'special-team' | 'human-queue';
  /** Queue or team name from the policy file (e.g. `special-care`, `human-agents`). */
  queue: string;
  context: HandoverContext;
}

export type PolicyEvent = PromptEvent | PriorityEvent | RecoveredEvent | HandoverEvent;
/** The events that change (or set) the tier or routing priority. */
export type TierChangeEvent = PriorityEvent | RecoveredEvent | HandoverEvent;
