import type { Redis } from 'ioredis';
import type { Tier } from '../policy/types.js';
import type { AgentMessage } from './agent-messages.js';
import { deliveryKeys } from './delivery-keys.js';
import { HANDLED_SCRIPT, POST_SCRIPT } from './inbox-scripts.js';

export interface AgentMailboxOptions {
  /** Shared ioredis connection (not closed by the mailbox). */
  redis: Redis;
  /** Key namespace: the routing queue name. */
  namespace: string;
  /** `REDIS_PREFIX` in front of every key and channel (src/queue/redis-prefix.ts); default none. */
  redisPrefix?: string;
  /**
   * How long a message waits for an agent who is offline everywhere, ms:
   * a softphone that connects later (to any instance) gets what is younger.
   * @defaultValue 120000
   */
  pendingTtlMs?: number;
  /** Messages kept per agent inbox (approximate, oldest trimmed). @defaultValue 100 */
  maxPerAgent?: number;
  /** How long a call's order/de-dupe state outlives its last event, ms. @defaultValue 21600000 (6 h) */
  orderTtlMs?: number;
}

/** Where a message belongs in its call: what the order and de-dupe rules look at. */
export interface MessageOrder {
  callId: string;
  streamId: string;
  seq: number;
  tier: Tier;
}

export type PostResult =
  | { outcome: 'posted'; entryId: string }
  | { outcome: 'duplicate' }
  | { outcome: 'stale'; reason: string };

/**
 * The writing side of agent delivery: routing workers post each agent
 * message to the agent's inbox (a Redis Stream) and nudge every instance
 * holding a socket of that agent (pub/sub). Nothing here assumes the agent is
 * connected to this process — or connected at all: the inbox keeps messages
 * for `pendingTtlMs`. Order and de-dupe rules: see POST_SCRIPT.
 */
export interface AgentMailbox {
  /** Posts the message unless it is a duplicate or stale; marks its seq handled either way. */
  post(agentId: string, message: AgentMessage, order: MessageOrder): Promise<PostResult>;
  /** Marks an event handled without posting (no agent, stale priority). */
  markHandled(order: Pick<MessageOrder, 'callId' | 'streamId' | 'seq'>): Promise<void>;
  /**
   * Waits until every earlier event of the call + stream has been handled
   * (by any worker), at most `maxWaitMs`; resolves true when it is this
   * event's turn, false when the wait ran out (the caller goes ahead anyway:
   * a job stuck in retry must not hold the call's later prompts for long).
   */
  awaitTurn(order: Pick<MessageOrder, 'callId' | 'streamId' | 'seq'>, maxWaitMs: number): Promise<boolean>;
}

export function createAgentMailbox(options: AgentMailboxOptions): AgentMailbox {
  const keys = deliveryKeys(options.namespace, options.redisPrefix);
  const ttlMs = options.pendingTtlMs ?? 120_000;
  const maxLen = options.maxPerAgent ?? 100;
  const orderTtlMs = options.orderTtlMs ?? 6 * 3600_000;
  const firstUnhandled = async (order: Pick<MessageOrder, 'callId' | 'streamId'>, mark: number): Promise<number> =>
    Number(await options.redis.eval(HANDLED_SCRIPT, 1, keys.callHandled(order.callId, order.streamId), String(mark), String(orderTtlMs)));
  return {
    async markHandled(order) {
      await firstUnhandled(order, order.seq);
    },

    async awaitTurn(order, maxWaitMs) {
      const deadline = Date.now() + maxWaitMs;
      for (let delay = 2; ; delay = Math.min(delay * 2, 20)) {
        if ((await firstUnhandled(order, 0)) >= order.seq) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
      }
    },

    async post(agentId, message, order) {
      const res = (await options.redis.eval(
        POST_SCRIPT,
        3,
        keys.agentInbox(agentId),
        keys.callOrder(order.callId, order.streamId),
        keys.callHandled(order.callId, order.streamId),
        JSON.stringify(message),
        message.type,
        String(order.seq),
        String(order.tier),
        String(ttlMs),
        String(maxLen),
        String(orderTtlMs),
        keys.agentChannel(agentId),
      )) as [string, string];
      const [outcome, detail] = res;
      if (outcome === 'posted') return { outcome, entryId: detail };
      if (outcome === 'duplicate') return { outcome };
      return { outcome: 'stale', reason: detail };
    },
  };
}
