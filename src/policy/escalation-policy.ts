import type { EmotionScores } from '../model/types.js';
import type { PolicyEvent, Tier, TierTimes } from './types.js';

/**
 * Per-call policy state machine: scored windows in, policy events out.
 * One instance per call. Timing is audio time (`audioMs`), never wall-clock,
 * so a call replayed at any speed yields the same events.
 */
export interface EscalationPolicy {
  /**
   * Events decided at the start of the call (audioMs 0), e.g. the raised
   * priority of a valued customer. Call once, before the first `observe`;
   * later calls return nothing.
   */
  start(): PolicyEvent[];
  /** Feeds one scored window of caller speech, ending at `audioMs`; returns the events it caused. */
  observe(scores: EmotionScores, audioMs: number): PolicyEvent[];
  /**
   * The gateway reports a voicebot/IVR turn (`resolved` = the bot answered
   * the caller's request). Unresolved turns count toward the bot handover;
   * ignored once a human agent is on the call.
   */
  botTurn(resolved: boolean, audioMs: number): PolicyEvent[];
  /** A human agent was assigned (or removed, `null`): bot rules stop (or start) applying. */
  setAgent(agentId: string | null): void;
  /** Audio time at each tier from the start of the call until `audioMs`, ms. */
  msAtTier(audioMs: number): TierTimes;
  /** Current tier. */
  readonly tier: Tier;
  /** Current routing priority level (tier + customer-value boost). */
  readonly priority: number;
  /** Smoothed agitation the policy is acting on, 0..1. */
  readonly smoothedAgitation: number;
  /** True while the call is with a voicebot/IVR (no human agent). */
  readonly botSession: boolean;
}

/** Everything a policy needs to know about its call at creation. */
export interface PolicyCallInfo {
  callId: string;
  /** BCP-47 tag of the wanted script language; falls back to the policy's default language. */
  language: string | undefined;
  /** Human agent on the call; undefined (with no `botSession=false`) = voicebot/IVR. */
  agentId?: string | undefined;
  /**
   * Gateway metadata, as strings: `customerTier`, `customerName`,
   * `botSession` (`true`/`false`), `team`, `queue`, … Placeholders in
   * scripts are filled from it.
   */
  metadata?: Readonly<Record<string, string>>;
}

export type EscalationPolicyFactory = (call: PolicyCallInfo) => EscalationPolicy;
