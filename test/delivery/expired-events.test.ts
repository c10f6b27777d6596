/**
 * Prompts never quietly arrive after the call has ended: a routing job met
 * after its call + stream ended (its post-call summary is kept) reaches the
 * agent marked `stale`, routing is not told of a late priority change, and
 * each is logged with the callId and counted. Real Redis, real worker, real
 * summary store; unique queue names.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSummaryStore, type SummaryStore } from '../../src/calls/summary-store.js';
import { createAgentMailbox } from '../../src/delivery/agent-mailbox.js';
import type { AgentMessage, AgentSink } from '../../src/delivery/agent-messages.js';
import { createPriorityGuard } from '../../src/delivery/priority-guard.js';
import { createRedisAgentHub, type RedisAgentHub } from '../../src/delivery/redis-agent-hub.js';
import type { RoutingPriorityChange, RoutingSink } from '../../src/delivery/routing-sink.js';
import { createRoutingWorker, type RoutingJobResult, type RoutingWorker } from '../../src/delivery/routing-worker.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createBullmqPublisher, type BullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { captureLogger, dropQueue, newRedis, priorityEvent, promptEvent, sampleSummary, silentLogger, uniqueQueueName } from '../queue/helpers.js';

class CollectingSink implements AgentSink {
  readonly messages: AgentMessage[] = [];
  send(text: string): void {
    this.messages.push(JSON.parse(text) as AgentMessage);
  }
}

async function sample(metrics: Metrics, line: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('routing jobs handled after their call ended', () => {
  let redis: Redis;
  let subscriber: Redis;
  let queueName: string;
  let hub: RedisAgentHub;
  let publisher: BullmqPublisher;
  let store: SummaryStore;
  let worker: RoutingWorker | undefined;
  let inspect: Queue;
  const routed: RoutingPriorityChange[] = [];
  const routing: RoutingSink = { priorityChanged: (change) => void routed.push(change) };

  beforeEach(() => {
    redis = newRedis();
    subscriber = newRedis();
    queueName = uniqueQueueName();
    hub = createRedisAgentHub({ redis, subscriber, namespace: queueName, logger: silentLogger() });
    publisher = createBullmqPublisher({ connection: redis, queueName, logger: silentLogger() });
    store = createSummaryStore({ redis, namespace: queueName, ttlS: 600 });
    inspect = new Queue(queueName, { connection: redis });
    inspect.on('error', () => undefined);
    routed.length = 0;
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await hub.close();
    await publisher.close();
    await inspect.close();
    await dropQueue(queueName, redis);
    const keys = await redis.keys(`ut:${queueName}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await subscriber.quit();
    await redis.quit();
  });

  async function start(metrics: Metrics, logger = silentLogger(), connect = true): Promise<CollectingSink> {
    const sink = new CollectingSink();
    if (connect) {
      hub.register('agent-7', sink);
      await hub.idle();
    }
    worker = createRoutingWorker({
      connection: redis,
      queueName,
      logger,
      routing,
      orderWaitMs: 50,
      mailbox: createAgentMailbox({ redis, namespace: queueName }),
      guard: createPriorityGuard({ redis, namespace: queueName }),
      endedCalls: store,
      metrics,
    });
    await worker.waitUntilReady();
    return sink;
  }

  const results = async (): Promise<Record<string, RoutingJobResult>> => {
    const jobs = await inspect.getJobs(['completed'], 0, 100);
    return Object.fromEntries(jobs.map((j) => [j.name, j.returnvalue as RoutingJobResult]));
  };

  /** Both messages reached the agent marked stale with `endedAt`, routing heard nothing, both jobs say so and both were counted. */
  async function expectDeliveredStale(sink: CollectingSink, metrics: Metrics, endedAt: string): Promise<void> {
    await vi.waitFor(() => expect(sink.messages).toHaveLength(2), { timeout: 10_000 });
    for (const m of sink.messages) expect(m).toMatchObject({ callId: 'call-42', stale: true, callEndedAt: endedAt });
    expect(routed).toEqual([]);
    await vi.waitFor(async () => expect(Object.keys(await results())).toHaveLength(2), { timeout: 10_000 });
    for (const r of Object.values(await results())) expect(r).toMatchObject({ agent: 'posted', callEndedAt: endedAt });
    expect(await sample(metrics, 'undertone_expired_events_total{type="prompt"}')).toBe(1);
    expect(await sample(metrics, 'undertone_expired_events_total{type="priority"}')).toBe(1);
  }

  it('sends a late prompt and priority change marked stale, tells routing nothing, logs and counts them', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const { logger, records } = captureLogger();
    const sink = await start(metrics, logger);
    const endedAt = new Date(Date.now() - 5000).toISOString();
    await store.save(sampleSummary({ callId: 'call-42', streamId: 'MZ1', endedAt }));

    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ1' });
    await publisher.publish(promptEvent({ seq: 2, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ1' });

    await expectDeliveredStale(sink, metrics, endedAt);
    const lines = records.filter((r) => r['callEndedAt'] === endedAt);
    expect(lines.map((r) => r['type']).sort()).toEqual(['priority', 'prompt']);
    for (const r of lines) expect(r).toMatchObject({ callId: 'call-42', level: 40 });
    expect(lines.find((r) => r['type'] === 'prompt')!['lateMs']).toBeGreaterThanOrEqual(5000);
  });

  it('takes the job\'s own streamEndedAt (decided after the stream ended) before any summary exists', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const { logger, records } = captureLogger();
    const sink = await start(metrics, logger);
    // The instance was behind: it decided these after the gateway's stop, before the call's summary was written.
    const streamEndedAt = new Date(Date.now() - 2000).toISOString();
    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ9', streamEndedAt });
    await publisher.publish(promptEvent({ seq: 2, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ9', streamEndedAt });

    await expectDeliveredStale(sink, metrics, streamEndedAt);
    expect(records.filter((r) => r['callEndedAt'] === streamEndedAt && r['level'] === 40)).toHaveLength(2);
    expect(await store.streamEndedAt('call-42', 'MZ9')).toBeUndefined();
  });

  it('delivers as live (no stale mark, routing told) while the call has no summary, or only an earlier stream has one', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const sink = await start(metrics);
    // The call's first stream ended; MZ2 is its live second stream (a transfer or reconnect).
    await store.save(sampleSummary({ callId: 'call-42', streamId: 'MZ1' }));

    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ2' });
    await publisher.publish(promptEvent({ seq: 2, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ2' });
    await publisher.publish(promptEvent({ callId: 'call-43', seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ3' });

    await vi.waitFor(() => expect(sink.messages).toHaveLength(3), { timeout: 10_000 });
    for (const m of sink.messages) {
      expect(m).not.toHaveProperty('stale');
      expect(m).not.toHaveProperty('callEndedAt');
    }
    expect(routed.map((c) => c.callId)).toEqual(['call-42']);
    expect(await sample(metrics, 'undertone_expired_events_total{type="prompt"}')).toBe(0);
  });

  it('marks stale what waited for an offline agent when its call ended before the agent connected', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    await start(metrics, silentLogger(), false);
    const { logger, records } = captureLogger();
    const lateSubscriber = newRedis();
    const lateHub = createRedisAgentHub({ redis, subscriber: lateSubscriber, namespace: queueName, logger, endedCalls: store, metrics });
    try {
      // Posted while the call was live (no summary yet): the worker sends it as live.
      await publisher.publish(promptEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ5' });
      await publisher.publish(promptEvent({ callId: 'call-44', seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ6' });
      await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2), { timeout: 10_000 });
      // call-42 ends before the softphone connects; call-44 is still live.
      const endedAt = new Date().toISOString();
      await store.save(sampleSummary({ callId: 'call-42', streamId: 'MZ5', endedAt }));

      const sink = new CollectingSink();
      lateHub.register('agent-7', sink);
      await vi.waitFor(() => expect(sink.messages).toHaveLength(2), { timeout: 10_000 });
      const byCall = Object.fromEntries(sink.messages.map((m) => [m.callId, m]));
      expect(byCall['call-42']).toMatchObject({ type: 'prompt', stale: true, callEndedAt: endedAt });
      expect(byCall['call-44']).not.toHaveProperty('stale');
      expect(await sample(metrics, 'undertone_expired_events_total{type="prompt"}')).toBe(1);
      expect(records.filter((r) => r['callId'] === 'call-42' && r['callEndedAt'] === endedAt)).toHaveLength(1);
    } finally {
      await lateHub.close();
      await lateSubscriber.quit();
    }
  });
});
