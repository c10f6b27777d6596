import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consumeRoutingEvents, type RoutingEvent } from '../../scripts/example-routing-consumer.js';
import { createAgentMailbox } from '../../src/delivery/agent-mailbox.js';
import { createPriorityGuard } from '../../src/delivery/priority-guard.js';
import { createRoutingWorker } from '../../src/delivery/routing-worker.js';
import { createBullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { dropQueue, handoverEvent, newRedis, priorityEvent, REDIS_URL, silentLogger, uniqueQueueName } from './helpers.js';

describe('the documented direct consumer (real Redis)', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of closers.reverse()) await c();
    closers.length = 0;
  });

  it('sees every completed routing job, validated, while Undertone\'s worker keeps processing them', async () => {
    const redis: Redis = newRedis();
    const queueName = uniqueQueueName();
    closers.push(() => redis.quit(), () => dropQueue(queueName, redis));
    const seen: RoutingEvent[] = [];
    const consumer = consumeRoutingEvents(queueName, REDIS_URL, (e) => seen.push(e));
    closers.push(() => consumer.close());
    await consumer.ready;
    const worker = createRoutingWorker({
      connection: redis,
      queueName,
      mailbox: createAgentMailbox({ redis, namespace: queueName }),
      guard: createPriorityGuard({ redis, namespace: queueName }),
      logger: silentLogger(),
    });
    closers.push(() => worker.close());
    const publisher = createBullmqPublisher({ connection: redis, queueName, logger: silentLogger() });
    closers.push(() => publisher.close());

    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'a1', streamId: 'MZ1' });
    await publisher.publish(handoverEvent({ seq: 2, tier: 4, previousTier: 2 }), { agentId: 'a1', streamId: 'MZ1' });
    await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 10_000 });
    expect(seen.map((e) => [e.type, e.seq, e.streamId]).sort()).toEqual([
      ['handover', 2, 'MZ1'],
      ['priority', 1, 'MZ1'],
    ]);
  });
});
