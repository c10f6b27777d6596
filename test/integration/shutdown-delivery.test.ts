/**
 * Shutdown order: a call's last windows are scored during shutdown, and the
 * prompts they produce still reach the agent's socket before it is closed.
 * The model is held back by a gate so that, deterministically, every policy
 * event of the call is decided after shutdown began.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createAgentMailbox } from '../../src/delivery/agent-mailbox.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { flushDelivery } from '../../src/delivery/delivery-flush.js';
import { createPriorityGuard } from '../../src/delivery/priority-guard.js';
import { createRedisAgentHub } from '../../src/delivery/redis-agent-hub.js';
import { createRoutingWorker } from '../../src/delivery/routing-worker.js';
import type { EmotionModel } from '../../src/model/types.js';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import { createBullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { closed, collectJson, getJson, loadFixtureMuLaw, loadTestModel, openSocket, REDIS_URL, TwilioGateway, uniqueName, waitFor } from './helpers.js';
import { silentLogger } from '../queue/helpers.js';

describe('shutdown', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('delivers the prompts of windows scored during shutdown before the agent socket closes', async () => {
    const queueName = uniqueName('ut-test-shutdown');
    const config = loadConfig({ AUTH: 'off', PORT: '0', REDIS_URL, ROUTING_QUEUE: queueName });
    const logger = silentLogger();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const subscriber = new Redis(REDIS_URL);
    cleanup.push(() => redis.quit(), () => subscriber.quit());
    const inspect = new Queue(queueName, { connection: redis });
    cleanup.push(async () => {
      await inspect.obliterate({ force: true });
      await inspect.close();
    });

    const real = await loadTestModel();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const model: EmotionModel = {
      featureNames: real.featureNames,
      version: real.version,
      ...(real.callerScoreBaseline ? { callerScoreBaseline: real.callerScoreBaseline } : {}),
      score: async (batch) => {
        await gate;
        return real.score(batch);
      },
      close: async () => undefined,
    };

    const hub = createRedisAgentHub({ redis, subscriber, namespace: queueName, logger });
    const publisher = createBullmqPublisher({ connection: redis, queueName, logger });
    const worker = createRoutingWorker({
      connection: redis,
      queueName,
      logger,
      mailbox: createAgentMailbox({ redis, namespace: queueName }),
      guard: createPriorityGuard({ redis, namespace: queueName }),
    });
    cleanup.push(() => worker.close(), () => publisher.close(), () => hub.close());
    await worker.waitUntilReady();
    const app = await buildApp(config, {
      logger,
      model,
      policyFactory: createEscalationPolicy(),
      publisher,
      hub,
      redis,
      flushDelivery: () => flushDelivery({ queue: publisher.queue, publisherDrained: () => publisher.drained(), syncAgents: () => hub.syncAll(), logger }),
    }, { session: { maxPendingWindows: 100_000 } }); // no backpressure while the gate holds scoring
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const base = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const agent = await openSocket(`ws://${base}/v1/agents/agent-final/stream`);
    const received = collectJson<AgentMessage>(agent);
    const order: string[] = [];
    agent.on('message', () => order.push('message'));
    const agentClosed = closed(agent).then((c) => {
      order.push('close');
      return c;
    });
    await waitFor(() => (hub.connectedAgents().get('agent-final') === 1 ? true : undefined), 'agent registered');
    await hub.idle();

    const audio = await loadFixtureMuLaw('calm-then-angry');
    const gw = await TwilioGateway.open(`ws://${base}`);
    gw.start({ agentId: 'agent-final' }).audio(audio);
    const callSid = gw.ids.callSid;
    await waitFor(async () => {
      const { body } = await getJson<{ calls: Array<{ callId: string; audioMs: number }> }>(`http://${base}/v1/calls`);
      return body.calls.find((c) => c.callId === callSid && c.audioMs === Math.round((audio.length * 1000) / 8000));
    }, 'all audio received');
    // Nothing scored yet, so nothing decided yet.
    expect(app.callRegistry.detail(callSid)?.events).toEqual([]);

    const closing = app.close();
    open();
    await closing;
    expect((await agentClosed).code).toBe(1001);

    const detail = app.callRegistry.detail(callSid)!;
    expect(detail).toMatchObject({ state: 'ended', endReason: 'shutdown' });
    const prompts = detail.events.filter((e) => e.type === 'prompt');
    expect(prompts.length).toBeGreaterThan(0);
    // Every event decided during shutdown reached the agent, before the close frame.
    const mine = received.filter((m) => m.callId === callSid);
    expect(mine.map((m) => m.seq).sort((a, b) => a - b)).toEqual(detail.events.map((e) => e.seq));
    expect(order.at(-1)).toBe('close');
  }, 60_000);
});
