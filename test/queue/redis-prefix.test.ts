import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { deliveryKeys, keyRoot, agentOfChannel } from '../../src/delivery/delivery-keys.js';
import { bullmqPrefix, hashTagOf, redisPrefixProblem } from '../../src/queue/redis-prefix.js';

// ioredis's own slot function (a dependency of ioredis, no types of its own).
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/** Every key and channel name the delivery keys produce for one call of one agent. */
function callKeys(namespace: string, prefix: string): string[] {
  const k = deliveryKeys(namespace, prefix);
  const callId = 'CA0123';
  const streamId = 'MZ0123';
  const agentId = 'agent:7'; // a ':' inside an id stays encoded
  return [
    k.agentInbox(agentId),
    k.agentCursor(agentId),
    k.agentChannel(agentId),
    k.callOrder(callId, streamId),
    k.callHandled(callId, streamId),
    k.callLock(callId, streamId),
    k.supervisorChannel,
    k.liveCalls,
    k.liveCall(callId),
    k.callHistory(callId),
    k.callScope(callId),
    k.alertIndex,
    k.alert('al-1'),
    // BullMQ's keys of the queue (the shapes its scripts use).
    ...['wait', 'active', 'prioritized', 'events', 'meta', 'id', 'completed', `${callId}:0`].map((s) => `${bullmqPrefix(prefix)}:${namespace}:${s}`),
  ];
}

describe('REDIS_PREFIX keys', () => {
  it('puts every key of a call under the prefix, in one Redis Cluster slot when the prefix is a hash tag', () => {
    const keys = callKeys('call-routing', '{undertone}');
    for (const key of keys) expect(key.startsWith('{undertone}:')).toBe(true);
    expect(new Set(keys.map(calculateSlot))).toEqual(new Set([calculateSlot('undertone')]));
  });

  it('without a hash tag the same keys scatter over slots (what would fail on a cluster)', () => {
    expect(new Set(callKeys('call-routing', '').map(calculateSlot)).size).toBeGreaterThan(5);
    expect(new Set(callKeys('call-routing', 'plain').map(calculateSlot)).size).toBeGreaterThan(5);
  });

  it('keeps the historical key names when unset', () => {
    expect(keyRoot('q')).toBe('ut:q');
    expect(deliveryKeys('q').agentInbox('a')).toBe('ut:q:agent:a:inbox');
    expect(bullmqPrefix('')).toBe('bull');
    expect(keyRoot('q', '{u}')).toBe('{u}:ut:q');
    expect(bullmqPrefix('{u}')).toBe('{u}:bull');
  });

  it('finds the agent of its own channels only, with and without a prefix', () => {
    for (const prefix of ['', '{undertone}', 'a:{b}']) {
      const k = deliveryKeys('q', prefix);
      expect(agentOfChannel('q', k.agentChannel('agent:7'), prefix)).toBe('agent:7');
      expect(agentOfChannel('q', k.supervisorChannel, prefix)).toBeUndefined();
      expect(agentOfChannel('other', k.agentChannel('a'), prefix)).toBeUndefined();
    }
    expect(agentOfChannel('q', deliveryKeys('q', '{x}').agentChannel('a'), '')).toBeUndefined();
    expect(agentOfChannel('q', deliveryKeys('q').agentChannel('a'), '{x}')).toBeUndefined();
  });

  it('hashTagOf follows the Redis Cluster rule, as ioredis computes slots', () => {
    for (const [key, tag] of [
      ['{undertone}:ut:q', 'undertone'],
      ['a:{b}:c{d}', 'b'],
      ['{}x{y}', '{}x{y}'], // an empty first tag: the whole key is hashed
      ['no-tag', 'no-tag'],
      ['open{only', 'open{only'],
    ] as const) {
      expect(hashTagOf(key)).toBe(tag);
      expect(calculateSlot(key)).toBe(calculateSlot(tag));
    }
  });

  it('validates prefixes', () => {
    expect(redisPrefixProblem('')).toBeUndefined();
    expect(redisPrefixProblem('{undertone}')).toBeUndefined();
    expect(redisPrefixProblem('{}')).toMatch(/without a closing|empty/);
    expect(redisPrefixProblem('x*')).toMatch(/characters/);
  });
});
