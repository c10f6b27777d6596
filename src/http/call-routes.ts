/**
 * `GET /v1/calls` — live calls with their tier and latest scores.
 * `GET /v1/calls/:callId` — one live or recently finished call: its score
 * timeline and policy events so far; once ended also its post-call `summary`
 * and `survey` (from Redis: `{callId, state, summary, survey}` only, after
 * the in-memory history forgot it); 404 `UT_ERR_CALL_NOT_FOUND` otherwise.
 * `POST /v1/calls/:callId/bot-turns` `{"resolved": boolean}` — the gateway
 * reports one voicebot/IVR turn of a live call (unresolved turns count toward
 * the bot handover); 202 once decided, 404 for a call that is not live,
 * 400 for a bad body.
 * `PUT /v1/calls/:callId/agent` {"agentId"} — (re)assigns a live call's agent
 * (gateways that cannot pass one at start, transfers): prompts decided from
 * then on go to the new agent. 404 for a call that is not live, 400
 * `UT_ERR_BAD_REQUEST` for a body without a valid agentId.
 */
import type { FastifyInstance } from 'fastify';
import type { CallRegistry } from '../calls/call-registry.js';
import type { SummaryStore } from '../calls/summary-store.js';
import { CallNotFoundError, HttpError } from '../shared/errors.js';
import { isValidAgentId } from '../shared/ids.js';

export function registerCallRoutes(app: FastifyInstance, registry: CallRegistry, summaries?: SummaryStore): void {
  app.get('/v1/calls', async () => ({ calls: registry.list() }));

  app.get<{ Params: { callId: string } }>('/v1/calls/:callId', async (request) => {
    const detail = registry.detail(request.params.callId);
    if (detail && detail.state !== 'ended') return detail;
    // Ended: add the kept post-call summary and survey; after the in-memory
    // history forgot the call (or on another instance) they are all there is.
    let kept: Awaited<ReturnType<SummaryStore['get']>> | undefined;
    try {
      kept = summaries ? await summaries.get(request.params.callId) : undefined;
    } catch (err) {
      // Redis away: a call this instance still remembers is answered from
      // memory; only a forgotten one needs the store.
      if (!detail) throw err;
      request.log.warn({ err, callId: request.params.callId }, 'kept summary unreadable (Redis); answering from memory');
    }
    if (detail) return kept ? { ...detail, summary: kept.summary, survey: kept.survey } : detail;
    if (kept) return { callId: request.params.callId, state: 'ended', summary: kept.summary, survey: kept.survey };
    throw new CallNotFoundError(request.params.callId);
  });

  app.post<{ Params: { callId: string }; Body: { resolved: boolean } }>(
    '/v1/calls/:callId/bot-turns',
    {
      schema: {
        body: {
          type: 'object',
          required: ['resolved'],
          additionalProperties: false,
          properties: { resolved: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const session = registry.session(request.params.callId);
      if (!session) throw new CallNotFoundError(request.params.callId);
      await session.reportBotTurn(request.body.resolved);
      reply.code(202);
      return { callId: session.callId, resolved: request.body.resolved, tier: session.summary().tier };
    },
  );

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
