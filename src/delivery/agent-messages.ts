import type { EmotionLabel } from '../model/types.js';
import type { Tier } from '../policy/types.js';

/** JSON messages on the agent softphone socket `/v1/agents/:agentId/stream`. */
export interface AgentPromptMessage {
  type: 'prompt';
  callId: string;
  promptId: string;
  tier: Tier;
  emotion: EmotionLabel;
  score: number;
  text: string;
  language: string;
  /** ISO-8601 time the event was decided. */
  at: string;
}

export interface AgentPriorityMessage {
  /** `recovered`: the caller calmed down and the priority is restored; `handover`: the call is being handed over. */
  type: 'priority' | 'recovered' | 'handover';
  callId: string;
  tier: Tier;
  previousTier: Tier;
  reason: string;
  at: string;
}

export type AgentMessage = AgentPromptMessage | AgentPriorityMessage;

/**
 * Where agent sockets are registered and how a message reaches them. This
 * instance's sockets only for now; cross-instance fan-out slots in behind
 * the same interface.
 */
export interface AgentHub {
  /** Registers a socket-like sink for an agent; returns the function that unregisters it. */
  register(agentId: string, sink: AgentSink): () => void;
  /** Delivers to every socket of the agent; returns how many sockets got it (0 = agent offline). */
  deliver(agentId: string, message: AgentMessage): number;
  /** Number of connected sockets per agent, for the API and tests. */
  connectedAgents(): ReadonlyMap<string, number>;
}

/** The slice of a WebSocket the hub needs: tests and other transports can supply their own. */
export interface AgentSink {
  send(text: string): void;
}
