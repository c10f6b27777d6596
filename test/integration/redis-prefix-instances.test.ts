/**
 * Scale-out on a Redis Cluster-ready key layout: two instances on one Redis,
 * one routing queue and one hash-tag REDIS_PREFIX. A call streams into A,
 * its agent's softphone and a supervisor are on B. Afterwards every Redis
 * key and pub/sub channel the call touched (BullMQ's and Undertone's) is
 * under the prefix and in one hash slot, as Redis Cluster requires of
 * BullMQ's and the delivery scripts' multi-key commands.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import type { SupervisorServerMessage } from '../../src/delivery/supervisor-messages.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, REDIS_URL, startTestService, TwilioGateway, twilioCallSid, waitFor, type TestService } from './helpers.js';

const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

describe('two instances sharing one Redis under a hash-tag REDIS_PREFIX', () => {
  const tagName = `ut-${randomUUID().slice(0, 8)}`;
  const prefix = `{${tagName}}`;
  let a: TestService;
  let b: TestService;
  let spy: Redis;
  const channels = new Set<string>();
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    a = await startTestService({ INSTANCE_ID: 'tag-a', REDIS_PREFIX: prefix });
    b = await startTestService({ INSTANCE_ID: 'tag-b', REDIS_PREFIX: prefix, ROUTING_QUEUE: a.queueName });
    // Every channel published on that mentions the queue, whatever its prefix.
    spy = new Redis(REDIS_URL);
    spy.on('pmessage', (_pattern: string, channel: string) => channels.add(channel));
    await spy.psubscribe(`*${a.queueName}*`);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await spy?.quit();
    await b?.close();
    await a?.close();
  });

  it("delivers A's call to its agent on B, shows it to B's supervisor, and keeps every key and channel in the prefix's slot", async () => {
    const sup = await openSocket(`${b.wsUrl}/v1/supervisor/stream`);
    sockets.push(sup);
    const feed = collectJson<SupervisorServerMessage>(sup);
    const agent = await openSocket(`${b.wsUrl}/v1/agents/tag-agent/stream`);
    sockets.push(agent);
    const got = collectJson<AgentMessage>(agent);
    await waitFor(() => feed.find((m) => m.type === 'snapshot'), 'snapshot');

    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(a.wsUrl, callSid);
    gw.start({ agentId: 'tag-agent' }).audio(await loadFixtureMuLaw('calm-then-angry')).stop();
    const detail = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${a.url}/v1/calls/${callSid}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the call to end on A', 60_000);
    const prompts = detail.events.filter((e) => e.type === 'prompt');
    expect(prompts.length).toBeGreaterThan(0);
    await waitFor(() => (got.some((m) => m.type === 'prompt' && m.callId === callSid) ? true : undefined), 'a prompt on the agent socket on B');
    const started = await waitFor(() => feed.find((m) => m.type === 'call.started' && m.call.callId === callSid), "A's call on B's feed");
    expect(started.type === 'call.started' && started.call.instanceId).toBe('tag-a');
    await waitFor(() => feed.find((m) => m.type === 'call.ended' && m.callId === callSid), 'call.ended on B');
    // B answers the ended call from the summary kept in Redis (under the prefix too).
    expect(await getJson(`${b.url}/v1/calls/${callSid}`)).toMatchObject({ status: 200, body: { state: 'ended', summary: { callId: callSid } } });

    // Every key that names the queue, under any prefix.
    const keys: string[] = [];
    // The spy connection is in subscriber mode; scan on a plain one.
    const scanner = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, batch] = await scanner.scan(cursor, 'MATCH', `*${a.queueName}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    await scanner.quit();
    const kinds = (re: RegExp) => keys.filter((k) => re.test(k)).length;
    // The call really touched BullMQ's keys and Undertone's delivery, feed and summary keys.
    expect(kinds(/:bull:[^:]+:(wait|completed|events|meta|id)$/)).toBeGreaterThan(0);
    expect(kinds(/:ut:[^:]+:agent:tag-agent:inbox$/)).toBe(1);
    expect(kinds(/:ut:[^:]+:(order|handled):/)).toBeGreaterThan(0);
    expect(kinds(/:ut:[^:]+:history:/)).toBe(1);
    expect(kinds(/:ut:[^:]+:summary:/)).toBe(1);
    const outside = keys.filter((k) => !k.startsWith(`${prefix}:`));
    expect(outside).toEqual([]);
    expect(new Set(keys.map(calculateSlot))).toEqual(new Set([calculateSlot(tagName)]));

    // Pub/sub: the agent nudges and the supervisor feed, same prefix and slot.
    expect([...channels].some((c) => c.endsWith(':supervisor'))).toBe(true);
    expect([...channels].some((c) => c.endsWith(':notify'))).toBe(true);
    expect([...channels].filter((c) => !c.startsWith(`${prefix}:`))).toEqual([]);
    expect(new Set([...channels].map(calculateSlot))).toEqual(new Set([calculateSlot(tagName)]));
  }, 120_000);
});
