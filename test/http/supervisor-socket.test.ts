/**
 * The supervisor feed across two "instances" (each its own feed, subscriber
 * connection, call observer and WebSocket server) on one real Redis: calls
 * reported on one are seen on both, alerts are acknowledged once for all.
 */
import fastifyWebsocket from '@fastify/websocket';
import fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { ObservedCall } from '../../src/calls/call-observer.js';
import { createCallFeedObserver, type CallFeedObserver } from '../../src/delivery/call-feed-observer.js';
import { createSupervisorFeed, type SupervisorFeed } from '../../src/delivery/supervisor-feed.js';
import type { SupervisorServerMessage } from '../../src/delivery/supervisor-messages.js';
import { handleSupervisorSocket, supervisorIdentity, type SupervisorQuery } from '../../src/http/supervisor-socket.js';
import type { ScoredWindow } from '../../src/model/types.js';
import { collectJson, openSocket, waitFor } from '../integration/helpers.js';
import { newRedis, priorityEvent, promptEvent, silentLogger, uniqueQueueName } from '../queue/helpers.js';

interface Instance {
  feed: SupervisorFeed;
  observer: CallFeedObserver;
  app: FastifyInstance;
  url: string;
  subscriber: Redis;
}

const window = (endMs: number, anger: number): ScoredWindow => ({
  startMs: endMs - 2000,
  endMs,
  scores: { neutral: 1 - anger, anger, happiness: 0, sadness: 0, arousal: anger, agitation: anger },
});

describe('supervisor feed over Redis, two instances', () => {
  let redis: Redis;
  let namespace: string;
  let instances: Instance[];
  const sockets: WebSocket[] = [];

  async function instance(id: string): Promise<Instance> {
    const subscriber = newRedis();
    const feed = createSupervisorFeed({ redis, subscriber, namespace, logger: silentLogger() });
    const observer = createCallFeedObserver({ feed, instanceId: id });
    const app = fastify();
    await app.register(fastifyWebsocket);
    app.get<{ Querystring: SupervisorQuery }>('/v1/supervisor/stream', { websocket: true }, (socket, request) => {
      handleSupervisorSocket(socket, request.query, feed, silentLogger());
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await feed.ready();
    return { feed, observer, app, url: `ws://127.0.0.1:${port}`, subscriber };
  }

  const connect = async (inst: Instance, query = ''): Promise<{ ws: WebSocket; feed: SupervisorServerMessage[] }> => {
    const ws = await openSocket(`${inst.url}/v1/supervisor/stream${query}`);
    sockets.push(ws);
    const feed = collectJson<SupervisorServerMessage>(ws);
    await waitFor(() => (feed.some((m) => m.type === 'snapshot') ? true : undefined), 'snapshot');
    return { ws, feed };
  };

  beforeEach(async () => {
    redis = newRedis();
    namespace = uniqueQueueName();
    instances = [await instance('one'), await instance('two')];
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    for (const i of instances) {
      i.observer.close();
      await i.app.close();
      await i.feed.close();
      await i.subscriber.quit();
    }
    const keys = await redis.keys(`ut:${namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  const call = (callId: string): ObservedCall => ({ callId, streamId: `MZ-${callId}`, agentId: 'ag-1', source: 'twilio', language: 'en', startedAt: new Date() });

  it('streams a call reported on one instance to supervisors on both, with throttled scores, tier changes, an alert, a prompt and the summary', async () => {
    const [one, two] = instances as [Instance, Instance];
    const s1 = await connect(one);
    const s2 = await connect(two);
    const c = call('CA-feed-1');
    one.observer.callStarted(c, { team: 'red', queue: 'billing' });
    // 4 windows per second of audio for 3 s, calm then angry.
    for (let ms = 2000; ms <= 5000; ms += 250) one.observer.windowScored(c, window(ms, ms < 4000 ? 0.1 : 0.9), 1, ms < 4000 ? 0.1 : 0.9);
    one.observer.policyEvent(c, priorityEvent({ callId: c.callId, seq: 1, tier: 3, previousTier: 1, reason: 'agitation 0.90 ≥ 0.80 for 1.0 s', audioMs: 5000 }));
    one.observer.policyEvent(c, promptEvent({ callId: c.callId, seq: 2, tier: 3 }));
    one.observer.windowScored(c, window(5250, 0.9), 3, 0.9);
    one.observer.callEnded(c, 'hangup', 6000);

    for (const s of [s1, s2]) {
      const ended = await waitFor(() => s.feed.find((m) => m.type === 'call.ended'), 'call.ended');
      const types = s.feed.map((m) => m.type);
      expect(types[0]).toBe('snapshot');
      expect(types.filter((t) => t !== 'call.scores')).toEqual(['snapshot', 'call.started', 'tier.changed', 'alert', 'prompt', 'call.ended']);
      // Windows at 2000..5250 ms every 250 ms: one scores message per 1000 ms of audio.
      expect(s.feed.filter((m) => m.type === 'call.scores').map((m) => (m.type === 'call.scores' ? m.audioMs : 0))).toEqual([2000, 3000, 4000, 5000]);
      expect(s.feed.find((m) => m.type === 'call.started')).toMatchObject({ call: { callId: c.callId, instanceId: 'one', team: 'red', queue: 'billing', tier: 1, agentId: 'ag-1' } });
      expect(s.feed.find((m) => m.type === 'tier.changed')).toMatchObject({ callId: c.callId, from: 1, to: 3, audioMs: 5000 });
      expect(s.feed.find((m) => m.type === 'alert')).toMatchObject({ alert: { alertId: `${c.callId}|MZ-${c.callId}|1`, tier: 3, reason: 'agitation 0.90 ≥ 0.80 for 1.0 s', ackedBy: null } });
      expect(s.feed.find((m) => m.type === 'prompt')).toMatchObject({ promptId: `${c.callId}_MZ-${c.callId}_2_prompt`, tier: 3 });
      for (const m of s.feed) expect(m.type === 'alert' ? m.alert : m).not.toHaveProperty('callEndedAt');
      expect(ended).toMatchObject({
        summary: { endReason: 'hangup', audioMs: 6000, prompts: 1, escalations: 1, peakAgitation: 0.9, msAtTier: { 1: 5000, 2: 0, 3: 1000, 4: 0 } },
      });
    }
  });

  it('marks the alert and prompt of a call whose events came after its stream ended, live and in the snapshot', async () => {
    const [one, two] = instances as [Instance, Instance];
    const s1 = await connect(one);
    const c = call('CA-feed-late');
    one.observer.callStarted(c, {});
    // The gateway stopped the stream while the instance was behind: the rest is decided after the call.
    const streamEndedAt = new Date(Date.now() - 1500).toISOString();
    const late: ObservedCall = { ...c, streamEndedAt };
    one.observer.policyEvent(late, priorityEvent({ callId: c.callId, seq: 1, tier: 3, previousTier: 1, audioMs: 5000 }));
    one.observer.policyEvent(late, promptEvent({ callId: c.callId, seq: 2, tier: 3 }));
    const alert = await waitFor(() => s1.feed.find((m) => m.type === 'alert'), 'alert');
    expect(alert).toMatchObject({ alert: { alertId: `${c.callId}|MZ-${c.callId}|1`, callEndedAt: streamEndedAt } });
    expect(await waitFor(() => s1.feed.find((m) => m.type === 'prompt'), 'prompt')).toMatchObject({ callEndedAt: streamEndedAt });
    // A supervisor connecting later sees it so in the snapshot (the stored alert).
    const s2 = await connect(two);
    const snapshot = s2.feed.find((m) => m.type === 'snapshot');
    expect(snapshot?.type === 'snapshot' ? snapshot.alerts : []).toEqual([expect.objectContaining({ callId: c.callId, callEndedAt: streamEndedAt })]);
  });

  it('sends the snapshot of live calls and open alerts on any instance, filtered by team', async () => {
    const [one, two] = instances as [Instance, Instance];
    const red = call('CA-red');
    const blue = call('CA-blue');
    one.observer.callStarted(red, { team: 'red' });
    two.observer.callStarted(blue, { team: 'blue' });
    one.observer.policyEvent(red, priorityEvent({ callId: red.callId, seq: 1, tier: 4, previousTier: 1 }));
    // Wait until the writes are in Redis (a supervisor sees the alert event).
    const all = await connect(two);
    expect(all.feed[0]?.type).toBe('snapshot');
    await waitFor(async () => ((await two.feed.snapshot({ team: null, queue: null })).alerts.length === 1 ? true : undefined), 'the alert stored');
    const again = await connect(two);
    const snap = again.feed[0];
    expect(snap?.type).toBe('snapshot');
    if (snap?.type !== 'snapshot') return;
    expect(snap.calls.map((x) => [x.callId, x.instanceId, x.tier]).sort()).toEqual([
      ['CA-blue', 'two', 1],
      ['CA-red', 'one', 4],
    ]);
    expect(snap.alerts.map((x) => [x.callId, x.tier])).toEqual([['CA-red', 4]]);
    const blueOnly = await connect(one, '?team=blue');
    expect(blueOnly.feed[0]).toMatchObject({ type: 'snapshot', calls: [{ callId: 'CA-blue' }], alerts: [] });
  });

  it('records the first ack of an alert for everyone and answers a later ack with it', async () => {
    const [one, two] = instances as [Instance, Instance];
    const alice = await connect(one, '?supervisorId=alice');
    const bob = await connect(two, '?supervisorId=bob');
    const c = call('CA-ack');
    one.observer.callStarted(c, {});
    one.observer.policyEvent(c, priorityEvent({ callId: c.callId, seq: 1, tier: 3, previousTier: 2 }));
    const alert = await waitFor(() => bob.feed.find((m) => m.type === 'alert'), 'alert on two');
    const alertId = alert.type === 'alert' ? alert.alert.alertId : '';

    bob.ws.send(JSON.stringify({ type: 'ack', alertId }));
    for (const s of [alice, bob]) {
      const acked = await waitFor(() => s.feed.find((m) => m.type === 'alert.acked'), 'alert.acked');
      expect(acked).toMatchObject({ alertId, callId: c.callId, by: 'bob' });
    }
    alice.ws.send(JSON.stringify({ type: 'ack', alertId }));
    const answers = await waitFor(() => {
      const a = alice.feed.filter((m) => m.type === 'alert.acked');
      return a.length === 2 ? a : undefined;
    }, 'the answer to alice');
    expect(answers[1]).toMatchObject({ by: 'bob' });
    // Only one broadcast: bob got no second alert.acked.
    expect(bob.feed.filter((m) => m.type === 'alert.acked')).toHaveLength(1);
    expect(await redis.get(`ut:${namespace}:alert:${encodeURIComponent(alertId)}`)).toContain('"ackedBy":"bob"');
  });

  it('publishes an event about a call from an instance that does not host it (prompt ack), with the call\'s scope', async () => {
    const [one, two] = instances as [Instance, Instance];
    const red = await connect(one, '?team=red');
    const blue = await connect(one, '?team=blue');
    const c = call('CA-remote');
    one.observer.callStarted(c, { team: 'red' });
    await waitFor(() => red.feed.find((m) => m.type === 'call.started'), 'call.started');
    const at = new Date().toISOString();
    expect(await two.feed.publishForCall(c.callId, { type: 'prompt.ack', at, callId: c.callId, promptId: 'p-1', action: 'used' })).toBe(true);
    expect(await two.feed.publishForCall('CA-unknown', { type: 'prompt.ack', at, callId: 'CA-unknown', promptId: 'p-2', action: 'used' })).toBe(false);
    await waitFor(() => red.feed.find((m) => m.type === 'prompt.ack'), 'prompt.ack');
    const history = await two.feed.history(c.callId);
    expect(history.map((m) => m.type)).toEqual(['call.started', 'prompt.ack']);
    expect(blue.feed.filter((m) => m.type !== 'snapshot')).toEqual([]);
  });

  it('announces the end of a call whose instance died (its live state expired), once, with a summary from the history', async () => {
    const [one, two] = instances as [Instance, Instance];
    const s = await connect(two);
    const c = call('CA-lost');
    one.observer.callStarted(c, { team: 'red' });
    for (let ms = 1000; ms <= 4000; ms += 1000) one.observer.windowScored(c, window(ms, 0.5), 1, 0.5);
    one.observer.policyEvent(c, priorityEvent({ callId: c.callId, seq: 1, tier: 2, previousTier: 1, audioMs: 4000 }));
    one.observer.windowScored(c, window(5000, 0.8), 2, 0.8);
    await waitFor(() => (s.feed.filter((m) => m.type === 'call.scores').length === 5 ? true : undefined), 'the scores');
    // Instance one dies: no more refreshes, so its live-call key expires (here: at once).
    one.observer.close();
    await redis.del(`ut:${namespace}:live:CA-lost`);
    expect(await two.feed.sweepLostCalls()).toEqual(['CA-lost']);
    expect(await one.feed.sweepLostCalls()).toEqual([]);
    const ended = await waitFor(() => s.feed.find((m) => m.type === 'call.ended'), 'call.ended');
    expect(ended).toMatchObject({
      callId: 'CA-lost',
      summary: { endReason: 'instance-lost', audioMs: 5000, peakAgitation: 0.8, escalations: 1, msAtTier: { 1: 4000, 2: 1000, 3: 0, 4: 0 } },
    });
    const again = await connect(one);
    expect(again.feed[0]).toMatchObject({ type: 'snapshot', calls: [] });
  });

  it('answers bad messages with errors and closes with 1008 after ten in a row', async () => {
    const [one] = instances as [Instance];
    const s = await connect(one);
    const closed = new Promise<number>((resolve) => s.ws.once('close', (code) => resolve(code)));
    s.ws.send('{"type":"hello"}');
    const first = await waitFor(() => s.feed.find((m) => m.type === 'error'), 'error');
    expect(first).toMatchObject({ message: 'unknown message type "hello"; expected "ack"' });
    for (let i = 0; i < 9; i++) s.ws.send('garbage');
    expect(await closed).toBe(1008);
  });
});

describe('supervisorIdentity', () => {
  it('names acks after the verified token, never the query, when a principal is there', () => {
    expect(supervisorIdentity({ supervisorId: 'impostor' }, { sub: 'sup-dana' })).toBe('sup-dana');
    expect(supervisorIdentity({}, { sub: 'sup-dana' })).toBe('sup-dana');
  });
  it('falls back to ?supervisorId= (AUTH=off) or "anonymous"', () => {
    expect(supervisorIdentity({ supervisorId: ' sup-lee ' })).toBe('sup-lee');
    expect(supervisorIdentity({})).toBe('anonymous');
  });
});
