import type { EmotionLabel } from '../model/types.js';
import type { CallRoutingJobData } from '../queue/job-schema.js';
import type { Tier } from '../policy/types.js';

/** JSON messages on the agent softphone socket `/v1/agents/:agentId/stream`. */
export interface AgentPromptMessage {
  type: 'prompt';
  callId: string;
  /**
   * Deterministic id of the prompt (the routing job id, which includes the
   * call, its stream and seq): the same prompt always has the same id, so a
   * softphone can de-duplicate on it. The server already delivers each one
   * once per socket.
   */
  promptId: string;
  /** The call's stream/session id (a call may have several over its life). */
  streamId: string;
  /** Per-stream event number (shared with priority messages): orders a call's messages. */
  seq: number;
  tier: Tier;
  emotion: EmotionLabel;
  score: number;
  text: string;
  language: string;
  /**
   * Caller audio time (ms from the call's start) at the end of the window
   * that triggered the prompt: lets a softphone or the load generator relate
   * the prompt to the audio that caused it (alert latency).
   */
  audioMs: number;
  /** ISO-8601 time the event was decided. */
  at: string;
  /**
   * Present (true) when the prompt comes after its call had ended: the
   * routing worker handled it late (the queue was behind), or the instance
   * decided it after the gateway had stopped the stream (it was behind on the
   * audio). A softphone must not show it as a live prompt (history only).
   * Absent on every prompt delivered in time.
   */
  stale?: true;
  /** With `stale`: when the call ended, ISO-8601. */
  callEndedAt?: string;
}

export interface AgentPriorityMessage {
  /** `recovered`: the caller calmed down and the priority is restored; `handover`: the call is being handed over. */
  type: 'priority' | 'recovered' | 'handover';
  callId: string;
  /** Deterministic id of the change (the routing job id), for de-duplication. */
  priorityId: string;
  streamId: string;
  /** Per-stream event number: a softphone keeps the tier of the highest seq it has seen. */
  seq: number;
  tier: Tier;
  previousTier: Tier;
  reason: string;
  /** Caller audio time (ms from the call's start) at which the change was decided. */
  audioMs: number;
  at: string;
  /** Present (true) when handled after the call had ended: for the record only (routing was not told). */
  stale?: true;
  /** With `stale`: when the call ended, ISO-8601. */
  callEndedAt?: string;
}

export type AgentMessage = AgentPromptMessage | AgentPriorityMessage;

/** A message's deterministic id (its routing job id): `promptId` or `priorityId`. */
export function agentMessageId(message: AgentMessage): string {
  return message.type === 'prompt' ? message.promptId : message.priorityId;
}

/**
 * Where this instance's agent sockets are registered. Messages do not go
 * through it directly: routing workers (on any instance) post them to the
 * agent's mailbox in Redis (AgentMailbox), and the hub of every instance that
 * has a socket of that agent sends them on (src/delivery/redis-agent-hub.ts).
 */
export interface AgentHub {
  /** Registers a socket-like sink for an agent; returns the function that unregisters it. */
  register(agentId: string, sink: AgentSink): () => void;
  /** Number of connected sockets per agent on this instance, for the API and tests. */
  connectedAgents(): ReadonlyMap<string, number>;
  /**
   * Sends a message decided on this instance to the agent's sockets here
   * now, ahead of the routing queue (src/delivery/local-agent-delivery.ts);
   * when the same message then comes through the agent's inbox, the sockets
   * that already had it are skipped. Returns how many sockets got it (0: the
   * agent has none here; the inbox delivers as always). Optional: a hub
   * without it delivers through the inbox only.
   */
  sendLocal?(agentId: string, message: AgentMessage): number;
}

/** The slice of a WebSocket the hub needs: tests and other transports can supply their own. */
export interface AgentSink {
  send(text: string): void;
}

/**
 * Agent wire message for a validated job. A job decided after its call's
 * stream had ended (`streamEndedAt`) is marked stale with that time, on
 * every path that builds the message (the routing worker, local delivery).
 */
export function toAgentMessage(data: CallRoutingJobData, jobId: string): AgentMessage {
  const ended = data.streamEndedAt !== undefined ? ({ stale: true, callEndedAt: data.streamEndedAt } as const) : {};
  if (data.type === 'prompt') {
    return {
      type: 'prompt',
      callId: data.callId,
      promptId: jobId,
      streamId: data.streamId ?? '',
      seq: data.seq,
      tier: data.tier,
      emotion: data.emotion,
      score: data.score,
      text: data.text,
      language: data.language,
      audioMs: data.audioMs,
      at: data.at,
      ...ended,
    };
  }
  if (data.type === 'summary') throw new Error('summary jobs have no agent message');
  return {
    type: data.type === 'handover' ? 'handover' : data.type === 'recovered' ? 'recovered' : 'priority',
    callId: data.callId,
    priorityId: jobId,
    streamId: data.streamId ?? '',
    seq: data.seq,
    tier: data.tier,
    previousTier: data.previousTier,
    reason: data.reason,
    audioMs: data.audioMs,
    at: data.at,
    ...ended,
  };
}
