import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createAgentMailbox } from '../../src/delivery/agent-mailbox.js';
import type { AgentMessage, AgentPriorityMessage, AgentPromptMessage, AgentSink } from '../../src/delivery/agent-messages.js';
import { createPriorityGuard } from '../../src/delivery/priority-guard.js';
import { createRedisAgentHub, type RedisAgentHub } from '../../src/delivery/redis-agent-hub.js';
import type { RoutingPriorityChange, RoutingSink } from '../../src/delivery/routing-sink.js';
import { createRoutingWorker, type RoutingWorker } from '../../src/delivery/routing-worker.js';
import { registerWebSocket } from '../../src/delivery/ws-sink.js';
import { createBullmqPublisher, type BullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { toJobData } from '../../src/queue/job-schema.js';
import { captureLogger, dropQueue, handoverEvent, newRedis, priorityEvent, promptEvent, silentLogger, uniqueQueueName } from '../queue/helpers.js';

class CollectingSink implements AgentSink {
  readonly received: string[] = [];
  send(text: string): void {
    this.received.push(text);
  }
  get messages(): AgentMessage[] {
    return this.received.map((t) => JSON.parse(t) as AgentMessage);
  }
}

class CollectingRouting implements RoutingSink {
  readonly changes: RoutingPriorityChange[] = [];
  priorityChanged(change: RoutingPriorityChange): void | Promise<void> {
    this.changes.push(change);
  }
}

const at = '2025-03-01T10:00:00.000Z';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('routing worker', () => {
  let redis: Redis;
  let subscriber: Redis;
  let queueName: string;
  let hub: RedisAgentHub;
  let routing: CollectingRouting;
  let publisher: BullmqPublisher;
  let worker: RoutingWorker | undefined;
  let inspect: Queue;
  const extra: { close(): Promise<unknown> }[] = [];

  beforeEach(() => {
    redis = newRedis();
    subscriber = newRedis();
    queueName = uniqueQueueName();
    hub = createRedisAgentHub({ redis, subscriber, namespace: queueName, logger: silentLogger() });
    routing = new CollectingRouting();
    publisher = createBullmqPublisher({ connection: redis, queueName, logger: silentLogger(), now: () => new Date(at) });
    inspect = new Queue(queueName, { connection: redis });
    inspect.on('error', () => undefined);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    for (const e of extra.splice(0)) await e.close();
    await hub.close();
    await publisher.close();
    await inspect.close();
    await dropQueue(queueName, redis);
    const keys = await redis.keys(`ut:${queueName}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await subscriber.quit();
    await redis.quit();
  });

  // Most tests post events with gaps in seq (no seq 1 …): a short order wait keeps them quick.
  const startWorker = async (logger = silentLogger(), concurrency = 1, orderWaitMs = 50) => {
    const mailbox = createAgentMailbox({ redis, namespace: queueName });
    const guard = createPriorityGuard({ redis, namespace: queueName });
    worker = createRoutingWorker({ connection: redis, queueName, mailbox, guard, logger, routing, concurrency, orderWaitMs });
    await worker.waitUntilReady();
    return worker;
  };

  /** Registers a sink and waits until the hub has subscribed and read the inbox. */
  const connect = async (agentId: string, h: RedisAgentHub = hub): Promise<CollectingSink> => {
    const sink = new CollectingSink();
    h.register(agentId, sink);
    await h.idle();
    return sink;
  };

  it('turns prompt and priority jobs into agent messages (with ids and seq) and tells routing', async () => {
    const sink = await connect('agent-7');
    await startWorker();
    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ1' });
    await publisher.publish(promptEvent({ seq: 2, tier: 2 }), { agentId: 'agent-7', streamId: 'MZ1' });

    await vi.waitFor(() => expect(sink.received).toHaveLength(2));
    const byType = Object.fromEntries(sink.messages.map((m) => [m.type, m]));
    expect(byType.priority).toEqual<AgentPriorityMessage>({
      type: 'priority',
      callId: 'call-42',
      priorityId: 'call-42_MZ1_1_priority',
      streamId: 'MZ1',
      seq: 1,
      tier: 2,
      previousTier: 1,
      reason: 'agitation 0.71 ≥ 0.55 for 1.5 s',
      audioMs: 12_000,
      at,
    });
    expect(byType.prompt).toEqual<AgentPromptMessage>({
      type: 'prompt',
      callId: 'call-42',
      promptId: 'call-42_MZ1_2_prompt',
      streamId: 'MZ1',
      seq: 2,
      tier: 2,
      emotion: 'anger',
      score: 0.71,
      text: 'I can hear how frustrating this has been.',
      language: 'en',
      audioMs: 12_000,
      at,
    });
    expect(routing.changes).toEqual([
      {
        callId: 'call-42',
        agentId: 'agent-7',
        tier: 2,
        previousTier: 1,
        priority: 3,
        reason: 'agitation 0.71 ≥ 0.55 for 1.5 s',
        score: 0.71,
        audioMs: 12_000,
        seq: 1,
        streamId: 'MZ1',
        at,
      },
    ]);
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
  });

  it('passes the handover context to routing on tier 4', async () => {
    await startWorker();
    const event = handoverEvent({ seq: 5, tier: 4, previousTier: 2 });
    await publisher.publish(event, { agentId: undefined });
    await vi.waitFor(() => expect(routing.changes).toHaveLength(1));
    expect(routing.changes[0]).toMatchObject({ tier: 4, priority: 1, agentId: null, handover: event.context });
  });

  it('keeps messages for an agent offline everywhere in Redis and delivers them, in order, on connect to any instance', async () => {
    await startWorker();
    await publisher.publish(priorityEvent({ seq: 1 }), { agentId: 'agent-9', streamId: 'MZ1' });
    await publisher.publish(promptEvent({ seq: 2 }), { agentId: 'agent-9', streamId: 'MZ1' });
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
    const results = (await inspect.getJobs(['completed'])).map((j) => j.returnvalue as { agent: string });
    expect(results).toEqual([{ agent: 'posted' }, { agent: 'posted' }]);

    // "Another instance": its own hub and subscriber, same Redis.
    const otherSub = newRedis();
    const other = createRedisAgentHub({ redis, subscriber: otherSub, namespace: queueName, logger: silentLogger() });
    extra.push({ close: async () => { await other.close(); await otherSub.quit(); } });
    const sink = await connect('agent-9', other);
    expect(sink.messages.map((m) => `${m.type}:${m.seq}`)).toEqual(['priority:1', 'prompt:2']);

    // Delivered once: a later connect (here, this instance) has nothing pending.
    const again = await connect('agent-9');
    expect(again.received).toEqual([]);
  });

  it('fails a malformed job at once with a clear error and keeps processing', async () => {
    const { logger, records } = captureLogger();
    const sink = await connect('agent-7');
    await startWorker(logger);

    const bad = await inspect.add('prompt', { schemaVersion: 1, type: 'prompt', callId: 'call-x', tier: 9 }, { attempts: 3, priority: 1 });
    await vi.waitFor(async () => expect(await bad.getState()).toBe('failed'));
    const failed = await inspect.getJob(String(bad.id));
    expect(failed?.failedReason).toMatch(/^UT_ERR_INVALID_JOB: invalid "prompt" job: agentId is required; .*tier must be <= 4/);
    expect(failed?.attemptsMade).toBe(1);
    expect(records.find((r) => r.msg === 'malformed routing job rejected')).toMatchObject({ level: 50, jobName: 'prompt' });
    expect(records.find((r) => r.msg === 'routing job failed for good')).toBeDefined();

    await publisher.publish(promptEvent(), { agentId: 'agent-7' });
    await vi.waitFor(() => expect(sink.received).toHaveLength(1));
    expect(worker?.worker.isRunning()).toBe(true);
  });

  it('skips a priority job older than one already applied for the call and stream', async () => {
    // Queued before the worker starts: tier 3 (BullMQ priority 2) runs before tier 2 (priority 3).
    const older = toJobData(priorityEvent({ seq: 4, tier: 2, previousTier: 1 }), { agentId: 'agent-7', streamId: 'MZ1' }, new Date(at));
    const newer = toJobData(priorityEvent({ seq: 5, tier: 3, previousTier: 2 }), { agentId: 'agent-7', streamId: 'MZ1' }, new Date(at));
    await inspect.add('priority', older, { jobId: 'call-42_MZ1_4_priority', priority: 3 });
    await inspect.add('priority', newer, { jobId: 'call-42_MZ1_5_priority', priority: 2 });
    const sink = await connect('agent-7');
    await startWorker();
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
    expect(routing.changes.map((c) => c.seq)).toEqual([5]);
    expect(sink.messages.map((m) => m.tier)).toEqual([3]);
    expect((await inspect.getJob('call-42_MZ1_4_priority'))?.returnvalue).toEqual({ agent: 'stale', stale: true });
  });

  it('ends at the newest tier when an async routing sink is slow for an older change (concurrency 8)', async () => {
    // The older change (1→2) is taken first (same BullMQ priority, FIFO) and
    // its routing call is slow; the newer one (2→3) must not be overtaken by it.
    routing.priorityChanged = async (change) => {
      await sleep(change.seq === 1 ? 300 : 0);
      routing.changes.push(change);
    };
    const opts = (seq: number) => ({ jobId: `call-42_MZ1_${seq}_priority`, priority: 2 });
    await inspect.add('priority', toJobData(priorityEvent({ seq: 1, tier: 2, previousTier: 1 }), { agentId: 'agent-7', streamId: 'MZ1' }, new Date(at)), opts(1));
    await inspect.add('priority', toJobData(priorityEvent({ seq: 2, tier: 3, previousTier: 2 }), { agentId: 'agent-7', streamId: 'MZ1' }, new Date(at)), opts(2));
    const sink = await connect('agent-7');
    await startWorker(silentLogger(), 8);
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
    await hub.syncAll();
    expect(routing.changes.at(-1)?.tier).toBe(3);
    const priorities = sink.messages.filter((m): m is AgentPriorityMessage => m.type === 'priority');
    expect(priorities.at(-1)?.tier).toBe(3);
    // Whatever reached the agent arrived in seq order.
    expect(priorities.map((m) => m.seq)).toEqual([...priorities.map((m) => m.seq)].sort((a, b) => a - b));
    expect(JSON.parse(await redis.hget(`ut:${queueName}:order:call-42:MZ1`, 'prioritySeq') ?? '0')).toBe(2);
  });

  it('delivers a call\'s messages in seq order although BullMQ runs the higher tier first, dropping none', async () => {
    // Queued before the worker starts: seq 2 and 3 (tier 3) outrank seq 1 (tier 2) in BullMQ.
    const ctx = { agentId: 'agent-7', streamId: 'MZ1' };
    await inspect.add('priority', toJobData(priorityEvent({ seq: 1, tier: 2, previousTier: 1 }), ctx, new Date(at)), { jobId: 'call-42_MZ1_1_priority', priority: 3 });
    await inspect.add('priority', toJobData(priorityEvent({ seq: 2, tier: 3, previousTier: 2 }), ctx, new Date(at)), { jobId: 'call-42_MZ1_2_priority', priority: 2 });
    await inspect.add('prompt', toJobData(promptEvent({ seq: 3, tier: 3 }), ctx, new Date(at)), { jobId: 'call-42_MZ1_3_prompt', priority: 2 });
    await inspect.add('prompt', toJobData(promptEvent({ seq: 1, tier: 2 }), { ...ctx, streamId: 'MZ-other' }, new Date(at)), { jobId: 'other', priority: 3 });
    const sink = await connect('agent-7');
    await startWorker(silentLogger(), 8, 10_000);
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(4));
    await hub.syncAll();
    const mine = sink.messages.filter((m) => m.streamId === 'MZ1');
    expect(mine.map((m) => `${m.type}:${m.seq}`)).toEqual(['priority:1', 'priority:2', 'prompt:3']);
    expect(routing.changes.map((c) => c.seq)).toEqual([1, 2]);
  });

  it('delivers the events of a second stream on the same call id (seq restarts at 1)', async () => {
    const sink = await connect('agent-7');
    await startWorker();
    await publisher.publish(promptEvent({ seq: 1 }), { agentId: 'agent-7', streamId: 'MZ-first' });
    await publisher.publish(promptEvent({ seq: 1 }), { agentId: 'agent-7', streamId: 'MZ-second' });
    await vi.waitFor(() => expect(sink.received).toHaveLength(2));
    expect(sink.messages.map((m) => (m as AgentPromptMessage).promptId)).toEqual(['call-42_MZ-first_1_prompt', 'call-42_MZ-second_1_prompt']);
  });

  it('sends a re-run job to the agent once (de-duplicated by call, stream and seq)', async () => {
    const sink = await connect('agent-7');
    await startWorker();
    const data = toJobData(promptEvent({ seq: 3 }), { agentId: 'agent-7', streamId: 'MZ1' }, new Date(at));
    await inspect.add('prompt', data, { jobId: 'call-42_MZ1_3_prompt', priority: 3 });
    // The same event again, as after a stalled job or a publish that outlived the job's retention.
    await inspect.add('prompt', data, { jobId: 'rerun-of-3', priority: 3 });
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
    await hub.syncAll();
    expect(sink.received).toHaveLength(1);
    expect((await inspect.getJob('rerun-of-3'))?.returnvalue).toEqual({ agent: 'duplicate' });
  });

  it('does not send a prompt for a tier the call has since left downwards, nor one older than a prompt sent', async () => {
    const sink = await connect('agent-7');
    await startWorker();
    const ctx = { agentId: 'agent-7', streamId: 'MZ1' };
    await publisher.publish(priorityEvent({ seq: 4, tier: 1, previousTier: 2, reason: 'calm again' }), ctx);
    await vi.waitFor(() => expect(routing.changes).toHaveLength(1));
    await publisher.publish(promptEvent({ seq: 3, tier: 2 }), ctx); // decided before the call calmed down
    await publisher.publish(promptEvent({ seq: 6, tier: 2 }), ctx);
    await publisher.publish(promptEvent({ seq: 5, tier: 2 }), ctx); // older than seq 6, already sent
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(4));
    await hub.syncAll();
    expect(sink.messages.map((m) => `${m.type}:${m.seq}`)).toEqual(['priority:4', 'prompt:6']);
    expect((await inspect.getJob('call-42_MZ1_3_prompt'))?.returnvalue).toEqual({ agent: 'stale' });
    expect((await inspect.getJob('call-42_MZ1_5_prompt'))?.returnvalue).toEqual({ agent: 'stale' });
  });

  it('retries a job when the routing system fails, telling the agent only once it succeeds', async () => {
    let failures = 1;
    routing.priorityChanged = (change) => {
      if (failures-- > 0) throw new Error('ACD unavailable');
      routing.changes.push(change);
    };
    const sink = await connect('agent-7');
    await startWorker();
    await inspect.add('priority', toJobData(priorityEvent(), { agentId: 'agent-7' }, new Date(at)), {
      jobId: 'call-42_1_priority',
      attempts: 3,
      backoff: { type: 'fixed', delay: 10 },
      priority: 3,
    });
    await vi.waitFor(() => expect(sink.received).toHaveLength(1));
    expect(routing.changes).toHaveLength(1);
    // The agent can have the message before BullMQ has recorded the attempt as completed.
    await vi.waitFor(async () => expect((await inspect.getJob('call-42_1_priority'))?.attemptsMade).toBe(2));
  });

  it('delivers to a real WebSocket client through the hub', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (socket, request) => {
      const agentId = decodeURIComponent(/^\/v1\/agents\/([^/]+)\/stream$/.exec(request.url ?? '')?.[1] ?? '');
      registerWebSocket(hub, agentId, socket);
    });
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}/v1/agents/agent-ws/stream`);
    const received: AgentMessage[] = [];
    client.on('message', (data) => received.push(JSON.parse(String(data)) as AgentMessage));
    try {
      await once(client, 'open');
      await vi.waitFor(() => expect(hub.connectedAgents().get('agent-ws')).toBe(1));
      await hub.idle();
      await startWorker();
      await publisher.publish(promptEvent({ language: 'zh-CN', text: '非常理解您现在的心情。' }), { agentId: 'agent-ws', streamId: 'MZ9' });
      await vi.waitFor(() => expect(received).toHaveLength(1));
      expect(received[0]).toMatchObject({ type: 'prompt', promptId: 'call-42_MZ9_2_prompt', text: '非常理解您现在的心情。', language: 'zh-CN' });

      client.close();
      await vi.waitFor(() => expect(hub.connectedAgents().has('agent-ws')).toBe(false));
    } finally {
      client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('closes gracefully: the worker stops and close resolves', async () => {
    const w = await startWorker();
    await w.close();
    expect(w.worker.isRunning()).toBe(false);
    worker = undefined;
  });
});
