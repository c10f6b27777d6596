import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { AgentMessage, AgentPriorityMessage, AgentPromptMessage, AgentSink } from '../../src/delivery/agent-messages.js';
import { createAgentHub, type BufferingAgentHub } from '../../src/delivery/agent-hub.js';
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
  priorityChanged(change: RoutingPriorityChange): void {
    this.changes.push(change);
  }
}

const at = '2025-03-01T10:00:00.000Z';

describe('routing worker', () => {
  let redis: Redis;
  let queueName: string;
  let hub: BufferingAgentHub;
  let routing: CollectingRouting;
  let publisher: BullmqPublisher;
  let worker: RoutingWorker | undefined;
  let inspect: Queue;

  beforeEach(() => {
    redis = newRedis();
    queueName = uniqueQueueName();
    hub = createAgentHub({ logger: silentLogger() });
    routing = new CollectingRouting();
    publisher = createBullmqPublisher({ connection: redis, queueName, logger: silentLogger(), now: () => new Date(at) });
    inspect = new Queue(queueName, { connection: redis });
    inspect.on('error', () => undefined);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await publisher.close();
    await inspect.close();
    await dropQueue(queueName, redis);
    await redis.quit();
  });

  const startWorker = async (logger = silentLogger(), concurrency = 1) => {
    worker = createRoutingWorker({ connection: redis, queueName, hub, logger, routing, concurrency });
    await worker.waitUntilReady();
    return worker;
  };

  it('turns prompt and priority jobs into agent messages and tells routing', async () => {
    const sink = new CollectingSink();
    hub.register('agent-7', sink);
    await startWorker();
    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7' });
    await publisher.publish(promptEvent({ seq: 2, tier: 2 }), { agentId: 'agent-7' });

    await vi.waitFor(() => expect(sink.received).toHaveLength(2));
    const byType = Object.fromEntries(sink.messages.map((m) => [m.type, m]));
    expect(byType.priority).toEqual<AgentPriorityMessage>({
      type: 'priority',
      callId: 'call-42',
      tier: 2,
      previousTier: 1,
      reason: 'agitation 0.71 ≥ 0.55 for 1.5 s',
      at,
    });
    expect(byType.prompt).toEqual<AgentPromptMessage>({
      type: 'prompt',
      callId: 'call-42',
      promptId: 'call-42_2_prompt',
      tier: 2,
      emotion: 'anger',
      score: 0.71,
      text: 'I can hear how frustrating this has been.',
      language: 'en',
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
        at,
      },
    ]);
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
  });

  it('passes the handover context to routing on tier 4', async () => {
    await startWorker();
    const handover = { trigger: 'repeated-escalations' as const, peakAgitation: 0.83, msAtTier: { 1: 4000, 2: 9000, 3: 6000, 4: 0 }, escalationCount: 3 };
    await publisher.publish(handoverEvent({ seq: 5, tier: 4, previousTier: 2 }, handover), { agentId: undefined });
    await vi.waitFor(() => expect(routing.changes).toHaveLength(1));
    expect(routing.changes[0]).toMatchObject({ tier: 4, priority: 1, agentId: null, handover });
  });

  it('keeps messages for an offline agent and delivers them when the agent connects', async () => {
    await startWorker();
    await publisher.publish(priorityEvent({ seq: 1 }), { agentId: 'agent-9' });
    await publisher.publish(promptEvent({ seq: 2 }), { agentId: 'agent-9' });
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
    const results = (await inspect.getJobs(['completed'])).map((j) => j.returnvalue as { delivered: number });
    expect(results).toEqual([{ delivered: 0 }, { delivered: 0 }]);
    expect(hub.pendingCount('agent-9')).toBe(2);

    const sink = new CollectingSink();
    hub.register('agent-9', sink);
    expect(sink.messages.map((m) => `${m.type}:${m.callId}`)).toEqual(['priority:call-42', 'prompt:call-42']);
  });

  it('fails a malformed job at once with a clear error and keeps processing', async () => {
    const { logger, records } = captureLogger();
    const sink = new CollectingSink();
    hub.register('agent-7', sink);
    await startWorker(logger);

    const bad = await inspect.add('prompt', { schemaVersion: 1, type: 'prompt', callId: 'call-x', tier: 9 }, { attempts: 3, priority: 1 });
    await vi.waitFor(async () => expect(await bad.getState()).toBe('failed'));
    const failed = await inspect.getJob(String(bad.id));
    expect(failed?.failedReason).toMatch(/^UT_ERR_INVALID_JOB: invalid "prompt" job: agentId must be a non-empty string or null; tier must be 1, 2, 3 or 4 \(got 9\)/);
    expect(failed?.attemptsMade).toBe(1);
    expect(records.find((r) => r.msg === 'malformed routing job rejected')).toMatchObject({ level: 50, jobName: 'prompt' });
    expect(records.find((r) => r.msg === 'routing job failed for good')).toBeDefined();

    await publisher.publish(promptEvent(), { agentId: 'agent-7' });
    await vi.waitFor(() => expect(sink.received).toHaveLength(1));
    expect(worker?.worker.isRunning()).toBe(true);
  });

  it('skips a priority job older than one already applied for the call', async () => {
    // Queued before the worker starts: tier 3 (BullMQ priority 2) runs before tier 2 (priority 3).
    const older = toJobData(priorityEvent({ seq: 4, tier: 2, previousTier: 1 }), { agentId: 'agent-7' }, new Date(at));
    const newer = toJobData(priorityEvent({ seq: 5, tier: 3, previousTier: 2 }), { agentId: 'agent-7' }, new Date(at));
    await inspect.add('priority', older, { jobId: 'call-42_4_priority', priority: 3 });
    await inspect.add('priority', newer, { jobId: 'call-42_5_priority', priority: 2 });
    const sink = new CollectingSink();
    hub.register('agent-7', sink);
    await startWorker();
    await vi.waitFor(async () => expect(await inspect.getCompletedCount()).toBe(2));
    expect(routing.changes.map((c) => c.seq)).toEqual([5]);
    expect(sink.messages.map((m) => m.tier)).toEqual([3]);
    expect((await inspect.getJob('call-42_4_priority'))?.returnvalue).toEqual({ delivered: 0, stale: true });
  });

  it('retries a job when the routing system fails, telling the agent only once it succeeds', async () => {
    let failures = 1;
    routing.priorityChanged = (change) => {
      if (failures-- > 0) throw new Error('ACD unavailable');
      routing.changes.push(change);
    };
    const sink = new CollectingSink();
    hub.register('agent-7', sink);
    await startWorker();
    await inspect.add('priority', toJobData(priorityEvent(), { agentId: 'agent-7' }, new Date(at)), {
      jobId: 'call-42_1_priority',
      attempts: 3,
      backoff: { type: 'fixed', delay: 10 },
      priority: 3,
    });
    await vi.waitFor(() => expect(sink.received).toHaveLength(1));
    expect(routing.changes).toHaveLength(1);
    expect((await inspect.getJob('call-42_1_priority'))?.attemptsMade).toBe(2);
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
      await startWorker();
      await publisher.publish(promptEvent({ language: 'zh-CN', text: '非常理解您现在的心情。' }), { agentId: 'agent-ws' });
      await vi.waitFor(() => expect(received).toHaveLength(1));
      expect(received[0]).toMatchObject({ type: 'prompt', promptId: 'call-42_2_prompt', text: '非常理解您现在的心情。', language: 'zh-CN' });

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
