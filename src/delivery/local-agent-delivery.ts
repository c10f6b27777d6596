/**
 * Local agent delivery: a policy event decided on this instance goes
 * straight to the agent's sockets here, then to the routing queue as always.
 *
 * Why: the queue path (BullMQ add → a routing worker takes the job → its
 * order wait → the inbox post → the pub/sub nudge → the hub's inbox read) is
 * five to seven Redis round trips between the decision and the socket. On a
 * loaded 2-core machine each one waits behind the DSP thread, the load and
 * Redis itself: at 300 calls the bench measured "decided → delivered" p50
 * 90–430 ms, more than the 33–128 ms from the audio frame to the decision.
 *
 * What stays the same:
 * - the job is still published (routing, webhook, the inbox for the agent's
 *   sockets on other instances, and for a softphone that connects later);
 * - each socket gets each message once: the hub remembers what it sent ahead
 *   and skips those sockets when the inbox copy comes (redis-agent-hub.ts);
 * - a call's messages leave in seq order: the session hands over a window's
 *   events in order, and this runs synchronously inside `publish`;
 * - the message is the one the routing worker would post (`toAgentMessage`
 *   of the same job data, with the job's id as `promptId` / `priorityId`);
 *   the worker's order rules cannot apply yet: the event is the call's
 *   newest. An event decided after the call's stream ended is marked stale
 *   by `toAgentMessage`, here as there.
 * An agent with no socket here, or a call with no agent, is left to the queue.
 */
import type { Logger } from 'pino';
import type { PolicyEvent } from '../policy/types.js';
import type { EventPublisher, PublishContext } from '../queue/publisher.js';
import { routingJobId, toJobData } from '../queue/job-schema.js';
import { toAgentMessage, type AgentHub } from './agent-messages.js';

export interface LocalAgentDeliveryOptions {
  /** The hub holding this instance's agent sockets. */
  hub: Required<Pick<AgentHub, 'sendLocal'>>;
  /** For the rare failure to build or send (logged, never thrown: the queue still delivers). */
  logger: Pick<Logger, 'warn'>;
  /** Counts messages sent ahead of the queue (`undertone_agent_local_messages_total`). Optional. */
  onSent?: (type: PolicyEvent['type']) => void;
  /** Clock for the message's `at`. @defaultValue `() => new Date()` */
  now?: () => Date;
}

/** Wraps `inner` so that each event reaches local agent sockets before it is published. */
export function withLocalAgentDelivery(inner: EventPublisher, options: LocalAgentDeliveryOptions): EventPublisher {
  const now = options.now ?? (() => new Date());
  const sendAhead = (event: PolicyEvent, ctx: PublishContext): void => {
    const agentId = ctx.agentId;
    if (agentId === undefined) return;
    try {
      const data = toJobData(event, ctx, now());
      const message = toAgentMessage(data, routingJobId(event.callId, event.seq, event.type, ctx.streamId));
      if (options.hub.sendLocal(agentId, message) > 0) options.onSent?.(event.type);
    } catch (err) {
      options.logger.warn({ err, callId: event.callId, seq: event.seq, type: event.type }, 'local agent delivery failed; the routing queue still delivers');
    }
  };
  const wrapped: EventPublisher = {
    publish(event, ctx) {
      sendAhead(event, ctx);
      return inner.publish(event, ctx);
    },
    close: () => inner.close(),
  };
  if (inner.publishSummary) wrapped.publishSummary = inner.publishSummary.bind(inner);
  return wrapped;
}
