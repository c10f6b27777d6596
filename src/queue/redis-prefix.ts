/**
 * One prefix in front of every Redis key and pub/sub channel Undertone uses
 * (`REDIS_PREFIX`): the BullMQ routing queue's keys and Undertone's own
 * (delivery, supervisor feed, post-call summaries). Unset, keys are as they
 * always were: `bull:<queue>:…` and `ut:<queue>:…`. Set to `P`, they become
 * `P:bull:<queue>:…` and `P:ut:<queue>:…`.
 *
 * Redis Cluster: a multi-key command or Lua script must find all its keys in
 * one hash slot, and BullMQ's scripts touch many keys of a queue at once
 * (wait list, job hashes, events stream…), as do Undertone's delivery
 * scripts (an agent's inbox, a call's order hash and handled bitmap). Redis
 * hashes only the part of a key between the first `{` and the next `}` when
 * there is one (a "hash tag"), so a prefix such as `{undertone}` puts every
 * key of the deployment in one slot. That slot lives on one primary: the
 * cluster gives fail-over and room, not a spread of this queue's load (run
 * several routing queues, each with its own hash tag, to spread it).
 */

/** BullMQ's own default key prefix. */
const BULLMQ_DEFAULT_PREFIX = 'bull';

/** The `prefix` option for BullMQ's Queue and Worker. */
export function bullmqPrefix(redisPrefix: string): string {
  return redisPrefix === '' ? BULLMQ_DEFAULT_PREFIX : `${redisPrefix}:${BULLMQ_DEFAULT_PREFIX}`;
}

/** The part of `key` Redis Cluster hashes: the first non-empty `{…}` section, else the whole key (Redis's rule). */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** Characters a prefix may use: it becomes part of keys, channel names and logs. */
const PREFIX_CHARS = /^[A-Za-z0-9._:{}-]{1,64}$/;

/**
 * Why `value` is not a usable REDIS_PREFIX, or undefined when it is (the
 * empty string included). A `{` must open a non-empty hash tag: a prefix
 * that looks like a tag but is not one would scatter keys over slots.
 */
export function redisPrefixProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (!PREFIX_CHARS.test(value)) return 'must be 1-64 characters of [A-Za-z0-9._:{}-], e.g. {undertone}';
  if (value.endsWith(':')) return "must not end with ':' (one is added)";
  if (value.includes('{') && hashTagOf(value) === value) return 'has a { without a closing } after it, or an empty {}';
  return undefined;
}
