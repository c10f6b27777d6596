/**
 * The supervisor feed's batched writes (src/delivery/feed-writer.ts) on a
 * real Redis: many calls' updates of one flush go out as one transaction,
 * and arrive intact, in order, on the channel, in the histories and in the
 * live-call state.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ObservedCall } from '../../src/calls/call-observer.js';
import { createCallFeedObserver, type CallFeedObserver } from '../../src/delivery/call-feed-observer.js';
import { deliveryKeys } from '../../src/delivery/delivery-keys.js';
import { FeedWriter } from '../../src/delivery/feed-writer.js';
import { createSupervisorFeed, type FeedScope, type SupervisorFeed } from '../../src/delivery/supervisor-feed.js';
import type { SupervisorFeedEvent } from '../../src/delivery/supervisor-messages.js';
import type { ScoredWindow } from '../../src/model/types.js';
import { waitFor } from '../integration/helpers.js';
import { newRedis, silentLogger, uniqueQueueName } from '../queue/helpers.js';

const window = (endMs: number, anger: number): ScoredWindow => ({
  startMs: endMs - 2000,
  endMs,
  scores: { neutral: 1 - anger, anger, happiness: 0, sadness: 0, arousal: anger, agitation: anger },
});
const call = (callId: string): ObservedCall => ({ callId, streamId: `MZ-${callId}`, agentId: `ag-${callId}`, source: 'twilio', language: 'en', startedAt: new Date() });

describe('supervisor feed: batched Redis writes', () => {
  let redis: Redis;
  let subscribers: Redis[];
  let feeds: SupervisorFeed[];
  let observers: CallFeedObserver[];
  let namespace: string;

  const newFeed = async (options: { flushEveryMs?: number; maxHistory?: number } = {}): Promise<SupervisorFeed> => {
    const subscriber = newRedis();
    subscribers.push(subscriber);
    const feed = createSupervisorFeed({ redis, subscriber, namespace, logger: silentLogger(), sweepEveryMs: 0, ...options });
    feeds.push(feed);
    await feed.ready();
    return feed;
  };
  const collect = (feed: SupervisorFeed): { msg: SupervisorFeedEvent; scope: FeedScope }[] => {
    const got: { msg: SupervisorFeedEvent; scope: FeedScope }[] = [];
    feed.listen((msg, scope) => got.push({ msg, scope }));
    return got;
  };

  beforeEach(() => {
    redis = newRedis();
    subscribers = [];
    feeds = [];
    observers = [];
    namespace = uniqueQueueName();
  });
  afterEach(async () => {
    for (const o of observers) o.close();
    for (const f of feeds) await f.close();
    for (const s of subscribers) await s.quit();
    const keys = await redis.keys(`ut:${namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("sends N calls' score updates of one tick as one Redis transaction, and every event arrives intact on the feed", async () => {
    const n = 40;
    const writer = await newFeed({ flushEveryMs: 0 });
    const reader = await newFeed();
    const got = collect(reader);
    const observer = createCallFeedObserver({ feed: writer, instanceId: 'one' });
    observers.push(observer);
    const calls = Array.from({ length: n }, (_, i) => call(`CA-batch-${i}`));
    for (const [i, c] of calls.entries()) observer.callStarted(c, { team: i % 2 === 0 ? 'red' : 'blue' });
    await waitFor(() => (got.length === n ? true : undefined), 'the call.started events');

    const multi = vi.spyOn(redis, 'multi');
    // One tick: every call's window scored (scores due: 1 s of audio since the start).
    for (const [i, c] of calls.entries()) observer.windowScored(c, window(1000, i / n), 1, i / n);
    await waitFor(() => (got.length === 2 * n ? true : undefined), 'the call.scores events');
    expect(multi).toHaveBeenCalledTimes(1);

    const scores = got.slice(n);
    // In the order they were reported, each with its own call's values and scope.
    expect(scores.map((e) => (e.msg.type === 'call.scores' ? e.msg.callId : e.msg.type))).toEqual(calls.map((c) => c.callId));
    for (const [i, e] of scores.entries()) {
      expect(e.msg).toMatchObject({ type: 'call.scores', callId: `CA-batch-${i}`, audioMs: 1000, agitation: i / n, anger: i / n, tier: 1 });
      expect(e.scope).toEqual({ team: i % 2 === 0 ? 'red' : 'blue', queue: null });
    }
    // The histories and live state were written in the same transaction, before the PUBLISH.
    for (const [i, c] of calls.entries()) {
      expect((await reader.history(c.callId)).map((m) => m.type)).toEqual(['call.started', 'call.scores']);
      expect(await reader.liveCall(c.callId)).toMatchObject({ callId: c.callId, agitation: i / n, audioMs: 1000 });
    }
    multi.mockRestore();
  });

  it('keeps each call\'s events in order across batches, and a call ended in the same batch as its update is not live', async () => {
    const writer = await newFeed({ flushEveryMs: 30 });
    const got = collect(writer);
    const observer = createCallFeedObserver({ feed: writer, instanceId: 'one' });
    observers.push(observer);
    const a = call('CA-a');
    const b = call('CA-b');
    observer.callStarted(a, {});
    observer.callStarted(b, {});
    for (let ms = 1000; ms <= 3000; ms += 1000) {
      observer.windowScored(a, window(ms, 0.2), 1, 0.2);
      observer.windowScored(b, window(ms, 0.3), 1, 0.3);
    }
    // b's last update and its end share a batch: the end wins.
    observer.callEnded(b, 'hangup', 3000);
    await waitFor(() => (got.length === 9 ? true : undefined), 'every event');
    const of = (id: string): string[] => got.filter((e) => (e.msg.type === 'call.started' ? e.msg.call.callId : 'callId' in e.msg ? e.msg.callId : '') === id).map((e) => `${e.msg.type}${e.msg.type === 'call.scores' ? `@${e.msg.audioMs}` : ''}`);
    expect(of('CA-a')).toEqual(['call.started', 'call.scores@1000', 'call.scores@2000', 'call.scores@3000']);
    expect(of('CA-b')).toEqual(['call.started', 'call.scores@1000', 'call.scores@2000', 'call.scores@3000', 'call.ended']);
    expect(await writer.liveCall('CA-b')).toBeNull();
    expect(await writer.liveCall('CA-a')).toMatchObject({ audioMs: 3000 });
    const snap = await writer.snapshot({ team: null, queue: null });
    expect(snap.calls.map((c) => c.callId)).toEqual(['CA-a']);
  });

  it('trims a history to maxHistory once it goes over, keeping the newest events', async () => {
    const writer = await newFeed({ flushEveryMs: 0, maxHistory: 3 });
    const scope = { team: null, queue: null };
    for (let i = 1; i <= 5; i++) writer.publish({ type: 'call.agent', at: new Date().toISOString(), callId: 'CA-trim', agentId: `ag-${i}` }, scope);
    const key = deliveryKeys(namespace).callHistory('CA-trim');
    await waitFor(async () => ((await redis.llen(key)) === 3 ? true : undefined), 'the trimmed history');
    expect((await writer.history('CA-trim')).map((m) => (m.type === 'call.agent' ? m.agentId : ''))).toEqual(['ag-3', 'ag-4', 'ag-5']);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it('reads see this instance\'s pending writes, and close() writes what is pending', async () => {
    const writer = await newFeed({ flushEveryMs: 60_000 });
    const scope = { team: 'red', queue: null };
    writer.putScope('CA-pending', scope);
    writer.publish({ type: 'call.agent', at: new Date().toISOString(), callId: 'CA-pending', agentId: 'ag-1' }, scope);
    expect((await writer.history('CA-pending')).map((m) => m.type)).toEqual(['call.agent']);
    writer.publish({ type: 'call.agent', at: new Date().toISOString(), callId: 'CA-pending', agentId: 'ag-2' }, scope);
    await writer.close();
    feeds.splice(feeds.indexOf(writer), 1);
    expect(await redis.llen(deliveryKeys(namespace).callHistory('CA-pending'))).toBe(2);
  });

  it('sends a call start without waiting for the flush interval (other instances may look for it at once); scores wait for it', async () => {
    const writer = await newFeed({ flushEveryMs: 60_000 });
    const reader = await newFeed();
    const got = collect(reader);
    const observer = createCallFeedObserver({ feed: writer, instanceId: 'one' });
    observers.push(observer);
    const c = call('CA-soon');
    observer.callStarted(c, { team: 'red' });
    await waitFor(() => (got.length === 1 ? true : undefined), 'call.started');
    expect(got[0]?.msg.type).toBe('call.started');
    // Read through the other instance's feed: nothing of the writer's is flushed for it.
    expect(await reader.liveCall(c.callId)).toMatchObject({ callId: c.callId, instanceId: 'one' });
    expect((await reader.snapshot({ team: 'red', queue: null })).calls.map((x) => x.callId)).toEqual([c.callId]);
    const multi = vi.spyOn(redis, 'multi');
    observer.windowScored(c, window(1000, 0.5), 1, 0.5);
    // A scores update queues; the next rare event carries it along, in order.
    observer.agentChanged?.(c, 'ag-other');
    await waitFor(() => (got.length === 3 ? true : undefined), 'the scores and the agent change');
    expect(got.map((e) => e.msg.type)).toEqual(['call.started', 'call.scores', 'call.agent']);
    expect(multi).toHaveBeenCalledTimes(1);
    multi.mockRestore();
  });

  it("pushes an ended call's history expiry out once more, then keeps no stamp for it; a streaming call's stamp stays", async () => {
    const keys = deliveryKeys(namespace);
    const historyTtlMs = 60_000;
    const errors: unknown[] = [];
    const writer = new FeedWriter({
      redis,
      keys,
      maxHistory: 100,
      historyTtlMs,
      liveTtlMs: 10_000,
      alertTtlMs: 10_000,
      flushEveryMs: 0,
      now: () => Date.now(),
      onError: (_what, err) => errors.push(err),
    });
    const scope = { team: null, queue: null };
    const scores = (callId: string): SupervisorFeedEvent => ({
      type: 'call.scores',
      at: new Date().toISOString(),
      callId,
      audioMs: 2000,
      agitation: 0.1,
      anger: 0.1,
      arousal: 0.1,
      emotion: { neutral: 0.9, anger: 0.1, happiness: 0, sadness: 0 },
      tier: 1,
    });
    const ended = (callId: string): SupervisorFeedEvent => ({
      type: 'call.ended',
      at: new Date().toISOString(),
      callId,
      summary: { peakAgitation: 0.1, meanAgitation: 0.1, msAtTier: { 1: 2000, 2: 0, 3: 0, 4: 0 }, prompts: 0, escalations: 0, endReason: 'hangup', audioMs: 2000 },
    });
    writer.publish(scores('ends'), scope, 'ends');
    writer.publish(scores('streams'), scope, 'streams');
    await writer.flush();
    expect(writer.expiryStamps).toBe(2);
    // Its last event in a later batch, within the refresh period: the expiry is still pushed out to the full TTL.
    await redis.pexpire(keys.callHistory('ends'), 1000);
    writer.publish(ended('ends'), scope, 'ends');
    writer.publish(scores('streams'), scope, 'streams');
    await writer.flush();
    expect(await redis.pttl(keys.callHistory('ends'))).toBeGreaterThan(historyTtlMs);
    expect(await redis.lrange(keys.callHistory('ends'), 0, -1)).toHaveLength(2);
    // … and the ended call leaves no stamp behind; the streaming one keeps its own.
    expect(writer.expiryStamps).toBe(1);
    await writer.close();
    expect(errors).toEqual([]);
  });

  it('still delivers a single (unbatched) envelope on the channel', async () => {
    const reader = await newFeed();
    const got = collect(reader);
    const msg: SupervisorFeedEvent = { type: 'call.agent', at: new Date().toISOString(), callId: 'CA-single', agentId: 'ag-9' };
    await redis.publish(deliveryKeys(namespace).supervisorChannel, JSON.stringify({ scope: { team: 'red', queue: null }, msg }));
    await waitFor(() => (got.length === 1 ? true : undefined), 'the event');
    expect(got[0]).toEqual({ msg, scope: { team: 'red', queue: null } });
  });
});
