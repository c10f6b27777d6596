/**
 * The EventPublisher calls use: it never rejects. Monitoring must go on
 * when publishing cannot: a Redis that refuses writes (out of memory, a
 * read-only replica after a failover) or a full retry buffer used to end the
 * call with 1011 at its first escalation. Now such an event is logged (with
 * its callId and the whole payload, for recovery), counted
 * (`undertone_publish_failures_total`, `undertone_dropped_events_total`),
 * and the call keeps being scored; later events are tried again as usual.
 *
 * `health()` feeds `/readyz`: not ready while events wait in the retry
 * buffer (Redis away) or within `unhealthyForMs` of a failed publish, so the
 * load balancer stops sending new calls to an instance that cannot deliver.
 */
import type { PolicyEvent } from '../policy/types.js';
import type { Logger } from '../shared/logger.js';
import type { DropReason, Metrics } from '../observability/metrics.js';
import { PublishBufferFullError, PublisherClosedError } from './errors.js';
import type { EventPublisher, PublishContext } from './publisher.js';

export interface ResilientPublisherOptions {
  logger: Logger;
  metrics: Metrics;
  /** How long readiness stays failed after a publish failure, ms. @defaultValue 30000 */
  unhealthyForMs?: number;
  /** Clock, ms. @defaultValue `Date.now` */
  now?: () => number;
}

export type PublisherHealth = { ok: true } | { ok: false; error: string };

export interface ResilientPublisher extends EventPublisher {
  health(): PublisherHealth;
}

function dropReason(error: unknown): DropReason {
  if (error instanceof PublishBufferFullError) return 'buffer_full';
  if (error instanceof PublisherClosedError) return 'closed';
  return 'rejected';
}

export function createResilientPublisher(inner: EventPublisher & { readonly buffered?: number }, options: ResilientPublisherOptions): ResilientPublisher {
  const log = options.logger.child({ component: 'publisher-guard' });
  const unhealthyForMs = options.unhealthyForMs ?? 30_000;
  const now = options.now ?? Date.now;
  let lastFailureAt = -Infinity;
  let lastError = '';

  return {
    async publish(event: PolicyEvent, ctx: PublishContext): Promise<void> {
      try {
        await inner.publish(event, ctx);
      } catch (error) {
        const reason = dropReason(error);
        lastFailureAt = now();
        lastError = error instanceof Error ? error.message : String(error);
        options.metrics.publishFailures.inc();
        options.metrics.dropped(reason);
        log.error(
          { err: error, callId: event.callId, seq: event.seq, type: event.type, reason, event, agentId: ctx.agentId },
          'policy event not published (payload logged for recovery); the call goes on being scored',
        );
      }
    },
    close: () => inner.close(),
    health(): PublisherHealth {
      const buffered = inner.buffered ?? 0;
      if (buffered > 0) return { ok: false, error: `${buffered} event(s) waiting for Redis in the retry buffer` };
      if (now() - lastFailureAt < unhealthyForMs) return { ok: false, error: `publish failed recently: ${lastError}` };
      return { ok: true };
    },
  };
}
