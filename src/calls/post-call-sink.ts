/**
 * What happens to a call's post-call summary when it ends: kept in Redis
 * (SummaryStore) and published as a `summary` job for QA systems. Both are
 * attempted; a failure of either is logged with the summary itself, so a
 * summary that could not be kept is never lost silently.
 */
import type { EventPublisher } from '../queue/publisher.js';
import type { Logger } from '../shared/logger.js';
import type { PostCallSummary } from './post-call-summary.js';
import type { SummaryStore } from './summary-store.js';

export interface PostCallSink {
  /** Called once per call, after its chain flushed; never rejects. */
  callEnded(summary: PostCallSummary, ctx: { seq: number; streamId: string }, log: Logger): Promise<void>;
}

/**
 * How long a call's end waits for its summary to be kept and published, ms.
 * Redis may be away (the publisher buffers, but a store write waits for the
 * connection): the call must still end, so past this the outcome is logged
 * whenever it settles instead of being awaited.
 */
const END_WAIT_MS = 2000;

export function createPostCallSink(parts: { store?: SummaryStore | undefined; publisher: EventPublisher; endWaitMs?: number }): PostCallSink {
  const endWaitMs = parts.endWaitMs ?? END_WAIT_MS;
  return {
    async callEnded(summary, ctx, log) {
      const outcome = Promise.allSettled([
        parts.store?.save(summary),
        parts.publisher.publishSummary?.(summary, { seq: ctx.seq, streamId: ctx.streamId }),
      ]).then(([kept, published]) => {
        if (kept?.status === 'rejected') log.error({ err: kept.reason, summary }, 'post-call summary not kept (logged here instead)');
        if (published?.status === 'rejected') log.error({ err: published.reason, summary }, 'summary job not published (logged here instead)');
        if (kept?.status === 'fulfilled' && published?.status === 'fulfilled') {
          log.info({ maxTier: summary.maxTier, promptsSent: summary.promptsSent, escalations: summary.escalations }, 'post-call summary kept');
        }
        return true;
      });
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        outcome,
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), endWaitMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (!settled) log.warn({ waitedMs: endWaitMs }, 'post-call summary not kept yet (Redis slow or away); the call ends now and the outcome is logged when it settles');
    },
  };
}
