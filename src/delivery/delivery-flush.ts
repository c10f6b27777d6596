import type { Queue } from 'bullmq';
import type { Logger } from 'pino';

export interface DeliveryFlushOptions {
  /** The routing queue the calls publish to. */
  queue: Queue;
  /** Resolves once the publisher's in-memory buffer (events not yet in Redis) is empty. */
  publisherDrained: () => Promise<void>;
  /** Sends every local agent socket what its inbox holds (RedisAgentHub.syncAll). */
  syncAgents: () => Promise<void>;
  logger: Logger;
  /** Longest wait for the queue to empty, ms. @defaultValue 5000 */
  timeoutMs?: number;
  /** Poll interval of the queue counts, ms. @defaultValue 50 */
  pollMs?: number;
}

const PENDING_STATES = ['waiting', 'active', 'prioritized', 'waiting-children'] as const;

/**
 * The shutdown step "deliver what the calls just published": waits until the
 * publisher's buffer is in Redis and the routing queue has no waiting or
 * active job (some worker, here or elsewhere, posted them to the agents'
 * inboxes), then pushes the inboxes to this instance's agent sockets. Bounded
 * by `timeoutMs`: a job in retry backoff (`delayed`) is not waited for; it
 * stays in Redis and reaches the agent on any instance within the pending TTL.
 */
export async function flushDelivery(options: DeliveryFlushOptions): Promise<void> {
  const log = options.logger.child({ component: 'delivery-flush' });
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  const pollMs = options.pollMs ?? 50;
  await Promise.race([options.publisherDrained(), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
  for (;;) {
    const counts = await options.queue.getJobCounts(...PENDING_STATES);
    const pending = Object.values(counts).reduce((a, b) => a + b, 0);
    if (pending === 0) break;
    if (Date.now() > deadline) {
      log.warn({ counts }, 'routing queue not drained at shutdown; those events stay in Redis for any instance to deliver');
      break;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  await options.syncAgents();
}
