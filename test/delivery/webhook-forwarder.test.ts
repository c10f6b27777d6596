import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAgentMailbox } from '../../src/delivery/agent-mailbox.js';
import { createPriorityGuard } from '../../src/delivery/priority-guard.js';
import { createRoutingWorker, type RoutingWorker } from '../../src/delivery/routing-worker.js';
import {
  createWebhookForwarder,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
} from '../../src/delivery/webhook-forwarder.js';
import { createBullmqPublisher, type BullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { dropQueue, handoverEvent, newRedis, priorityEvent, promptEvent, recoveredEvent, silentLogger, uniqueQueueName } from '../queue/helpers.js';
import { publishedSchemaValidator } from '../queue/schema-validator.js';

const SECRET = 'test-secret-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A router on port 0 that answers 503 to the first `failFirst` requests, then 204. */
async function startRouter(failFirst: number): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = received.length <= failFirst ? 503 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/routing`, received };
}

describe('signatures', () => {
  it('verifies what it signs, and nothing altered, forged or stale', () => {
    const body = '{"type":"priority"}';
    const header = signWebhook(SECRET, body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, header, body, { nowS: 1_700_000_010 })).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, `${body} `, { nowS: 1_700_000_010 })).toBe(false);
    expect(verifyWebhookSignature('another-secret-123456', header, body, { nowS: 1_700_000_010 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, { nowS: 1_700_001_000 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, body)).toBe(false);
    expect(verifyWebhookSignature(SECRET, 't=1,v1=zz', body, { nowS: 1 })).toBe(false);
  });
});

describe('routing webhook through the worker (real Redis)', () => {
  let redis: Redis;
  let queueName: string;
  let publisher: BullmqPublisher;
  let worker: RoutingWorker | undefined;
  let server: Server | undefined;

  beforeEach(() => {
    redis = newRedis();
    queueName = uniqueQueueName();
    // Retries 10 ms apart so the test does not wait on production backoff.
    publisher = createBullmqPublisher({ connection: redis, queueName, logger: silentLogger(), jobOptions: { attempts: 4, backoffDelayMs: 10 } });
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await publisher.close();
    await dropQueue(queueName, redis);
    await redis.quit();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('POSTs priority, recovered and handover jobs signed, retries a refused one, and never forwards prompts', async () => {
    const router = await startRouter(1);
    server = router.server;
    const forwarder = createWebhookForwarder({ url: router.url, secret: SECRET, logger: silentLogger() });
    const mailbox = createAgentMailbox({ redis, namespace: queueName });
    const guard = createPriorityGuard({ redis, namespace: queueName });
    worker = createRoutingWorker({ connection: redis, queueName, mailbox, guard, logger: silentLogger(), forwarders: [forwarder] });
    await worker.waitUntilReady();

    await publisher.publish(priorityEvent({ seq: 1, tier: 2 }), { agentId: 'agent-7' });
    await vi.waitFor(() => expect(router.received).toHaveLength(2), { timeout: 10_000 });
    await publisher.publish(promptEvent({ seq: 2 }), { agentId: 'agent-7' });
    await publisher.publish(recoveredEvent({ seq: 3 }), { agentId: 'agent-7' });
    await publisher.publish(handoverEvent({ seq: 4 }), { agentId: 'agent-7' });
    await vi.waitFor(() => expect(router.received).toHaveLength(4), { timeout: 10_000 });

    // First try refused (503), the retry accepted: same delivery id, both signed.
    const [first, retry, recovered, handover] = router.received as [Received, Received, Received, Received];
    expect(first.headers[DELIVERY_HEADER]).toBe('call-42_1_priority');
    expect(retry.headers[DELIVERY_HEADER]).toBe('call-42_1_priority');
    expect(first.body).toBe(retry.body);
    const check = publishedSchemaValidator();
    for (const r of router.received) {
      expect(verifyWebhookSignature(SECRET, r.headers[SIGNATURE_HEADER] as string, r.body)).toBe(true);
      expect(r.headers['content-type']).toBe('application/json');
      const data = JSON.parse(r.body) as { type: string };
      expect(r.headers[EVENT_HEADER]).toBe(data.type);
      expect(check(data), JSON.stringify(check.errors)).toBe(true);
    }
    expect([recovered, handover].map((r) => r.headers[EVENT_HEADER])).toEqual(['recovered', 'handover']);
    expect(JSON.parse(handover.body)).toMatchObject({ type: 'handover', target: 'special-team', context: { trigger: 'level' } });

    const inspect = new Queue(queueName, { connection: redis });
    const job = await inspect.getJob('call-42_1_priority');
    expect(job?.attemptsMade).toBe(2);
    expect(await job?.getState()).toBe('completed');
    await inspect.close();
  });

  it('fails the job (for BullMQ to retry) when the router is unreachable', async () => {
    const router = await startRouter(0);
    const url = router.url;
    await new Promise<void>((resolve) => router.server.close(() => resolve()));
    const forwarder = createWebhookForwarder({ url, secret: SECRET, logger: silentLogger(), timeoutMs: 2000 });
    await expect(forwarder.forward(priorityEvent() as never, 'call-42_1_priority')).rejects.toMatchObject({ code: 'UT_ERR_WEBHOOK_DELIVERY' });
  });
});
