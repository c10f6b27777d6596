import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { AgentHub } from '../../src/delivery/agent-messages.js';

/** No agent sockets in these tests: a hub that registers nothing. */
const noHub: AgentHub = { register: () => () => undefined, connectedAgents: () => new Map() };
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import { createBullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { captureLogger, getJson, loadTestModel, REDIS_URL, startTestService, uniqueName, type TestService } from '../integration/helpers.js';

describe('health, readiness and coded HTTP errors', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('GET /healthz answers 200 {status: ok}', async () => {
    expect(await getJson(`${svc.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('GET /readyz answers 200 when Redis answers PING and the model is loaded', async () => {
    const { status, body } = await getJson<Record<string, unknown>>(`${svc.url}/readyz`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', failed: [], checks: { redis: { ok: true }, model: { ok: true, detail: expect.any(String) } } });
  });

  it('answers unknown routes with a coded 404', async () => {
    expect(await getJson(`${svc.url}/v1/nope?x=1`)).toEqual({
      status: 404,
      body: { error: 'UT_ERR_ROUTE_NOT_FOUND', message: 'no route GET /v1/nope' },
    });
  });

  it('answers a plain GET on a WebSocket route with 404 (upgrade required there)', async () => {
    const res = await fetch(`${svc.url}/v1/streams/twilio`);
    expect(res.status).toBe(404);
  });
});

describe('GET /readyz when Redis is away', () => {
  it('answers 503 naming redis as the failed part', async () => {
    const { logger } = captureLogger();
    // Nothing listens on port 1; no offline queue, so PING fails at once.
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const live = new Redis(REDIS_URL);
    const publisher = createBullmqPublisher({ connection: live, queueName: uniqueName('ut-test-ready'), logger });
    const app = await buildApp(loadConfig({ PORT: '0' }), {
      logger,
      model: await loadTestModel(),
      policyFactory: createEscalationPolicy(),
      publisher,
      hub: noHub,
      redis: dead,
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address() as { port: number };
      const { status, body } = await getJson<Record<string, unknown>>(`http://127.0.0.1:${address.port}/readyz`);
      expect(status).toBe(503);
      expect(body).toMatchObject({ status: 'not_ready', failed: ['redis'], checks: { redis: { ok: false, error: expect.any(String) }, model: { ok: true } } });
    } finally {
      await app.close();
      await publisher.close();
      dead.disconnect();
      await live.quit();
    }
  });
});
