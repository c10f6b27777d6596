/**
 * `GET /v1/calls` — live calls with their tier and latest scores.
 * `GET /v1/calls/:callId` — one live or recently finished call: its score
 * timeline and policy events so far; 404 `UT_ERR_CALL_NOT_FOUND` otherwise.
 * `PUT /v1/calls/:callId/agent` {"agentId"} — (re)assigns a live call's agent
 * (gateways that cannot pass one at start, transfers): prompts decided from
 * then on go to the new agent. 404 for a call that is not live, 400
 * `UT_ERR_BAD_REQUEST` for a body without a valid agentId.
 */
import type { FastifyInstance } from 'fastify';
import type { CallRegistry } from '../calls/call-registry.js';
import { CallNotFoundError, HttpError } from '../shared/errors.js';
import { isValidAgentId } from '../shared/ids.js';

export function registerCallRoutes(app: FastifyInstance, registry: CallRegistry): void {
  app.get('/v1/calls', async () => ({ calls: registry.list() }));

  app.get<{ Params: { callId: string } }>('/v1/calls/:callId', async (request) => {
    const detail = registry.detail(request.params.callId);
    if (!detail) throw new CallNotFoundError(request.params.callId);
    return detail;
  });

  app.put<{ Params: { callId: string }; Body: unknown }>('/v1/calls/:callId/agent', async (request) => {
    const body = request.body;
    const agentId = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)['agentId'] : undefined;
    if (typeof agentId !== 'string' || !isValidAgentId(agentId)) {
      throw new HttpError('UT_ERR_BAD_REQUEST', 400, 'body must be {"agentId": "<1-128 characters of [A-Za-z0-9._-]>"}');
    }
    const session = registry.session(request.params.callId);
    if (!session || session.currentState !== 'live') {
      throw new HttpError('UT_ERR_CALL_NOT_FOUND', 404, `no live call with id '${request.params.callId}'`);
    }
    const previousAgentId = session.agentId ?? null;
    session.assignAgent(agentId);
    return { callId: session.callId, agentId, previousAgentId };
  });
}
