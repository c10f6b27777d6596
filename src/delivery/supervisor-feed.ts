import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { deliveryKeys } from './delivery-keys.js';
import { LOST_CALL_END_REASON, summaryFromHistory } from './feed-summary.js';
import { FeedWriter } from './feed-writer.js';
import type { Alert, AlertAckedMessage, LiveCall, SupervisorFeedEvent } from './supervisor-messages.js';

export interface SupervisorFeedOptions {
  /** Shared command connection (not closed by the feed). */
  redis: Redis;
  /** A connection for the feed channel only (subscriber mode); the caller closes it. */
  subscriber: Redis;
  /** Key namespace: the routing queue name. */
  namespace: string;
  /** `REDIS_PREFIX` in front of every key and channel (src/queue/redis-prefix.ts); default none. */
  redisPrefix?: string;
  logger: Logger;
  /** A live call's state expires this long after its instance last refreshed it (instance died), ms. @defaultValue 30000 */
  liveCallTtlMs?: number;
  /** Alerts kept for the snapshot, ms. @defaultValue 3600000 */
  alertTtlMs?: number;
  /** Acknowledged alerts stay in the snapshot this long after the ack, ms. @defaultValue 600000 */
  ackedAlertVisibleMs?: number;
  /** How long a call's feed history (and scope) is kept after its last event, ms. @defaultValue 21600000 (6 h) */
  historyTtlMs?: number;
  /** Events kept per call history (oldest dropped). @defaultValue 5000 (≈ 80 min of 1/s scores) */
  maxHistory?: number;
  /**
   * How often this instance looks for live calls whose instance stopped
   * refreshing them (it died) and announces their end, ms; 0 = never.
   * @defaultValue 10000
   */
  sweepEveryMs?: number;
  /**
   * `call.scores` events and live-call refreshes wait at most this long to go
   * to Redis in one transaction with every other call's (see feed-writer.ts),
   * ms; other events go on the next event-loop turn. 0 = every write on the
   * next turn. @defaultValue 100
   */
  flushEveryMs?: number;
  /** Wall clock. @defaultValue `Date.now` */
  now?: () => number;
}

/** Call metadata the team/queue filters look at. */
export interface FeedScope {
  team: string | null;
  queue: string | null;
}

/** What a supervisor's connection asked to see: null = everything. */
export interface FeedFilter {
  team: string | null;
  queue: string | null;
}

export const matchesFilter = (filter: FeedFilter, scope: FeedScope): boolean =>
  (filter.team === null || filter.team === scope.team) && (filter.queue === null || filter.queue === scope.queue);

/** One feed message as it travels through Redis: the message plus its call's scope for filtering. */
interface Envelope {
  scope: FeedScope;
  msg: SupervisorFeedEvent;
}

interface StoredAlert {
  alert: Alert;
  scope: FeedScope;
}

export type FeedListener = (msg: SupervisorFeedEvent, scope: FeedScope) => void;

export type AckResult =
  | { outcome: 'acked'; message: AlertAckedMessage }
  | { outcome: 'already-acked'; message: AlertAckedMessage }
  | { outcome: 'unknown' };

/**
 * The supervisor feed's shared state and fan-out, in Redis, so every
 * instance shows the same calls and alerts:
 * - live calls: one key per call (JSON, expiring unless refreshed: a dead
 *   instance's calls vanish within `liveCallTtlMs`) plus an index set;
 * - alerts: one key per alert plus a by-time index; the first ack wins (Lua);
 * - events: one pub/sub channel; each instance relays them to its sockets.
 *   One publisher connection per instance keeps a call's events in order.
 *   Writes are batched (feed-writer.ts): one MULTI per `flushEveryMs` (100 ms; rarer events: next turn) for
 *   every call, its PUBLISH carrying a JSON array of envelopes.
 */
export interface SupervisorFeed {
  /** Fans the event out to every instance and appends it to its call's history. */
  publish(msg: SupervisorFeedEvent, scope: FeedScope): void;
  /**
   * Publishes an event about a call streaming on any instance, looking up its
   * team/queue scope in Redis (e.g. `prompt.ack` from an agent socket on
   * another instance). Resolves false when the call is unknown (not published).
   */
  publishForCall(callId: string, msg: SupervisorFeedEvent): Promise<boolean>;
  /** Remembers a call's scope for `publishForCall` (the call observer does this at start). */
  putScope(callId: string, scope: FeedScope): void;
  /** A call's feed events so far, oldest first (any instance; kept `historyTtlMs` after the last). */
  history(callId: string): Promise<SupervisorFeedEvent[]>;
  /** A live call's state as stored by its instance, or null. */
  liveCall(callId: string): Promise<LiveCall | null>;
  putLiveCall(call: LiveCall, scope: FeedScope): void;
  removeLiveCall(callId: string): void;
  putAlert(alert: Alert, scope: FeedScope): void;
  /** Records an ack (first wins) and, when it is the first, broadcasts `alert.acked`. */
  ack(alertId: string, by: string): Promise<AckResult>;
  /** Live calls on every instance and the alerts a supervisor should see, filtered. */
  snapshot(filter: FeedFilter): Promise<{ calls: LiveCall[]; alerts: Alert[] }>;
  /** Feed events from every instance; returns the unsubscribe function. */
  listen(listener: FeedListener): () => void;
  /**
   * Announces the end of live calls whose instance stopped refreshing them:
   * `call.ended` with endReason `instance-lost` and a summary rebuilt from the
   * history. Exactly one instance announces each (SREM decides). Returns their ids.
   */
  sweepLostCalls(): Promise<string[]>;
  /** Resolves once the feed channel is subscribed (events published after it are seen). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

// First ack wins: sets ackedBy/ackedAt only on an unacknowledged alert.
// Returns the stored JSON after the call and 1 when this call acked it.
const ACK_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {'', 0} end
local stored = cjson.decode(raw)
if stored.alert.ackedBy ~= cjson.null and stored.alert.ackedBy ~= nil then return {raw, 0} end
stored.alert.ackedBy = ARGV[1]
stored.alert.ackedAt = ARGV[2]
local out = cjson.encode(stored)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return {out, 1}
`;

export function createSupervisorFeed(options: SupervisorFeedOptions): SupervisorFeed {
  const { redis, subscriber } = options;
  const keys = deliveryKeys(options.namespace, options.redisPrefix);
  const log = options.logger.child({ component: 'supervisor-feed' });
  const liveTtlMs = options.liveCallTtlMs ?? 30_000;
  const alertTtlMs = options.alertTtlMs ?? 3600_000;
  const ackedVisibleMs = options.ackedAlertVisibleMs ?? 600_000;
  const historyTtlMs = options.historyTtlMs ?? 6 * 3600_000;
  const maxHistory = options.maxHistory ?? 5000;
  const now = options.now ?? Date.now;
  const listeners = new Set<FeedListener>();

  const fail = (what: string) => (err: unknown) => log.warn({ err }, `supervisor feed: ${what} failed`);

  const deliver = (env: Envelope): void => {
    for (const l of listeners) {
      try {
        l(env.msg, env.scope);
      } catch (err) {
        log.warn({ err }, 'supervisor feed listener failed');
      }
    }
  };
  const onMessage = (channel: string, text: string): void => {
    if (channel !== keys.supervisorChannel) return;
    let parsed: Envelope | Envelope[];
    try {
      parsed = JSON.parse(text) as Envelope | Envelope[];
    } catch (err) {
      log.warn({ err }, 'unreadable supervisor feed message ignored');
      return;
    }
    // A batch (an array, in order) or a single envelope.
    if (Array.isArray(parsed)) for (const env of parsed) deliver(env);
    else deliver(parsed);
  };
  subscriber.on('message', onMessage);
  const subscribed = subscriber.subscribe(keys.supervisorChannel).then(
    () => undefined,
    (err: unknown) => fail('subscribe')(err),
  );

  const callOf = (msg: SupervisorFeedEvent): string => (msg.type === 'call.started' ? msg.call.callId : msg.type === 'alert' ? msg.alert.callId : msg.callId);

  const writer = new FeedWriter({
    redis,
    keys,
    maxHistory,
    historyTtlMs,
    liveTtlMs,
    alertTtlMs,
    flushEveryMs: options.flushEveryMs,
    now,
    onError: (what, err) => fail(what)(err),
  });

  function publish(msg: SupervisorFeedEvent, scope: FeedScope): void {
    // One writer on one connection: a call's events keep their order on the channel and in the history.
    writer.publish(msg, scope, callOf(msg));
  }
  /** Reads see this instance's own writes: what is pending goes first (same connection, so in order). */
  const readOwnWrites = (): void => void writer.flush();

  function ackedMessage(stored: StoredAlert, at: string): AlertAckedMessage {
    return { type: 'alert.acked', at, alertId: stored.alert.alertId, callId: stored.alert.callId, by: stored.alert.ackedBy ?? '', ackedAt: stored.alert.ackedAt ?? at };
  }

  async function retireLost(ids: readonly string[]): Promise<string[]> {
    const retired: string[] = [];
    for (const callId of ids) {
      // Only the instance whose SREM removes the id announces the end.
      readOwnWrites();
      if ((await redis.srem(keys.liveCalls, callId)) !== 1) continue;
      const history = (await redis.lrange(keys.callHistory(callId), 0, -1)).map((r) => JSON.parse(r) as SupervisorFeedEvent);
      const scopeRaw = await redis.get(keys.callScope(callId));
      const scope: FeedScope = scopeRaw ? (JSON.parse(scopeRaw) as FeedScope) : { team: null, queue: null };
      publish({ type: 'call.ended', at: new Date(now()).toISOString(), callId, summary: summaryFromHistory(history, LOST_CALL_END_REASON) }, scope);
      log.warn({ callId }, 'live call lost with its instance; announced as ended');
      retired.push(callId);
    }
    return retired;
  }

  async function sweepLostCalls(): Promise<string[]> {
    readOwnWrites();
    const ids = await redis.smembers(keys.liveCalls);
    if (ids.length === 0) return [];
    const raws = await redis.mget(ids.map((id) => keys.liveCall(id)));
    return retireLost(ids.filter((_, i) => raws[i] === null));
  }

  const sweepEveryMs = options.sweepEveryMs ?? 10_000;
  const sweeper = sweepEveryMs > 0 ? setInterval(() => void sweepLostCalls().catch(fail('lost call sweep')), sweepEveryMs) : undefined;
  sweeper?.unref();

  return {
    publish,
    sweepLostCalls,

    async publishForCall(callId, msg) {
      readOwnWrites();
      const raw = await redis.get(keys.callScope(callId));
      if (raw === null) return false;
      publish(msg, JSON.parse(raw) as FeedScope);
      return true;
    },

    putScope(callId, scope) {
      writer.putScope(callId, scope);
    },

    async history(callId) {
      readOwnWrites();
      const raws = await redis.lrange(keys.callHistory(callId), 0, -1);
      return raws.map((r) => JSON.parse(r) as SupervisorFeedEvent);
    },

    async liveCall(callId) {
      readOwnWrites();
      const raw = await redis.get(keys.liveCall(callId));
      return raw === null ? null : (JSON.parse(raw) as { call: LiveCall }).call;
    },

    putLiveCall(call, scope) {
      writer.putLiveCall(call, scope);
    },

    removeLiveCall(callId) {
      writer.removeLiveCall(callId);
    },

    putAlert(alert, scope) {
      writer.putAlert(alert, scope);
    },

    async ack(alertId, by) {
      readOwnWrites();
      const ackedAt = new Date(now()).toISOString();
      const [raw, first] = (await redis.eval(ACK_SCRIPT, 1, keys.alert(alertId), by, ackedAt)) as [string, number];
      if (raw === '') return { outcome: 'unknown' };
      const stored = JSON.parse(raw) as StoredAlert;
      const message = ackedMessage(stored, ackedAt);
      if (first === 1) {
        publish(message, stored.scope);
        return { outcome: 'acked', message };
      }
      return { outcome: 'already-acked', message };
    },

    async snapshot(filter) {
      readOwnWrites();
      const ids = await redis.smembers(keys.liveCalls);
      const calls: LiveCall[] = [];
      if (ids.length > 0) {
        const raws = await redis.mget(ids.map((id) => keys.liveCall(id)));
        const gone: string[] = [];
        raws.forEach((raw, i) => {
          if (raw === null) {
            gone.push(ids[i] as string);
            return;
          }
          const { call, scope } = JSON.parse(raw) as { call: LiveCall; scope: FeedScope };
          if (matchesFilter(filter, scope)) calls.push(call);
        });
        // Calls of an instance that died: their keys expired; announce their end.
        if (gone.length > 0) void retireLost(gone).catch(fail('lost call sweep'));
      }
      calls.sort((a, b) => a.startedAt.localeCompare(b.startedAt));

      const t = now();
      const alertIds = await redis.zrangebyscore(keys.alertIndex, t - alertTtlMs, '+inf');
      const alerts: Alert[] = [];
      if (alertIds.length > 0) {
        const raws = await redis.mget(alertIds.map((id) => keys.alert(id)));
        for (const raw of raws) {
          if (raw === null) continue;
          const stored = JSON.parse(raw) as StoredAlert;
          const { ackedAt } = stored.alert;
          if (ackedAt !== null && t - Date.parse(ackedAt) > ackedVisibleMs) continue;
          if (matchesFilter(filter, stored.scope)) alerts.push(stored.alert);
        }
      }
      return { calls, alerts };
    },

    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    ready: () => subscribed,

    async close() {
      if (sweeper) clearInterval(sweeper);
      await writer.close();
      subscriber.off('message', onMessage);
      listeners.clear();
      await subscriber.unsubscribe(keys.supervisorChannel).catch(() => undefined);
    },
  };
}
