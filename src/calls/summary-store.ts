/**
 * Post-call summaries kept in Redis, shared by every instance: written once
 * when a call ends, read by `GET /v1/calls/:callId` (after the in-memory
 * history forgot the call, or on another instance), by the survey endpoint
 * and by `npm run report`. Everything expires after `ttlS` (`SUMMARY_TTL_S`).
 *
 * Keys, under `ut:<namespace>:` (the routing queue name, as for delivery;
 * behind `REDIS_PREFIX` when set):
 * - `summary:<callId>`   the summary JSON
 * - `survey:<callId>`    the survey JSON (its own key: a survey never races the summary write)
 * - `acks:<callId>`      hash promptId → `used` | `dismissed` (acks may come after the end, on any instance)
 * - `prompt:<promptId>`  the call id of a prompt, for acks that name only the prompt
 * - `summaries`          sorted set of call ids by end time (ms), for reports; expired members dropped as met
 */
import type { Redis } from 'ioredis';
import { deliveryKeys, keyRoot } from '../delivery/delivery-keys.js';
import { PROMPT_FEEDBACK, withFeedback, type PostCallSummary, type PromptFeedback } from './post-call-summary.js';

/** Scores a caller gave after the call (`POST /v1/calls/:callId/survey`). */
export interface SurveyScores {
  /** Customer satisfaction, 1..5. */
  csat?: number;
  /** Customer effort score, 1..7 (lower = less effort). */
  ces?: number;
  /** Net promoter score answer, 0..10. */
  nps?: number;
}

/** A kept call: its summary (with every ack applied) and survey. */
export interface KeptCall {
  summary: PostCallSummary;
  survey: SurveyScores | null;
}

export interface SummaryStoreOptions {
  /** Shared connection (the store never closes it). */
  redis: Redis;
  /** Key namespace: the routing queue name. */
  namespace: string;
  /** `REDIS_PREFIX` in front of every key and channel (src/queue/redis-prefix.ts); default none. */
  redisPrefix?: string;
  /** How long everything is kept, SECONDS. */
  ttlS: number;
  /** Wall clock, ms. @defaultValue `Date.now` */
  now?: () => number;
}

export interface SummaryStore {
  /** Keeps a finished call's summary (and indexes its prompts for acks). */
  save(summary: PostCallSummary): Promise<void>;
  /** A kept call, or undefined when unknown or expired. */
  get(callId: string): Promise<KeptCall | undefined>;
  /** Records an agent's ack of a prompt of `callId`. */
  recordFeedback(callId: string, promptId: string, action: PromptFeedback): Promise<void>;
  /** True when the call has a kept summary, or is live on some instance (the supervisor feed's live-call key). */
  isKnown(callId: string): Promise<boolean>;
  /** The call a kept prompt belongs to. */
  callOfPrompt(promptId: string): Promise<string | undefined>;
  /**
   * When the call's stream `streamId` ended (its summary's `endedAt`), or
   * undefined while no summary of that stream is kept (live, unknown,
   * expired, or a later stream of the call replaced it). The routing worker
   * asks before delivering, so nothing reaches an agent as live after the end.
   */
  streamEndedAt(callId: string, streamId: string): Promise<string | undefined>;
  /** Merges survey scores into the call's survey; the TTL follows the summary's when there is one. */
  saveSurvey(callId: string, scores: SurveyScores): Promise<SurveyScores>;
  /** Kept calls that ended at or after `sinceMs` (epoch ms), oldest first. */
  list(options?: { sinceMs?: number }): Promise<KeptCall[]>;
}

const enc = encodeURIComponent;

export function createSummaryStore(options: SummaryStoreOptions): SummaryStore {
  const { redis, ttlS } = options;
  const now = options.now ?? Date.now;
  const p = keyRoot(options.namespace, options.redisPrefix);
  const liveKeys = deliveryKeys(options.namespace, options.redisPrefix);
  const k = {
    summary: (callId: string) => `${p}:summary:${enc(callId)}`,
    survey: (callId: string) => `${p}:survey:${enc(callId)}`,
    acks: (callId: string) => `${p}:acks:${enc(callId)}`,
    prompt: (promptId: string) => `${p}:prompt:${enc(promptId)}`,
    index: `${p}:summaries`,
  };

  function parseAcks(hash: Record<string, string>): Map<string, PromptFeedback> {
    const m = new Map<string, PromptFeedback>();
    for (const [promptId, action] of Object.entries(hash)) {
      if ((PROMPT_FEEDBACK as readonly string[]).includes(action)) m.set(promptId, action as PromptFeedback);
    }
    return m;
  }

  function assemble(summaryJson: string | null, surveyJson: string | null, acks: Record<string, string>): KeptCall | undefined {
    if (summaryJson === null) return undefined;
    const summary = withFeedback(JSON.parse(summaryJson) as PostCallSummary, parseAcks(acks));
    return { summary, survey: surveyJson === null ? null : (JSON.parse(surveyJson) as SurveyScores) };
  }

  return {
    async save(summary) {
      const endedMs = Date.parse(summary.endedAt);
      const m = redis.multi();
      m.set(k.summary(summary.callId), JSON.stringify(summary), 'EX', ttlS);
      m.zadd(k.index, endedMs, summary.callId);
      // Housekeeping only (list() skips members whose summary expired): generous, as end times are not save times.
      m.zremrangebyscore(k.index, '-inf', now() - 2 * ttlS * 1000);
      for (const prompt of summary.prompts) m.set(k.prompt(prompt.promptId), summary.callId, 'EX', ttlS);
      await m.exec();
    },

    async get(callId) {
      const res = await redis.multi().get(k.summary(callId)).get(k.survey(callId)).hgetall(k.acks(callId)).exec();
      if (!res) return undefined;
      return assemble(res[0]?.[1] as string | null, res[1]?.[1] as string | null, (res[2]?.[1] ?? {}) as Record<string, string>);
    },

    async recordFeedback(callId, promptId, action) {
      await redis.multi().hset(k.acks(callId), promptId, action).expire(k.acks(callId), ttlS).exec();
    },

    async isKnown(callId) {
      return (await redis.exists(k.summary(callId), liveKeys.liveCall(callId))) > 0;
    },

    async streamEndedAt(callId, streamId) {
      const json = await redis.get(k.summary(callId));
      if (json === null) return undefined;
      const summary = JSON.parse(json) as Pick<PostCallSummary, 'streamId' | 'endedAt'>;
      return summary.streamId === streamId ? summary.endedAt : undefined;
    },

    async callOfPrompt(promptId) {
      return (await redis.get(k.prompt(promptId))) ?? undefined;
    },

    async saveSurvey(callId, scores) {
      const [previous, summaryTtlMs] = await Promise.all([redis.get(k.survey(callId)), redis.pttl(k.summary(callId))]);
      const merged: SurveyScores = { ...(previous === null ? {} : (JSON.parse(previous) as SurveyScores)), ...scores };
      // Expire with the summary it belongs to; a live call's survey gets the full TTL.
      const ttlMs = summaryTtlMs > 0 ? summaryTtlMs : ttlS * 1000;
      await redis.set(k.survey(callId), JSON.stringify(merged), 'PX', ttlMs);
      return merged;
    },

    async list(opts = {}) {
      const ids = await redis.zrangebyscore(k.index, opts.sinceMs ?? '-inf', '+inf');
      const out: KeptCall[] = [];
      // In pages, so a large index is not one giant reply.
      for (let i = 0; i < ids.length; i += 200) {
        const page = ids.slice(i, i + 200);
        const m = redis.multi();
        for (const id of page) m.get(k.summary(id)).get(k.survey(id)).hgetall(k.acks(id));
        const res = (await m.exec()) ?? [];
        for (let j = 0; j < page.length; j++) {
          const kept = assemble(res[3 * j]?.[1] as string | null, res[3 * j + 1]?.[1] as string | null, (res[3 * j + 2]?.[1] ?? {}) as Record<string, string>);
          if (kept) out.push(kept);
          else void redis.zrem(k.index, page[j] as string).catch(() => undefined);
        }
      }
      return out;
    },
  };
}
