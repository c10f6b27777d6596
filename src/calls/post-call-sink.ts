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

export function createPostCallSink(parts: { store?: SummaryStore | undefined; publisher: EventPublisher }): PostCallSink {
  return {
    async callEnded(summary, ctx, log) {
      const [kept, published] = await Promise.allSettled([
        parts.store?.save(summary),
        parts.publisher.publishSummary?.(summary, { seq: ctx.seq, streamId: ctx.streamId }),
      ]);
      if (kept.status === 'rejected') log.error({ err: kept.reason, summary }, 'post-call summary not kept (logged here instead)');
      if (published.status === 'rejected') log.error({ err: published.reason, summary }, 'summary job not published (logged here instead)');
      if (kept.status === 'fulfilled' && published.status === 'fulfilled') {
        log.info({ maxTier: summary.maxTier, promptsSent: summary.promptsSent, escalations: summary.escalations }, 'post-call summary kept');
      }
    },
  };
}
