import type { PostCallSummary } from '../calls/post-call-summary.js';
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
  /**
   * ISO-8601 time the call's stream ended, on an event decided after it
   * (the job's `streamEndedAt`): delivered marked stale, not routed.
   */
  streamEndedAt?: string;
}

/**
 * The port the pipeline publishes to. The BullMQ implementation lives behind
 * it; the pipeline never imports BullMQ. `publish` resolves once the event is
 * durably accepted (in Redis, or in the bounded retry buffer) and must be
 * idempotent per (callId, streamId, seq) so a retried publish never duplicates a job.
 */
/** Where a call's `summary` job goes: after the call's last event. */
export interface SummaryPublishContext {
  /** The call's last event seq + 1. */
  seq: number;
  streamId?: string;
}

export interface EventPublisher {
  publish(event: PolicyEvent, ctx: PublishContext): Promise<void>;
  /** Publishes the post-call `summary` job (optional: publishers without it keep summaries in the store only). */
  publishSummary?(summary: PostCallSummary, ctx: SummaryPublishContext): Promise<void>;
  close(): Promise<void>;
}
