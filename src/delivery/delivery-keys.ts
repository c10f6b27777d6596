/**
 * Redis key and channel names shared by every instance and worker. All live
 * under `ut:<namespace>:`; the namespace is the routing queue name, so
 * instances that share a queue share delivery and the supervisor feed, and
 * tests with unique queue names never see each other's keys.
 *
 * Ids from the outside (agent, call, stream) are URI-encoded so a `:` inside
 * one cannot make two keys collide.
 *
 * `REDIS_PREFIX` (src/queue/redis-prefix.ts) goes in front of the lot:
 * `<prefix>:ut:<namespace>:…`; with a hash tag such as `{undertone}` every
 * key and channel here shares the routing queue's Redis Cluster slot.
 */
const enc = encodeURIComponent;

export interface DeliveryKeys {
  /** Redis Stream of messages for one agent (the mailbox); bounded and expiring. */
  agentInbox(agentId: string): string;
  /** Id of the last inbox entry sent to at least one socket of the agent. */
  agentCursor(agentId: string): string;
  /** Pub/sub channel nudging instances that hold a socket of the agent. */
  agentChannel(agentId: string): string;
  /** Hash per call + stream: highest applied priority seq/tier, last posted prompt/priority seq. */
  callOrder(callId: string, streamId: string): string;
  /** Bitmap per call + stream: bit `seq` set once that event's job was handled (posted, dropped, no agent). */
  callHandled(callId: string, streamId: string): string;
  /** Lock serialising priority jobs of one call + stream across workers. */
  callLock(callId: string, streamId: string): string;
  /** Pub/sub channel of the supervisor feed (every event, every call). */
  supervisorChannel: string;
  /** Set of live call ids (members whose call key expired are removed lazily). */
  liveCalls: string;
  /** One live call's state (JSON), expiring unless its instance keeps refreshing it. */
  liveCall(callId: string): string;
  /** List of one call's feed events (JSON), oldest first, capped; outlives the call by the history TTL. */
  callHistory(callId: string): string;
  /** A call's team/queue scope (JSON), for events raised away from the call's instance (prompt acks). */
  callScope(callId: string): string;
  /** Sorted set of alert ids by raise time (ms). */
  alertIndex: string;
  /** One alert (JSON), with its ack once acknowledged. */
  alert(alertId: string): string;
}

/** The root of every Undertone key and channel of a namespace: `ut:<namespace>`, behind `redisPrefix` when one is set. */
export function keyRoot(namespace: string, redisPrefix = ''): string {
  return redisPrefix === '' ? `ut:${namespace}` : `${redisPrefix}:ut:${namespace}`;
}

/** @param redisPrefix `REDIS_PREFIX` (default none). */
export function deliveryKeys(namespace: string, redisPrefix = ''): DeliveryKeys {
  const p = keyRoot(namespace, redisPrefix);
  return {
    agentInbox: (agentId) => `${p}:agent:${enc(agentId)}:inbox`,
    agentCursor: (agentId) => `${p}:agent:${enc(agentId)}:cursor`,
    agentChannel: (agentId) => `${p}:agent:${enc(agentId)}:notify`,
    callOrder: (callId, streamId) => `${p}:order:${enc(callId)}:${enc(streamId)}`,
    callHandled: (callId, streamId) => `${p}:handled:${enc(callId)}:${enc(streamId)}`,
    callLock: (callId, streamId) => `${p}:lock:${enc(callId)}:${enc(streamId)}`,
    supervisorChannel: `${p}:supervisor`,
    liveCalls: `${p}:live`,
    liveCall: (callId) => `${p}:live:${enc(callId)}`,
    callHistory: (callId) => `${p}:history:${enc(callId)}`,
    callScope: (callId) => `${p}:scope:${enc(callId)}`,
    alertIndex: `${p}:alerts`,
    alert: (alertId) => `${p}:alert:${enc(alertId)}`,
  };
}

/** Agent id of an agent channel name, or undefined for another channel. */
export function agentOfChannel(namespace: string, channel: string, redisPrefix = ''): string | undefined {
  const head = `${keyRoot(namespace, redisPrefix)}:agent:`;
  const tail = ':notify';
  if (!channel.startsWith(head) || !channel.endsWith(tail) || channel.length < head.length + tail.length) return undefined;
  const id = channel.slice(head.length, channel.length - tail.length);
  // Encoded ids carry no ':'; one here means another key shape.
  if (id.includes(':')) return undefined;
  return decodeURIComponent(id);
}
