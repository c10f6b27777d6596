/**
 * The service's Redis connections: one server (`REDIS_URL`), or a Redis
 * Cluster reached through one seed node (`REDIS_CLUSTER`). Every module
 * takes an ioredis `Redis`; an ioredis `Cluster` offers the same commands,
 * pub/sub, MULTI and Lua (`eval`/`defineCommand`), as long as each command's
 * keys share a slot, which `REDIS_PREFIX` with a hash tag guarantees (config
 * validation refuses REDIS_CLUSTER without one). BullMQ takes a Cluster as
 * its connection as it is.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionConfig {
  /** `REDIS_URL`: the server, or one seed node of the cluster. */
  redisUrl: string;
  /** `REDIS_CLUSTER`. */
  redisCluster: boolean;
}

/**
 * A new connection. For a cluster, `options` apply to every node connection
 * (and the URL's password/TLS/db are taken from the seed URL).
 */
export function connectRedis(config: RedisConnectionConfig, options: RedisOptions = {}): Redis {
  if (!config.redisCluster) return new Redis(config.redisUrl, options);
  const url = new URL(config.redisUrl);
  const nodeOptions: RedisOptions = {
    ...options,
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const cluster = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    redisOptions: nodeOptions,
    // The cluster object connects by itself unless told not to (callers that `connect()` themselves).
    ...(options.lazyConnect === true ? { lazyConnect: true } : {}),
  });
  // Same command surface (see above); the modules are typed against Redis.
  return cluster as unknown as Redis;
}
