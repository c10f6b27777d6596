import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { agentMessageId, type AgentHub, type AgentMessage, type AgentSink } from './agent-messages.js';
import type { ExpiredEventType } from '../observability/metrics.js';
import { agentOfChannel, deliveryKeys } from './delivery-keys.js';
import { ADVANCE_SCRIPT, READ_SCRIPT } from './inbox-scripts.js';

export interface RedisAgentHubOptions {
  /** Shared command connection (not closed by the hub). */
  redis: Redis;
  /**
   * A connection for this hub's subscriptions only (it enters subscriber
   * mode); the hub unsubscribes on `close` but the caller closes it.
   */
  subscriber: Redis;
  /** Key namespace: the routing queue name. */
  namespace: string;
  /** `REDIS_PREFIX` in front of every key and channel (src/queue/redis-prefix.ts); default none. */
  redisPrefix?: string;
  logger: Logger;
  /** Must match the mailbox's: older inbox entries are not delivered on connect, ms. @defaultValue 120000 */
  pendingTtlMs?: number;
  /**
   * When a call's stream ended (the summary store's `streamEndedAt`). With
   * it, messages kept while the agent was offline are checked when the agent
   * connects: one whose call has ended since is sent marked `stale` (never
   * as live), logged and counted. @defaultValue none (no check)
   */
  endedCalls?: { streamEndedAt(callId: string, streamId: string): Promise<string | undefined> };
  /** Counts those (`undertone_expired_events_total`). @defaultValue none */
  metrics?: { expired(type: ExpiredEventType): void };
}

export interface RedisAgentHub extends AgentHub {
  sendLocal(agentId: string, message: AgentMessage): number;
  /**
   * Sends every agent connected here whatever their inbox holds that this
   * instance has not sent yet; resolves when done. Shutdown calls it after
   * the routing queue drained, so the last prompts leave before the sockets close.
   */
  syncAll(): Promise<void>;
  /** Resolves once every agent's pending send work is done (tests, shutdown). */
  idle(): Promise<void>;
  /** Unsubscribes everything; sockets stay the app's to close. */
  close(): Promise<void>;
}

interface AgentState {
  sinks: Set<AgentSink>;
  /** Last inbox entry sent to this instance's sockets; undefined until the first read. */
  pos: string | undefined;
  /** Serialises reads and sends for this agent on this instance. */
  chain: Promise<void>;
  subscribed: boolean;
  /**
   * Messages sent ahead of the inbox (`sendLocal`), by id, with the sockets
   * that had them: when the inbox copy comes, those sockets are skipped.
   * Insertion order is age order; entries whose copy never comes (no worker,
   * judged stale or duplicate) go after the pending TTL.
   */
  early: Map<string, { sinks: Set<AgentSink>; at: number }>;
}

const READ_BATCH = 100;
/** Most messages remembered as sent ahead, per agent on this instance. */
const MAX_EARLY = 1000;

/**
 * This instance's agent sockets, fed from the agents' Redis inboxes.
 *
 * - On the first socket of an agent the hub subscribes to the agent's
 *   channel, then sends what the inbox holds after the agent's shared cursor
 *   (messages no socket of this agent has had yet, younger than the TTL): an
 *   agent offline everywhere gets their pending prompts on connecting to any
 *   instance.
 * - Each nudge on the channel (a worker posted) makes the hub read the inbox
 *   after its own position and send each new entry, in inbox order, to every
 *   local socket of the agent; then the shared cursor moves forward.
 * - Reads and sends per agent run one at a time, and only entries after the
 *   position are sent, so a socket never gets an entry twice even when a
 *   nudge and the connect backlog overlap.
 * - A socket whose `send` throws is dropped (and logged); the others still
 *   get the message. If no socket is left the position is not moved, and the
 *   entry stays pending for the next connect.
 * - Messages kept while the agent was offline (the read on connect) whose
 *   call has ended since are sent marked `stale: true` (with `endedCalls`):
 *   a softphone connecting late never gets them as live prompts.
 */
export function createRedisAgentHub(options: RedisAgentHubOptions): RedisAgentHub {
  const { redis, subscriber, namespace } = options;
  const keys = deliveryKeys(namespace, options.redisPrefix);
  const ttlMs = options.pendingTtlMs ?? 120_000;
  const log = options.logger.child({ component: 'agent-hub' });
  const agents = new Map<string, AgentState>();
  let closed = false;

  const onMessage = (channel: string): void => {
    const agentId = agentOfChannel(namespace, channel, options.redisPrefix);
    if (agentId !== undefined && agents.has(agentId)) schedule(agentId);
  };
  subscriber.on('message', onMessage);
  // After a lost subscriber connection (ioredis re-subscribes by itself),
  // nudges sent meanwhile are gone: read every local agent's inbox once.
  let wasReady = subscriber.status === 'ready';
  const onReady = (): void => {
    if (wasReady) void Promise.all([...agents.keys()].map((agentId) => schedule(agentId)));
    wasReady = true;
  };
  subscriber.on('ready', onReady);

  function schedule(agentId: string): Promise<void> {
    const st = agents.get(agentId);
    if (!st) return Promise.resolve();
    st.chain = st.chain.then(() => sync(agentId, st)).catch((err: unknown) => {
      log.warn({ err, agentId }, 'agent inbox read failed; retried on the next message or connect');
    });
    return st.chain;
  }

  function trySend(agentId: string, st: AgentState, sink: AgentSink, text: string): boolean {
    try {
      sink.send(text);
      return true;
    } catch (err) {
      st.sinks.delete(sink);
      log.warn({ err, agentId }, 'agent socket send failed; socket dropped');
      return false;
    }
  }

  /**
   * A kept message whose call + stream has ended since, re-marked stale
   * (logged and counted); anything else unchanged. `ended` caches per call.
   */
  async function markIfEnded(agentId: string, text: string, ended: Map<string, Promise<string | undefined>>): Promise<string> {
    const endedCalls = options.endedCalls;
    if (!endedCalls) return text;
    let message: AgentMessage;
    try {
      message = JSON.parse(text) as AgentMessage;
    } catch {
      return text;
    }
    if (message.stale === true) return text;
    const key = `${message.callId}\u0000${message.streamId}`;
    let at = ended.get(key);
    if (at === undefined) {
      at = endedCalls.streamEndedAt(message.callId, message.streamId);
      ended.set(key, at);
    }
    let callEndedAt: string | undefined;
    try {
      callEndedAt = await at;
    } catch (err) {
      // The check must never hold back delivery: send as kept.
      log.warn({ err, agentId, callId: message.callId }, 'could not check whether the call ended; message sent as kept');
      return text;
    }
    if (callEndedAt === undefined) return text;
    options.metrics?.expired(message.type);
    log.warn(
      { agentId, callId: message.callId, seq: message.seq, type: message.type, callEndedAt, lateMs: Date.now() - Date.parse(callEndedAt) },
      'message kept for an offline agent outlived its call: sent marked stale, not as live',
    );
    return JSON.stringify({ ...message, stale: true, callEndedAt });
  }

  async function sync(agentId: string, st: AgentState): Promise<void> {
    if (!st.subscribed && st.sinks.size > 0) {
      await subscriber.subscribe(keys.agentChannel(agentId));
      st.subscribed = true;
    }
    let sentAny: string | undefined;
    // The first read after connecting: what waited in the inbox for the agent.
    const connecting = st.pos === undefined;
    for (;;) {
      if (st.sinks.size === 0 || agents.get(agentId) !== st) break;
      const reply = (await redis.eval(READ_SCRIPT, 2, keys.agentInbox(agentId), keys.agentCursor(agentId), st.pos ?? '', String(ttlMs), String(READ_BATCH))) as string[];
      const backlog = st.pos === undefined;
      // Pin the position on the first read: from now on this instance reads
      // after its own position, not the shared cursor (which another
      // instance's socket of the same agent may move past entries not sent here yet).
      if (backlog) st.pos = reply[0];
      let sent = 0;
      const ended = new Map<string, Promise<string | undefined>>();
      for (let i = 1; i + 1 < reply.length; i += 2) {
        const id = reply[i] as string;
        const kept = reply[i + 1] as string;
        // Only what waited for the agent to connect; fresh posts were checked by the worker.
        const text = connecting ? await markIfEnded(agentId, kept, ended) : kept;
        const sentAhead = st.early.size > 0 ? takeEarly(st, kept) : undefined;
        let delivered = 0;
        for (const sink of [...st.sinks]) {
          if (sentAhead?.has(sink) === true) delivered++;
          else if (trySend(agentId, st, sink, text)) delivered++;
        }
        if (delivered === 0) break;
        st.pos = id;
        sentAny = id;
        sent++;
      }
      if (backlog && sent > 0) log.info({ agentId, sent }, 'delivered messages kept while the agent was offline');
      if (reply.length < 1 + READ_BATCH * 2) break;
    }
    if (sentAny !== undefined) await redis.eval(ADVANCE_SCRIPT, 1, keys.agentCursor(agentId), sentAny, String(ttlMs));
  }

  /** The sockets that had this inbox entry's message ahead of the inbox (forgotten now), if any. */
  function takeEarly(st: AgentState, kept: string): Set<AgentSink> | undefined {
    let id: string;
    try {
      id = agentMessageId(JSON.parse(kept) as AgentMessage);
    } catch {
      return undefined;
    }
    const entry = st.early.get(id);
    if (entry === undefined) return undefined;
    st.early.delete(id);
    return entry.sinks;
  }

  function rememberEarly(st: AgentState, id: string, sinks: Set<AgentSink>): void {
    const now = Date.now();
    st.early.delete(id);
    st.early.set(id, { sinks, at: now });
    for (const [old, entry] of st.early) {
      if (st.early.size <= MAX_EARLY && now - entry.at <= ttlMs) break;
      st.early.delete(old);
    }
  }

  async function forget(agentId: string, st: AgentState): Promise<void> {
    if (st.sinks.size > 0 || agents.get(agentId) !== st) return;
    agents.delete(agentId);
    if (st.subscribed && !closed) await subscriber.unsubscribe(keys.agentChannel(agentId));
  }

  return {
    register(agentId, sink) {
      let st = agents.get(agentId);
      if (!st) {
        st = { sinks: new Set(), pos: undefined, chain: Promise.resolve(), subscribed: false, early: new Map() };
        agents.set(agentId, st);
      }
      st.sinks.add(sink);
      void schedule(agentId);
      let registered = true;
      const state = st;
      return () => {
        if (!registered) return;
        registered = false;
        state.sinks.delete(sink);
        if (state.sinks.size === 0) {
          state.chain = state.chain.then(() => forget(agentId, state)).catch((err: unknown) => log.warn({ err, agentId }, 'agent unsubscribe failed'));
        }
      };
    },

    sendLocal(agentId, message) {
      const st = agents.get(agentId);
      if (st === undefined || st.sinks.size === 0 || closed) return 0;
      const text = JSON.stringify(message);
      const had = new Set<AgentSink>();
      for (const sink of [...st.sinks]) if (trySend(agentId, st, sink, text)) had.add(sink);
      if (had.size > 0) rememberEarly(st, agentMessageId(message), had);
      return had.size;
    },

    connectedAgents() {
      const counts = new Map<string, number>();
      for (const [agentId, st] of agents) if (st.sinks.size > 0) counts.set(agentId, st.sinks.size);
      return counts;
    },

    async syncAll() {
      await Promise.all([...agents.keys()].map((agentId) => schedule(agentId)));
    },

    async idle() {
      await Promise.all([...agents.values()].map((st) => st.chain));
    },

    async close() {
      closed = true;
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      const channels = [...agents.entries()].filter(([, st]) => st.subscribed).map(([id]) => keys.agentChannel(id));
      if (channels.length > 0) await subscriber.unsubscribe(...channels).catch(() => undefined);
    },
  };
}
