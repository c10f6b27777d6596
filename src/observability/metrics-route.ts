/**
 * `GET /metrics`: Prometheus text exposition of the app's Metrics registry.
 * Open like the probes (see src/http/auth/access-rules.ts for why).
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
