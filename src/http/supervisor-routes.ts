/**
 * `GET /v1/supervisor/calls/:callId` — a call's supervisor-feed history from
 * Redis, answered by ANY instance (unlike `GET /v1/calls/:callId`, which only
 * the instance the call streams into can answer): the live state (null once
 * ended) and every feed event of the call so far, oldest first — start,
 * scores (≈1/s), tier changes with reasons, alerts with acks, prompts, prompt
 * acks, end with summary. 404 `UT_ERR_CALL_NOT_FOUND` when Redis has none.
 */
import type { FastifyInstance } from 'fastify';
import type { SupervisorFeed } from '../delivery/supervisor-feed.js';
import type { LiveCall, SupervisorFeedEvent } from '../delivery/supervisor-messages.js';
import { CallNotFoundError } from '../shared/errors.js';

export interface SupervisorCallHistory {
  callId: string;
  live: LiveCall | null;
  events: SupervisorFeedEvent[];
}

export function registerSupervisorRoutes(app: FastifyInstance, feed: SupervisorFeed): void {
  app.get<{ Params: { callId: string } }>('/v1/supervisor/calls/:callId', async (request): Promise<SupervisorCallHistory> => {
    const { callId } = request.params;
    const [events, live] = await Promise.all([feed.history(callId), feed.liveCall(callId)]);
    if (events.length === 0 && live === null) throw new CallNotFoundError(callId);
    return { callId, live, events };
  });
}
