/**
 * `GET /v1/calls` — live calls with their tier and latest scores.
 * `GET /v1/calls/:callId` — one live or recently finished call: its score
 * timeline and policy events so far; 404 `UT_ERR_CALL_NOT_FOUND` otherwise.
 */
import type { FastifyInstance } from 'fastify';
import type { CallRegistry } from '../calls/call-registry.js';
import { CallNotFoundError } from '../shared/errors.js';

export function registerCallRoutes(app: FastifyInstance, registry: CallRegistry): void {
  app.get('/v1/calls', async () => ({ calls: registry.list() }));

  app.get<{ Params: { callId: string } }>('/v1/calls/:callId', async (request) => {
    const detail = registry.detail(request.params.callId);
    if (!detail) throw new CallNotFoundError(request.params.callId);
    return detail;
  });
}
