import { Queue } from 'bullmq';
import fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAdminQueues } from '../../src/http/admin-queues.js';
import { dropQueue, newRedis, uniqueQueueName } from '../queue/helpers.js';

describe('/admin/queues (bull-board)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup() {
    const redis = newRedis();
    const name = uniqueQueueName();
    const queue = new Queue(name, { connection: redis });
    cleanup.push(() => redis.quit(), () => dropQueue(name, redis), () => queue.close());
    await queue.add('prompt', { callId: 'c-1' }, { jobId: 'c-1_1_prompt' });
    const app = fastify();
    await registerAdminQueues(app, { queues: [queue] });
    cleanup.push(() => app.close());
    return { app, name };
  }

  it('serves the board page and lists the routing queue with its jobs', async () => {
    const { app, name } = await setup();
    const page = await app.inject({ method: 'GET', url: '/admin/queues' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await app.inject({ method: 'GET', url: '/admin/queues/api/queues' });
    expect(api.statusCode).toBe(200);
    const body = api.json() as { queues: Array<{ name: string; counts: Record<string, number> }> };
    const q = body.queues.find((x) => x.name === name);
    expect(q?.counts['waiting']).toBe(1);
  });
});
