import type { PolicyEvent } from '../policy/types.js';

/** Where a call's policy events go to reach routing and delivery. */
export interface PublishContext {
  /** Agent assigned to the call, if the gateway named one. */
  agentId: string | undefined;
  /**
   * The call's stream/session id; part of the event's identity (job id,
   * stale keys), since a new stream for the same call restarts `seq`.
   */
  streamId?: string;
}

/**
 * The port the pipeline publishes to. The BullMQ implementation lives behind
 * it; the pipeline never imports BullMQ. `publish` resolves once the event is
 * durably accepted (in Redis, or in the bounded retry buffer) and must be
 * idempotent per (callId, streamId, seq) so a retried publish never duplicates a job.
 */
export interface EventPublisher {
  publish(event: PolicyEvent, ctx: PublishContext): Promise<void>;
  close(): Promise<void>;
}
