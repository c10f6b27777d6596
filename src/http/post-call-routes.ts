/**
 * `POST /v1/calls/:callId/survey` `{"csat"?: 1-5, "ces"?: 1-7, "nps"?: 0-10}`:
 * the caller's survey scores, stored with the call's post-call summary (and
 * merged with earlier answers for the call). 200 with the stored scores;
 * 400 `UT_ERR_INVALID_SURVEY` naming every problem; 404 for a call that is
 * neither live (on any instance) nor recently ended here, nor kept in Redis.
 */
import type { FastifyInstance } from 'fastify';
import type { CallRegistry } from '../calls/call-registry.js';
import type { SummaryStore, SurveyScores } from '../calls/summary-store.js';
import { CallNotFoundError, HttpError } from '../shared/errors.js';

/** The survey body is not what the endpoint takes; `problems` lists every one. */
export class InvalidSurveyError extends HttpError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('UT_ERR_INVALID_SURVEY', 400, `invalid survey: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** Survey scales: CSAT 1-5, CES 1-7, NPS 0-10, whole numbers. */
export const SURVEY_SCALES: Readonly<Record<keyof SurveyScores, readonly [number, number]>> = {
  csat: [1, 5],
  ces: [1, 7],
  nps: [0, 10],
};

/** Validates a survey body, listing every problem. @throws InvalidSurveyError */
export function parseSurvey(body: unknown): SurveyScores {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidSurveyError(['body must be a JSON object like {"csat": 4, "ces": 2, "nps": 9}']);
  }
  const problems: string[] = [];
  const scores: SurveyScores = {};
  for (const key of Object.keys(body)) {
    if (!Object.hasOwn(SURVEY_SCALES, key)) problems.push(`unknown field ${JSON.stringify(key)} (csat, ces and nps are taken)`);
  }
  for (const [key, [min, max]] of Object.entries(SURVEY_SCALES) as [keyof SurveyScores, readonly [number, number]][]) {
    const v = (body as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
    } else {
      scores[key] = v;
    }
  }
  if (problems.length === 0 && Object.keys(scores).length === 0) problems.push('give at least one of csat, ces, nps');
  if (problems.length > 0) throw new InvalidSurveyError(problems);
  return scores;
}

export function registerSurveyRoute(app: FastifyInstance, registry: CallRegistry, store: SummaryStore): void {
  app.post<{ Params: { callId: string } }>('/v1/calls/:callId/survey', async (request) => {
    const { callId } = request.params;
    const scores = parseSurvey(request.body);
    // A survey usually comes after the call, but the call may still be live, here or on another instance.
    const known = registry.detail(callId) !== undefined || (await store.isKnown(callId));
    if (!known) throw new CallNotFoundError(callId);
    const survey = await store.saveSurvey(callId, scores);
    request.log.info({ callId, survey }, 'survey stored');
    return { callId, survey };
  });
}
