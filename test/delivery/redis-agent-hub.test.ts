import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAgentMailbox, type AgentMailbox } from '../../src/delivery/agent-mailbox.js';
import type { AgentPromptMessage, AgentSink } from '../../src/delivery/agent-messages.js';
import { createRedisAgentHub, type RedisAgentHub } from '../../src/delivery/redis-agent-hub.js';
import { Redis as IORedis } from 'ioredis';
import { newRedis, RedisOutageProxy, silentLogger, uniqueQueueName } from '../queue/helpers.js';

class Sink implements AgentSink {
  readonly texts: string[] = [];
  send(text: string): void {
    this.texts.push(text);
  }
  get seqs(): number[] {
    return this.texts.map((t) => (JSON.parse(t) as AgentPromptMessage).seq);
  }
}

const prompt = (seq: number, callId = 'call-h'): AgentPromptMessage => ({
  type: 'prompt',
  callId,
  promptId: `${callId}_MZ_${seq}_prompt`,
  streamId: 'MZ',
  seq,
  tier: 2,
  emotion: 'anger',
  score: 0.7,
  text: `line ${seq}`,
  language: 'en',
  audioMs: 12_000,
  at: '2025-03-01T10:00:00.000Z',
});

describe('Redis agent hub (one per instance)', () => {
  let redis: Redis;
  let namespace: string;
  let mailbox: AgentMailbox;
  const opened: { hub: RedisAgentHub; subscriber: Redis }[] = [];
  const proxies: RedisOutageProxy[] = [];

  const instance = (pendingTtlMs?: number) => {
    const subscriber = newRedis();
    const hub = createRedisAgentHub({ redis, subscriber, namespace, logger: silentLogger(), ...(pendingTtlMs ? { pendingTtlMs } : {}) });
    opened.push({ hub, subscriber });
    return { hub, subscriber };
  };
  const post = (agentId: string, seq: number, callId?: string) => mailbox.post(agentId, prompt(seq, callId), { callId: callId ?? 'call-h', streamId: 'MZ', seq, tier: 2 });
  const connect = async (hub: RedisAgentHub, agentId: string, sink = new Sink()) => {
    hub.register(agentId, sink);
    await hub.idle();
    return sink;
  };

  beforeEach(() => {
    redis = newRedis();
    namespace = uniqueQueueName();
    mailbox = createAgentMailbox({ redis, namespace });
  });
  afterEach(async () => {
    for (const { hub, subscriber } of opened.splice(0)) {
      await hub.close();
      subscriber.disconnect();
    }
    for (const p of proxies.splice(0)) await p.stop();
    const keys = await redis.keys(`ut:${namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('when an instance dies with the agent connected, the agent gets what it had not sent on reconnecting elsewhere', async () => {
    const x = instance();
    const y = instance();
    const onX = await connect(x.hub, 'ag');
    await post('ag', 1);
    await vi.waitFor(() => expect(onX.seqs).toEqual([1]));
    // Instance X dies: no unregister, its Redis connections just drop.
    const ended = new Promise((resolve) => x.subscriber.once('end', resolve));
    x.subscriber.disconnect();
    await ended;
    await post('ag', 2);
    await post('ag', 3);
    // The softphone reconnects through the load balancer to Y.
    const onY = await connect(y.hub, 'ag');
    expect(onY.seqs).toEqual([2, 3]);
    await post('ag', 4);
    await vi.waitFor(() => expect(onY.seqs).toEqual([2, 3, 4]));
    expect(onX.seqs).toEqual([1]);
  });

  it('gives every socket of an agent each message once, on whichever instances they are', async () => {
    const x = instance();
    const y = instance();
    const onX = await connect(x.hub, 'ag');
    const onY = await connect(y.hub, 'ag');
    const bystander = await connect(y.hub, 'other');
    for (let seq = 1; seq <= 5; seq++) await post('ag', seq);
    await vi.waitFor(() => expect(onX.seqs).toHaveLength(5));
    await vi.waitFor(() => expect(onY.seqs).toHaveLength(5));
    await x.hub.syncAll();
    await y.hub.syncAll();
    expect(onX.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(onY.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(bystander.texts).toEqual([]);
  });

  it('drops a socket whose send throws and still serves the others', async () => {
    const x = instance();
    const good = await connect(x.hub, 'ag');
    x.hub.register('ag', {
      send() {
        throw new Error('socket gone');
      },
    });
    await x.hub.idle();
    await post('ag', 1);
    await vi.waitFor(() => expect(good.seqs).toEqual([1]));
    expect(x.hub.connectedAgents().get('ag')).toBe(1);
  });

  it('does not deliver pending messages older than the TTL', async () => {
    const x = instance(200);
    await post('ag', 1);
    await new Promise((r) => setTimeout(r, 300));
    await post('ag', 2);
    const sink = await connect(x.hub, 'ag');
    expect(sink.seqs).toEqual([2]);
  });

  it('stops listening for an agent once its last socket is gone, and starts from the shared cursor on return', async () => {
    const x = instance();
    const sink = new Sink();
    const unregister = x.hub.register('ag', sink);
    await x.hub.idle();
    await post('ag', 1);
    await vi.waitFor(() => expect(sink.seqs).toEqual([1]));
    unregister();
    await x.hub.idle();
    expect(x.hub.connectedAgents().has('ag')).toBe(false);
    await post('ag', 2);
    await x.hub.syncAll();
    expect(sink.seqs).toEqual([1]);
    const back = await connect(x.hub, 'ag');
    expect(back.seqs).toEqual([2]);
  });

  it('catches up on messages posted while its subscriber connection was down', async () => {
    const proxy = new RedisOutageProxy();
    await proxy.start();
    const subscriber = new IORedis(proxy.port, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    subscriber.on('error', () => undefined);
    const hub = createRedisAgentHub({ redis, subscriber, namespace, logger: silentLogger() });
    opened.push({ hub, subscriber });
    const sink = await connect(hub, 'ag');
    await post('ag', 1);
    await vi.waitFor(() => expect(sink.seqs).toEqual([1]));
    await proxy.stop();
    await vi.waitFor(() => expect(subscriber.status).not.toBe('ready'));
    await post('ag', 2); // the nudge is lost: nobody hears it
    await proxy.start();
    await vi.waitFor(() => expect(sink.seqs).toEqual([1, 2]), { timeout: 5000 });
    proxies.push(proxy);
  });

  it('sends a message ahead of the inbox to the local sockets only; the inbox copy reaches each socket that lacked it, and moves the cursor', async () => {
    const x = instance();
    const y = instance();
    expect(x.hub.sendLocal('ag', prompt(1))).toBe(0); // no socket of the agent here: left to the inbox
    const a = await connect(x.hub, 'ag');
    const remote = await connect(y.hub, 'ag');
    expect(x.hub.sendLocal('ag', prompt(1))).toBe(1);
    expect(a.seqs).toEqual([1]);
    expect(remote.seqs).toEqual([]);
    // A second local socket, connected after the message went ahead: it gets the inbox copy.
    const late = await connect(x.hub, 'ag');
    await post('ag', 1);
    await post('ag', 2);
    await vi.waitFor(() => expect(late.seqs).toEqual([1, 2]));
    await vi.waitFor(() => expect(remote.seqs).toEqual([1, 2]));
    await x.hub.idle();
    expect(a.seqs).toEqual([1, 2]);
    // The shared cursor passed both entries: an agent connecting anew has nothing pending.
    const z = instance();
    const fresh = await connect(z.hub, 'ag');
    await new Promise((r) => setTimeout(r, 100));
    expect(fresh.seqs).toEqual([]);
  });

  it('forgets a message sent ahead whose inbox copy never comes, after the pending TTL', async () => {
    const x = instance(200);
    const a = await connect(x.hub, 'ag');
    expect(x.hub.sendLocal('ag', prompt(1))).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    // Remembering a newer one sweeps the expired entry: its late copy is then delivered, not skipped.
    expect(x.hub.sendLocal('ag', prompt(2))).toBe(1);
    await post('ag', 1);
    await vi.waitFor(() => expect(a.seqs).toEqual([1, 2, 1]));
  });
});
