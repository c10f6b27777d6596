import type { Redis } from 'ioredis';
import type { Tier } from '../policy/types.js';
import type { AgentMessage } from './agent-messages.js';
import { deliveryKeys } from './delivery-keys.js';
import { POST_SCRIPT } from './inbox-scripts.js';

export interface AgentMailboxOptions {
  /** Shared ioredis connection (not closed by the mailbox). */
  redis: Redis;
  /** Key namespace: the routing queue name. */
  namespace: string;
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
  post(agentId: string, message: AgentMessage, order: MessageOrder): Promise<PostResult>;
}

export function createAgentMailbox(options: AgentMailboxOptions): AgentMailbox {
  const keys = deliveryKeys(options.namespace);
  const ttlMs = options.pendingTtlMs ?? 120_000;
  const maxLen = options.maxPerAgent ?? 100;
  const orderTtlMs = options.orderTtlMs ?? 6 * 3600_000;
  return {
    async post(agentId, message, order) {
      const res = (await options.redis.eval(
        POST_SCRIPT,
        2,
        keys.agentInbox(agentId),
        keys.callOrder(order.callId, order.streamId),
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
