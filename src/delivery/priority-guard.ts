import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Tier } from '../policy/types.js';
import { UndertoneError } from '../shared/errors.js';
import { deliveryKeys } from './delivery-keys.js';

export interface PriorityGuardOptions {
  redis: Redis;
  /** Key namespace: the routing queue name. */
  namespace: string;
  /** `REDIS_PREFIX` in front of every key and channel (src/queue/redis-prefix.ts); default none. */
  redisPrefix?: string;
  /** A held lock expires after this long (a crashed worker cannot block a call forever), ms. @defaultValue 30000 */
  lockTtlMs?: number;
  /** How long a job waits for another worker's lock before failing (and being retried), ms. @defaultValue 15000 */
  lockWaitMs?: number;
  /** How long a call's applied seq is remembered after its last change, ms. @defaultValue 21600000 (6 h) */
  orderTtlMs?: number;
}

/** Thrown when another worker holds a call's lock for longer than `lockWaitMs`; the job is retried. */
export class PriorityLockTimeoutError extends UndertoneError {
  constructor(callId: string, waitedMs: number) {
    super('UT_ERR_PRIORITY_LOCK_TIMEOUT', `priority lock of call ${callId} still held after ${waitedMs} ms`);
  }
}

export interface PriorityChangeRef {
  callId: string;
  streamId: string;
  seq: number;
  tier: Tier;
}

/**
 * Applies a call's priority changes so that the last one applied is always
 * the newest (highest seq), however many workers run and in whatever order
 * BullMQ hands them the jobs.
 *
 * Per call + stream: changes run one at a time (an in-process chain, plus a
 * Redis lock across processes), and under that lock the highest applied seq
 * is compared with this change's (one Lua compare-and-set on a hash in Redis).
 * A change older than the applied one is stale and skipped; a change with
 * the same seq is a retry of a change whose apply failed or whose worker
 * died, and is applied again (routing is told at least once).
 */
export interface PriorityGuard {
  /** Runs `apply` unless the change is stale; returns which happened. */
  run(ref: PriorityChangeRef, apply: () => Promise<void>): Promise<'applied' | 'stale'>;
}

// Sets the applied seq/tier only if the seq is newer: a late writer (lock
// expired mid-apply) can never move the call back.
const RECORD = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'prioritySeq') or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('HSET', KEYS[1], 'prioritySeq', ARGV[1], 'priorityTier', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return cur
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export function createPriorityGuard(options: PriorityGuardOptions): PriorityGuard {
  const { redis } = options;
  const keys = deliveryKeys(options.namespace, options.redisPrefix);
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const lockWaitMs = options.lockWaitMs ?? 15_000;
  const orderTtlMs = options.orderTtlMs ?? 6 * 3600_000;
  // Per call+stream chain inside this process, so local jobs queue instead of polling the lock.
  const chains = new Map<string, Promise<unknown>>();

  async function lock(key: string, callId: string): Promise<string> {
    const token = randomUUID();
    const deadline = Date.now() + lockWaitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      if ((await redis.set(key, token, 'PX', lockTtlMs, 'NX')) === 'OK') return token;
      if (Date.now() > deadline) throw new PriorityLockTimeoutError(callId, lockWaitMs);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async function guarded(ref: PriorityChangeRef, apply: () => Promise<void>): Promise<'applied' | 'stale'> {
    const orderKey = keys.callOrder(ref.callId, ref.streamId);
    const lockKey = keys.callLock(ref.callId, ref.streamId);
    const token = await lock(lockKey, ref.callId);
    try {
      const applied = Number((await redis.hget(orderKey, 'prioritySeq')) ?? 0);
      if (applied > ref.seq) return 'stale';
      await apply();
      await redis.eval(RECORD, 1, orderKey, String(ref.seq), String(ref.tier), String(orderTtlMs));
      return 'applied';
    } finally {
      await redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
    }
  }

  return {
    run(ref, apply) {
      const chainKey = `${ref.callId}\u0000${ref.streamId}`;
      const prev = chains.get(chainKey) ?? Promise.resolve();
      const next = prev.catch(() => undefined).then(() => guarded(ref, apply));
      chains.set(chainKey, next);
      void next.catch(() => undefined).finally(() => {
        if (chains.get(chainKey) === next) chains.delete(chainKey);
      });
      return next;
    },
  };
}
