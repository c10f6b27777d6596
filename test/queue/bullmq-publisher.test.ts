import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBullmqPublisher, type BullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { InvalidJobError, PublishBufferFullError } from '../../src/queue/errors.js';
import {
  captureLogger,
  dropQueue,
  newRedis,
  priorityEvent,
  promptEvent,
  recoveredEvent,
  RedisOutageProxy,
  silentLogger,
  uniqueQueueName,
} from './helpers.js';

const fixedNow = () => new Date('2025-03-01T10:00:00.000Z');

describe('BullMQ publisher', () => {
  let redis: Redis;
  let queueName: string;
  let inspect: Queue;
  const toClose: { close(): Promise<void> }[] = [];

  beforeEach(() => {
    redis = newRedis();
    queueName = uniqueQueueName();
    inspect = new Queue(queueName, { connection: redis });
    inspect.on('error', () => undefined);
  });

  afterEach(async () => {
    for (const c of toClose.splice(0)) await c.close();
    await inspect.close();
    await dropQueue(queueName, redis);
    await redis.quit();
  });

  const publisherOn = (overrides: Partial<Parameters<typeof createBullmqPublisher>[0]> = {}): BullmqPublisher => {
    const p = createBullmqPublisher({ connection: redis, queueName, logger: silentLogger(), now: fixedNow, ...overrides });
    toClose.push(p);
    return p;
  };

  const allJobs = () => inspect.getJobs(['prioritized', 'waiting', 'active', 'completed', 'failed', 'delayed']);

  it('adds prompt and priority jobs with deterministic ids, tier priorities and the v1 payload', async () => {
    const publisher = publisherOn();
    await publisher.publish(priorityEvent({ tier: 3, previousTier: 1, seq: 1 }), { agentId: 'agent-7' });
    await publisher.publish(promptEvent({ tier: 3, seq: 2, scriptId: 'en.t3.anger.1' }), { agentId: 'agent-7' });
    await publisher.publish(recoveredEvent({ tier: 1, previousTier: 3, seq: 3 }), { agentId: undefined });

    const jobs = (await allJobs()).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(jobs.map((j) => [j.id, j.name, j.opts.priority])).toEqual([
      ['call-42_1_priority', 'priority', 2],
      ['call-42_2_prompt', 'prompt', 2],
      ['call-42_3_recovered', 'recovered', 4],
    ]);
    expect(jobs[1]?.data).toEqual({
      schemaVersion: 1,
      type: 'prompt',
      callId: 'call-42',
      agentId: 'agent-7',
      tier: 3,
      audioMs: 12_000,
      seq: 2,
      at: '2025-03-01T10:00:00.000Z',
      emotion: 'anger',
      situation: 'anger',
      reason: 'tier 2 calming script for anger: agitation 0.71 above 0.55',
      score: 0.71,
      scriptId: 'en.t3.anger.1',
      text: 'I can hear how frustrating this has been.',
      language: 'en',
    });
    expect(jobs[2]?.data).toMatchObject({ type: 'recovered', agentId: null, tier: 1, previousTier: 3, reason: 'agitation below 0.45 for 8.0 s' });
    expect(jobs[0]?.opts).toMatchObject({
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 604_800, count: 10_000 },
    });
    expect(await inspect.getPrioritizedCount()).toBe(3);
  });

  it('makes one job of an event published twice', async () => {
    const publisher = publisherOn();
    await publisher.publish(promptEvent(), { agentId: 'a' });
    await publisher.publish(promptEvent(), { agentId: 'a' });
    await Promise.all([publisher.publish(promptEvent({ seq: 9 }), { agentId: 'a' }), publisher.publish(promptEvent({ seq: 9 }), { agentId: 'a' })]);
    expect((await allJobs()).map((j) => j.id).sort()).toEqual(['call-42_2_prompt', 'call-42_9_prompt']);
  });

  it('accepts call ids containing colons', async () => {
    const publisher = publisherOn();
    await publisher.publish(promptEvent({ callId: 'urn:call:1' }), { agentId: 'a' });
    const jobs = await allJobs();
    expect(jobs.map((j) => j.id)).toEqual(['urn%3Acall%3A1_2_prompt']);
    expect(jobs[0]?.data.callId).toBe('urn:call:1');
  });

  it('rejects an invalid event at the source with a coded error and adds nothing', async () => {
    const publisher = publisherOn();
    await expect(publisher.publish(promptEvent({ score: Number.NaN }), { agentId: 'a' })).rejects.toBeInstanceOf(InvalidJobError);
    expect(await allJobs()).toEqual([]);
  });

  it('connects from a URL and closes the connection it owns', async () => {
    const publisher = createBullmqPublisher({
      connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      queueName,
      logger: silentLogger(),
    });
    await publisher.publish(promptEvent(), { agentId: 'a' });
    await publisher.drained();
    await vi.waitFor(async () => expect(await allJobs()).toHaveLength(1));
    await publisher.close();
    await expect(publisher.publish(promptEvent({ seq: 3 }), { agentId: 'a' })).rejects.toMatchObject({ code: 'UT_ERR_PUBLISHER_CLOSED' });
  });
});

describe('BullMQ publisher while Redis is away', () => {
  let redis: Redis;
  let queueName: string;
  let proxy: RedisOutageProxy;

  beforeEach(async () => {
    redis = newRedis();
    queueName = uniqueQueueName();
    proxy = new RedisOutageProxy();
    await proxy.start();
  });

  afterEach(async () => {
    await proxy.stop();
    await dropQueue(queueName, redis);
    await redis.quit();
  });

  const jobIds = async () => {
    const q = new Queue(queueName, { connection: redis });
    q.on('error', () => undefined);
    const ids = (await q.getJobs(['prioritized', 'waiting'])).map((j) => String(j.id)).sort();
    await q.close();
    return ids;
  };

  it('buffers events, resolves publish, and flushes them in order when Redis returns', async () => {
    const { logger, records } = captureLogger();
    const publisher = createBullmqPublisher({
      connection: { host: '127.0.0.1', port: proxy.port, retryStrategy: () => 50 },
      queueName,
      logger,
      addTimeoutMs: 300,
    });
    try {
      await publisher.publish(promptEvent({ seq: 1 }), { agentId: 'a' });
      await publisher.drained();
      await publisher.queue.waitUntilReady();

      await proxy.stop();
      await vi.waitFor(() => expect(records.some((r) => r.msg === 'Redis connection error; publishing to the in-memory buffer')).toBe(true));
      for (const seq of [2, 3, 4]) await publisher.publish(promptEvent({ seq }), { agentId: 'a' });
      expect(publisher.buffered).toBe(3);
      expect(await jobIds()).toEqual(['call-42_1_prompt']);

      await proxy.start();
      await publisher.drained();
      expect(publisher.buffered).toBe(0);
      expect(await jobIds()).toEqual(['call-42_1_prompt', 'call-42_2_prompt', 'call-42_3_prompt', 'call-42_4_prompt']);
      expect(records.some((r) => r.msg === 'publish buffer flushed')).toBe(true);
    } finally {
      await publisher.close();
    }
  });

  it('rejects with a coded error and logs it when the buffer is full', async () => {
    const { logger, records } = captureLogger();
    await proxy.stop(); // Redis unreachable from the start.
    const publisher = createBullmqPublisher({
      connection: { host: '127.0.0.1', port: proxy.port, retryStrategy: () => 50 },
      queueName,
      logger,
      bufferCapacity: 2,
      addTimeoutMs: 200,
      closeTimeoutMs: 300,
    });
    await publisher.publish(promptEvent({ seq: 1 }), { agentId: 'a' });
    await publisher.publish(promptEvent({ seq: 2 }), { agentId: 'a' });
    const third = publisher.publish(promptEvent({ seq: 3 }), { agentId: 'a' });
    await expect(third).rejects.toBeInstanceOf(PublishBufferFullError);
    await expect(third).rejects.toMatchObject({ code: 'UT_ERR_PUBLISH_BUFFER_FULL', callId: 'call-42', seq: 3 });
    expect(records.find((r) => r.level === 50 && r.callId === 'call-42' && r.seq === 3)).toBeDefined();

    // Closing while Redis is still away gives up after closeTimeoutMs and logs what is lost.
    await publisher.close();
    const lost = records.find((r) => r.lost !== undefined);
    expect(lost).toMatchObject({ lost: 2, level: 50 });
  });
});
