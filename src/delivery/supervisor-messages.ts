import type { Tier } from '../policy/types.js';

/**
 * JSON messages on the supervisor feed `WS /v1/supervisor/stream`
 * (contract: docs/supervisor-feed.md). Every message has `type` and `at`
 * (ISO-8601 wall time of the message). The feed is the same on every
 * instance: events fan out through Redis.
 */

/** A call that is live on some instance. */
export interface LiveCall {
  callId: string;
  /** The gateway's stream/session id; a restarted `<Stream>` for the same call gets a new one. */
  streamId: string;
  agentId: string | null;
  /** Ingest source, e.g. `twilio`. */
  source: string;
  /** Script language (BCP-47) or null when the gateway named none. */
  language: string | null;
  /** Call metadata from the gateway (`customParameters.team` / `.queue`); filters use them. */
  team: string | null;
  queue: string | null;
  tier: Tier;
  /** ISO-8601 wall time the call entered its current tier. */
  tierSince: string;
  /** Latest smoothed agitation, 0..1 (0 before the first scored window). */
  agitation: number;
  /** Caller audio received so far, ms. */
  audioMs: number;
  /** ISO-8601 wall time the stream started. */
  startedAt: string;
  /** The Undertone instance the call streams into. */
  instanceId: string;
}

/** A tier 3 or 4 alert for supervisors. */
export interface Alert {
  /** Stable id: `${callId}|${streamId}|${seq}` of the policy event that raised it. */
  alertId: string;
  callId: string;
  agentId: string | null;
  tier: Tier;
  /** Human-readable cause from the policy. */
  reason: string;
  /** Caller audio position the alert was decided at, ms. */
  audioMs: number;
  /** ISO-8601 wall time raised. */
  raisedAt: string;
  /** Supervisor id of the first ack, or null. */
  ackedBy: string | null;
  /** ISO-8601 wall time of the first ack, or null. */
  ackedAt: string | null;
  /**
   * Present when the instance decided the escalation after the call's stream
   * had ended (it was behind on the audio): when it ended, ISO-8601. The
   * caller hung up still agitated; there is no live call to join.
   */
  callEndedAt?: string;
}

/** The four-way emotion mix of the latest window. */
export interface EmotionMix {
  neutral: number;
  anger: number;
  happiness: number;
  sadness: number;
}

/** End-of-call summary. */
export interface CallSummary {
  peakAgitation: number;
  meanAgitation: number;
  /** Caller audio ms spent at each tier. */
  msAtTier: Record<Tier, number>;
  /** Prompts sent to the agent. */
  prompts: number;
  /** Upward tier changes. */
  escalations: number;
  /** Why the call ended: `hangup` (gateway said stop), `disconnect` (socket dropped), `error`, `shutdown`. */
  endReason: string;
  audioMs: number;
}

export interface SnapshotMessage {
  type: 'snapshot';
  at: string;
  calls: LiveCall[];
  alerts: Alert[];
}
export interface CallStartedMessage {
  type: 'call.started';
  at: string;
  call: LiveCall;
}
export interface CallScoresMessage {
  type: 'call.scores';
  at: string;
  callId: string;
  audioMs: number;
  agitation: number;
  anger: number;
  arousal: number;
  emotion: EmotionMix;
  tier: Tier;
}
export interface TierChangedMessage {
  type: 'tier.changed';
  at: string;
  callId: string;
  from: Tier;
  to: Tier;
  audioMs: number;
  reason: string;
}
export interface AlertMessage {
  type: 'alert';
  at: string;
  alert: Alert;
}
export interface AlertAckedMessage {
  type: 'alert.acked';
  at: string;
  alertId: string;
  callId: string;
  by: string;
  ackedAt: string;
}
export interface CallAgentMessage {
  type: 'call.agent';
  at: string;
  callId: string;
  agentId: string | null;
}
export interface PromptFeedMessage {
  type: 'prompt';
  at: string;
  callId: string;
  promptId: string;
  tier: Tier;
  text: string;
  scriptId: string;
  /** Present when the prompt was decided after the call's stream had ended (sent to the agent marked stale). */
  callEndedAt?: string;
}
export interface PromptAckFeedMessage {
  type: 'prompt.ack';
  at: string;
  callId: string;
  promptId: string;
  action: 'used' | 'dismissed';
}
export interface CallEndedMessage {
  type: 'call.ended';
  at: string;
  callId: string;
  summary: CallSummary;
}
export interface SupervisorErrorMessage {
  type: 'error';
  at: string;
  message: string;
}

/** Events that fan out to every supervisor (everything but snapshot and error). */
export type SupervisorFeedEvent =
  | CallStartedMessage
  | CallScoresMessage
  | TierChangedMessage
  | AlertMessage
  | AlertAckedMessage
  | CallAgentMessage
  | PromptFeedMessage
  | PromptAckFeedMessage
  | CallEndedMessage;

/** Server → supervisor. */
export type SupervisorServerMessage = SnapshotMessage | SupervisorFeedEvent | SupervisorErrorMessage;

/** Supervisor → server. */
export interface SupervisorAckRequest {
  type: 'ack';
  alertId: string;
}
export type SupervisorClientMessage = SupervisorAckRequest;
