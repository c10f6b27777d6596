import type { Redis } from 'ioredis';
import type { DeliveryKeys } from './delivery-keys.js';
import type { Alert, LiveCall, SupervisorFeedEvent } from './supervisor-messages.js';

/** Call metadata the team/queue filters look at (see supervisor-feed.ts). */
export interface WriterScope {
  team: string | null;
  queue: string | null;
}

export interface FeedWriterOptions {
  /** Shared command connection (not closed by the writer). */
  redis: Redis;
  keys: DeliveryKeys;
  /** Events kept per call history (oldest dropped). */
  maxHistory: number;
  /** A call's history (and scope) is kept at least this long after its last event, ms. */
  historyTtlMs: number;
  /** A live call's state expires this long after its last refresh, ms. */
  liveTtlMs: number;
  /** Alerts kept for the snapshot, ms. */
  alertTtlMs: number;
  /**
   * `call.scores` events and live-state refreshes wait at most this long to
   * share one Redis transaction with the other calls' writes, ms; 0 = the
   * next event-loop turn. Any other event (call start and end, tier changes,
   * alerts, prompts, acks: rare, and other instances may look for them at
   * once) goes on the next turn, with whatever is pending. @defaultValue 100
   */
  flushEveryMs?: number;
  /** A batch with this many writes pending is sent at once. @defaultValue 1000 */
  maxPending?: number;
  /**
   * A history key's expiry is pushed out at most this often while its call
   * streams (and always by `call.ended`); its TTL is `historyTtlMs` plus this,
   * so it never expires sooner than `historyTtlMs` after the last event, ms.
   * @defaultValue 60000
   */
  expireRefreshMs?: number;
  /** Wall clock. */
  now: () => number;
  onError: (what: string, err: unknown) => void;
}

/**
 * The supervisor feed's Redis writes, batched: every call's events, live-call
 * updates, scopes and alerts of one flush (at most `flushEveryMs` for the
 * once-a-second `call.scores`, the next turn for rarer events) go to Redis as ONE
 * MULTI…EXEC (one round trip, one ioredis pipeline object, one PUBLISH
 * carrying every event as a JSON array), instead of a MULTI of 4-6 commands
 * per event (issue 13: about ten Redis commands and 1-2 ms of main-thread
 * CPU per call-second went to the feed).
 *
 * Order: the state writes of a batch come before its PUBLISH, so an event a
 * supervisor sees is already in the history and the snapshot. Within a
 * batch, the last write to a key wins, as it would have one after the other.
 * Per call: one RPUSH of that call's events; LTRIM only once a list is over
 * `maxHistory` (the RPUSH reply says so); PEXPIRE at most once per
 * `expireRefreshMs`.
 */
export class FeedWriter {
  private readonly flushEveryMs: number;
  private readonly maxPending: number;
  private readonly expireRefreshMs: number;
  /** Envelope JSON per event, in order: the PUBLISH payload. */
  private envelopes: string[] = [];
  /** History key → its events' JSON, in order. */
  private history = new Map<string, string[]>();
  /** Call id → live state JSON (put) or null (removed). */
  private live = new Map<string, string | null>();
  private scopes = new Map<string, string>();
  private alerts = new Map<string, { json: string; at: number }>();
  /** History keys whose call ended in this batch: pushed out once more, then forgotten. */
  private ended = new Set<string>();
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** History key → when this instance last pushed its expiry out (wall ms). */
  private expiresPushed = new Map<string, number>();
  private lastExpirePrune = 0;
  private readonly scopeJson = new WeakMap<WriterScope, string>();
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly options: FeedWriterOptions) {
    this.flushEveryMs = options.flushEveryMs ?? 100;
    this.maxPending = options.maxPending ?? 1000;
    this.expireRefreshMs = options.expireRefreshMs ?? 60_000;
  }

  /** Scope objects are per call and never mutated: stringify each once. */
  private scopeText(scope: WriterScope): string {
    let s = this.scopeJson.get(scope);
    if (s === undefined) {
      s = JSON.stringify(scope);
      this.scopeJson.set(scope, s);
    }
    return s;
  }

  /** Queues an event for the channel and its call's history. */
  publish(msg: SupervisorFeedEvent, scope: WriterScope, callId: string): void {
    const msgJson = JSON.stringify(msg);
    this.envelopes.push(`{"scope":${this.scopeText(scope)},"msg":${msgJson}}`);
    const key = this.options.keys.callHistory(callId);
    const list = this.history.get(key);
    if (list === undefined) this.history.set(key, [msgJson]);
    else list.push(msgJson);
    // The call's last event: its history must outlive it by the full TTL.
    if (msg.type === 'call.ended') {
      this.expiresPushed.delete(key);
      this.ended.add(key);
    }
    this.added(msg.type !== 'call.scores');
  }

  putLiveCall(call: LiveCall, scope: WriterScope): void {
    this.live.set(call.callId, `{"call":${JSON.stringify(call)},"scope":${this.scopeText(scope)}}`);
    this.added();
  }

  removeLiveCall(callId: string): void {
    this.live.set(callId, null);
    this.added();
  }

  putScope(callId: string, scope: WriterScope): void {
    this.scopes.set(callId, this.scopeText(scope));
    this.added();
  }

  putAlert(alert: Alert, scope: WriterScope): void {
    this.alerts.set(alert.alertId, { json: `{"alert":${JSON.stringify(alert)},"scope":${this.scopeText(scope)}}`, at: this.options.now() });
    this.added();
  }

  /** @param soon send on the next event-loop turn rather than after `flushEveryMs`. */
  private added(soon = false): void {
    this.pending += 1;
    if (this.pending >= this.maxPending) {
      void this.flush();
      return;
    }
    if (this.immediate !== undefined) return;
    if (soon || this.flushEveryMs === 0) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(() => void this.flush());
      return;
    }
    if (this.timer === undefined) this.timer = setTimeout(() => void this.flush(), this.flushEveryMs);
  }

  /** Writes in Redis; resolves when they are done (or failed, logged). */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.pending === 0) return Promise.all(this.inFlight).then(() => undefined);
    const { redis, keys, historyTtlMs, liveTtlMs, alertTtlMs } = this.options;
    const { envelopes, history, live, scopes, alerts, ended } = this;
    this.ended = new Set();
    this.envelopes = [];
    this.history = new Map();
    this.live = new Map();
    this.scopes = new Map();
    this.alerts = new Map();
    this.pending = 0;

    const now = this.options.now();
    const multi = redis.multi();
    for (const [callId, json] of scopes) multi.set(keys.callScope(callId), json, 'PX', historyTtlMs);
    const added: string[] = [];
    const removed: string[] = [];
    for (const [callId, json] of live) {
      if (json === null) {
        multi.del(keys.liveCall(callId));
        removed.push(callId);
      } else {
        multi.set(keys.liveCall(callId), json, 'PX', liveTtlMs);
        added.push(callId);
      }
    }
    if (added.length > 0) multi.sadd(keys.liveCalls, ...added);
    if (removed.length > 0) multi.srem(keys.liveCalls, ...removed);
    if (alerts.size > 0) {
      const scored: (string | number)[] = [];
      for (const [alertId, { json, at }] of alerts) {
        multi.set(keys.alert(alertId), json, 'PX', alertTtlMs);
        scored.push(at, alertId);
      }
      multi.zadd(keys.alertIndex, ...scored);
      multi.zremrangebyscore(keys.alertIndex, '-inf', now - alertTtlMs);
    }
    // Reply index of each RPUSH, to trim only the lists that went over.
    const pushes: { key: string; at: number }[] = [];
    let index = scopes.size + live.size + (added.length > 0 ? 1 : 0) + (removed.length > 0 ? 1 : 0) + (alerts.size > 0 ? alerts.size + 2 : 0);
    for (const [key, events] of history) {
      multi.rpush(key, ...events);
      pushes.push({ key, at: index });
      index += 1;
      const pushed = this.expiresPushed.get(key);
      if (pushed === undefined || now - pushed >= this.expireRefreshMs) {
        multi.pexpire(key, historyTtlMs + this.expireRefreshMs);
        index += 1;
        // An ended call's stamp would only wait to be pruned: nothing more is expected for it.
        if (ended.has(key)) this.expiresPushed.delete(key);
        else this.expiresPushed.set(key, now);
      }
    }
    if (envelopes.length > 0) multi.publish(keys.supervisorChannel, envelopes.length === 1 ? envelopes[0]! : `[${envelopes.join(',')}]`);
    this.pruneExpiries(now);

    const done = multi
      .exec()
      .then((replies) => {
        const over: string[] = [];
        for (const p of pushes) {
          const reply = replies?.[p.at];
          if (reply !== undefined && reply[0] === null && typeof reply[1] === 'number' && reply[1] > this.options.maxHistory) over.push(p.key);
        }
        if (over.length === 0) return;
        const trim = redis.multi();
        for (const key of over) trim.ltrim(key, -this.options.maxHistory, -1);
        return trim.exec().then(() => undefined);
      })
      .catch((err: unknown) => this.options.onError('publish', err))
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return Promise.all(this.inFlight).then(() => undefined);
  }

  /** History keys this writer keeps an expiry stamp for: its calls still streaming (and, for two refresh periods, ones that ended elsewhere). */
  get expiryStamps(): number {
    return this.expiresPushed.size;
  }

  /** Forgets expiry stamps of calls quiet for two refresh periods (ended elsewhere, or remote). */
  private pruneExpiries(now: number): void {
    if (now - this.lastExpirePrune < this.expireRefreshMs) return;
    this.lastExpirePrune = now;
    for (const [key, at] of this.expiresPushed) if (now - at >= 2 * this.expireRefreshMs) this.expiresPushed.delete(key);
  }

  /** Sends what is pending and waits for every write. */
  close(): Promise<void> {
    return this.flush();
  }
}
