/**
 * `GET /healthz` — the process is up (liveness; no dependency checked).
 * `GET /readyz` — the service can take calls: Redis answers PING and the
 * model is loaded; 503 naming the failed part otherwise (and while shutting down).
 */
import type { FastifyInstance } from 'fastify';
import type { EmotionModel } from '../model/types.js';

/** The slice of an ioredis client readiness needs. */
export interface RedisPing {
  ping(): Promise<string>;
}

export interface HealthRouteOptions {
  redis: RedisPing;
  model: EmotionModel | undefined;
  /** True once shutdown began: readiness fails so load balancers stop sending calls. */
  isShuttingDown: () => boolean;
  /** The publisher's health: not ready while events wait for Redis or just failed (issue 12). */
  publisher?: () => { ok: true } | { ok: false; error: string };
  /** How long to wait for PING, ms (default 1000). */
  redisTimeoutMs?: number;
}

type Check = { ok: true; detail?: string } | { ok: false; error: string };

async function pingRedis(redis: RedisPing, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const answer = await Promise.race([redis.ping(), timeout]);
    return answer === 'PONG' ? { ok: true } : { ok: false, error: `unexpected PING answer ${String(answer)}` };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthRouteOptions): void {
  const timeoutMs = options.redisTimeoutMs ?? 1000;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const model: Check =
      options.model && options.model.featureNames.length > 0
        ? { ok: true, detail: options.model.version }
        : { ok: false, error: 'model not loaded' };
    const checks: Record<string, Check> = {
      redis: await pingRedis(options.redis, timeoutMs),
      model,
    };
    if (options.publisher) checks['publisher'] = options.publisher();
    if (options.isShuttingDown()) checks['server'] = { ok: false, error: 'shutting down' };
    const failed = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    reply.code(failed.length === 0 ? 200 : 503);
    return { status: failed.length === 0 ? 'ready' : 'not_ready', failed, checks };
  });
}
