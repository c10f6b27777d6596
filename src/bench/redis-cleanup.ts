/**
 * Removes what a bench run left in the shared Redis: the routing queue
 * (BullMQ) and the delivery / supervisor-feed keys under `ut:<queue>:`.
 * Best effort: a failure is reported, not thrown.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export async function removeQueue(redisUrl: string, queueName: string): Promise<string | undefined> {
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  queue.on('error', () => undefined);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await queue.obliterate({ force: true });
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `ut:${queueName}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}
