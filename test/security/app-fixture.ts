/**
 * An app built with buildApp on real parts (real model, real Redis, BullMQ
 * publisher on a unique queue, real hub) listening on port 0, with the
 * security settings under test, plus helpers to open sockets and read
 * /metrics. Tests may add routes before `listen` via `beforeListen`.
 */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { AgentHub, AgentSink } from '../../src/delivery/agent-messages.js';
import type { EmotionModel } from '../../src/model/types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import { createBullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import type { EventPublisher } from '../../src/queue/publisher.js';
import { captureLogger, loadTestModel, REDIS_URL, uniqueName, type LogLine } from '../integration/helpers.js';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** The in-process side of the AgentHub port: sockets register here; `send` writes to an agent's sockets directly. */
export interface TestHub extends AgentHub {
  send(agentId: string, text: string): number;
}

function createTestHub(): TestHub {
  const sinks = new Map<string, Set<AgentSink>>();
  return {
    register(agentId, sink) {
      const set = sinks.get(agentId) ?? new Set<AgentSink>();
      sinks.set(agentId, set.add(sink));
      return () => set.delete(sink);
    },
    connectedAgents: () => new Map([...sinks].map(([id, set]) => [id, set.size])),
    send(agentId, text) {
      let n = 0;
      for (const sink of sinks.get(agentId) ?? []) {
        try {
          sink.send(text);
          n++;
        } catch {
          // closed socket: nothing to do in a test
        }
      }
      return n;
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  url: string;
  wsUrl: string;
  hub: TestHub;
  metrics: Metrics;
  lines: LogLine[];
  /** Value of one sample in the Prometheus text, e.g. `undertone_refusals_total{reason="max_calls"}`; 0 when absent. */
  metric(sample: string): Promise<number>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  publisher?: EventPublisher;
  model?: EmotionModel;
  appOptions?: AppOptions;
  beforeListen?: (app: FastifyInstance) => void;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({ PORT: '0', JWT_SECRET: SECRET, ...options.env });
  const { logger, lines } = captureLogger('info');
  const redis = new Redis(REDIS_URL);
  redis.on('error', () => undefined);
  const ownPublisher = options.publisher ? undefined : createBullmqPublisher({ connection: REDIS_URL, queueName: uniqueName('ut-test-sec'), logger });
  const hub = createTestHub();
  const metrics = new Metrics({ defaultMetrics: false });
  const app = await buildApp(
    config,
    {
      logger,
      model: options.model ?? (await loadTestModel()),
      policyFactory: createEscalationPolicy(),
      publisher: options.publisher ?? ownPublisher!,
      hub,
      redis,
      metrics,
    },
    options.appOptions,
  );
  options.beforeListen?.(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    hub,
    metrics,
    lines,
    async metric(sample) {
      const text = await metrics.registry.metrics();
      const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
      return line ? Number(line.slice(sample.length + 1)) : 0;
    },
    async close() {
      await app.close();
      await ownPublisher?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Opens a WebSocket: `{ status: 101, ws }` when upgraded, else the HTTP status of the refusal. */
export function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; ws?: WebSocket; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => undefined);
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
  });
}

export function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
