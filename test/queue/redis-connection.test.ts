import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/queue/redis-connection.js';

describe('connectRedis', () => {
  it('makes a plain connection unless REDIS_CLUSTER is on', () => {
    const r = connectRedis({ redisUrl: 'redis://127.0.0.1:6390', redisCluster: false }, { lazyConnect: true, connectionName: 'x' });
    expect(r).toBeInstanceOf(Redis);
    expect(r.options.connectionName).toBe('x');
    r.disconnect();
  });

  it('makes a Cluster from the seed URL, passing node options, credentials and lazyConnect through', () => {
    const r = connectRedis({ redisUrl: 'redis://user:p%40ss@10.0.0.5:7001', redisCluster: true }, { lazyConnect: true, maxRetriesPerRequest: null });
    expect(r).toBeInstanceOf(Cluster);
    const c = r as unknown as Cluster;
    // lazyConnect reached the cluster itself: it has not started connecting.
    expect(c.status).toBe('wait');
    expect(c.options.redisOptions).toMatchObject({ password: 'p@ss', username: 'user', maxRetriesPerRequest: null });
    expect((c as unknown as { startupNodes: unknown[] }).startupNodes).toEqual([{ host: '10.0.0.5', port: 7001 }]);
    c.disconnect();
  });
});
