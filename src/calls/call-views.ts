/**
 * Read-only views of a call for the HTTP API. Plain JSON-ready objects: the
 * session builds them on request, the registry keeps the last detail of a
 * finished call in its history.
 */
import type { EmotionScores, ScoredWindow } from '../model/types.js';
import type { PolicyEvent, Tier } from '../policy/types.js';

export type CallState = 'live' | 'finishing' | 'ended';
/** How a call ended; `overload`: shed by an instance that could not score all its calls in time (src/calls/load-shedder.ts). */
export type CallEndReason = 'hangup' | 'disconnect' | 'error' | 'shutdown' | 'overload';

/** One row of `GET /v1/calls`. */
export interface CallSummary {
  callId: string;
  streamId: string;
  agentId: string | null;
  /** Ingest adapter (`twilio`, …). */
  source: string;
  language: string | null;
  state: CallState;
  tier: Tier;
  /** Wall-clock start, ISO-8601 (for people; the pipeline itself runs on audio time). */
  startedAt: string;
  /** Caller audio received so far, ms (the call's audio clock). */
  audioMs: number;
  /** Scores of the latest scored window; null before the first one. */
  latestScores: EmotionScores | null;
  /** Smoothed agitation the policy acts on, 0..1. */
  agitation: number;
}

/** `GET /v1/calls/:callId`: the summary plus the call's timeline and events. */
export interface CallDetail extends CallSummary {
  endedAt: string | null;
  endReason: CallEndReason | null;
  /** Agent-track audio received, ms (counted, never scored). */
  agentAudioMs: number;
  dtmfDigits: number;
  /** Scored windows, oldest first; at most the session's `maxTimeline` newest. */
  timeline: ScoredWindow[];
  /** Older windows no longer in `timeline`. */
  timelineDropped: number;
  /** Policy events published for the call, oldest first (bounded like the timeline). */
  events: PolicyEvent[];
  eventsDropped: number;
}
