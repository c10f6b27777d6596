import type { Logger } from 'pino';
import type { HandoverContext, Tier } from '../policy/types.js';

/** A call's priority changed: what the contact centre's routing system (ACD) needs to act on it. */
export interface RoutingPriorityChange {
  callId: string;
  agentId: string | null;
  tier: Tier;
  previousTier: Tier;
  /** BullMQ-style priority of the new tier (1 = most urgent), for systems that think in numbers. */
  priority: number;
  reason: string;
  /** Smoothed agitation, 0..1. */
  score: number;
  audioMs: number;
  /** Per-stream event number: a sink that may see changes late keeps the highest seq per call + stream. */
  seq: number;
  /** The call's stream/session id (absent on jobs of older producers). */
  streamId?: string;
  /** ISO-8601 time the event was published. */
  at: string;
  /** On changes to tier 4: the context for the special team. */
  handover?: HandoverContext;
}

/**
 * The port to the routing system: tier 3 → senior agent and supervisor
 * alert, tier 4 → the special team, lower → back to normal. A real ACD
 * integration (Genesys, Amazon Connect, Twilio TaskRouter…) implements it;
 * a thrown error fails the job, and BullMQ retries it with backoff.
 */
export interface RoutingSink {
  priorityChanged(change: RoutingPriorityChange): Promise<void> | void;
}

/** Default sink: logs each change (warn for tier ≥ 3, so supervisors' log alerts can key on it). */
export function createLoggingRoutingSink(logger: Logger): RoutingSink {
  const log = logger.child({ component: 'routing' });
  return {
    priorityChanged(change) {
      const fields = { callId: change.callId, agentId: change.agentId, tier: change.tier, previousTier: change.previousTier, reason: change.reason, handover: change.handover };
      if (change.tier >= 3 && change.tier > change.previousTier) log.warn(fields, 'call priority raised');
      else log.info(fields, 'call priority changed');
    },
  };
}
