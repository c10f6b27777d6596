/**
 * Per-IP WebSocket connection rate: at most `perMinute` upgrades per client
 * IP in any sliding minute (counted in 6 buckets of 10 s). Over it the
 * upgrade is answered with HTTP 429 `UT_ERR_RATE_LIMITED` and no socket.
 * A reconnect storm from one host cannot crowd out everyone else's.
 *
 * Memory is bounded: at most `maxTrackedIps` addresses are tracked; beyond
 * it the least recently seen are forgotten (they start afresh).
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';

export interface ConnectionRateOptions {
  /** Upgrades per IP per minute; 0 disables. */
  perMinute: number;
  metrics: Metrics;
  /** @defaultValue 100000 */
  maxTrackedIps?: number;
  /** Clock, ms. @defaultValue `Date.now` */
  now?: () => number;
}

const BUCKET_MS = 10_000;
const BUCKETS = 6;

export function registerConnectionRateLimit(app: FastifyInstance, options: ConnectionRateOptions): void {
  if (options.perMinute === 0) return;
  const now = options.now ?? Date.now;
  const maxIps = options.maxTrackedIps ?? 100_000;
  // ip → counts per 10-s bucket, keyed by bucket number; Map order = least recently seen first.
  const seen = new Map<string, Map<number, number>>();

  app.addHook('onRequest', async (request, reply) => {
    if (!request.ws) return;
    const ip = request.ip;
    const bucket = Math.floor(now() / BUCKET_MS);
    const counts = seen.get(ip) ?? new Map<number, number>();
    seen.delete(ip);
    seen.set(ip, counts);
    let total = 0;
    for (const [b, n] of counts) {
      if (b <= bucket - BUCKETS) counts.delete(b);
      else total += n;
    }
    if (seen.size > maxIps) seen.delete(seen.keys().next().value as string);
    if (total >= options.perMinute) {
      options.metrics.refused('connection_rate');
      request.log.warn({ ip, perMinute: options.perMinute }, 'connection refused: per-IP rate');
      return reply
        .code(429)
        .header('retry-after', String(BUCKET_MS / 1000))
        .send({ error: 'UT_ERR_RATE_LIMITED', message: `more than ${options.perMinute} connections per minute from this address` });
    }
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  });
}
