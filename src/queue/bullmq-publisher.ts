import { Queue, type JobsOptions, type KeepJobs } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { PolicyEvent } from '../policy/types.js';
import { PublishBufferFullError, PublisherClosedError, PublishTimeoutError } from './errors.js';
import {
  CALL_ROUTING_QUEUE,
  jobDataPriority,
  routingJobId,
  toJobData,
  toSummaryJobData,
  validateJobData,
  type CallRoutingJobData,
} from './job-schema.js';
import type { EventPublisher, PublishContext, SummaryPublishContext } from './publisher.js';
import type { PostCallSummary } from '../calls/post-call-summary.js';
import type { PublishJournal } from './publish-journal.js';
import { bullmqPrefix } from './redis-prefix.js';

/**
 * Redis refusing writes for a while (out of memory, a read-only replica
 * after failover, loading, busy script): like an outage, not the job's
 * fault. The event is buffered and retried instead of failing.
 */
const REDIS_REFUSAL = /^(?:OOM|READONLY|LOADING|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;
function isRedisRefusal(err: unknown): boolean {
  return err instanceof Error && REDIS_REFUSAL.test(err.message);
}

/** Retry and retention of routing jobs. */
export interface RoutingJobOptions {
  /** Worker attempts per job (first try included). @defaultValue 5 */
  attempts: number;
  /** First retry delay; doubles per attempt (BullMQ exponential backoff), ms. @defaultValue 1000 */
  backoffDelayMs: number;
  /**
   * Completed jobs kept (ages in SECONDS, as BullMQ counts them). Also the
   * window in which a re-published event is recognised by its id.
   * @defaultValue `{ age: 3600, count: 10000 }`
   */
  removeOnComplete: KeepJobs;
  /** Failed jobs kept for inspection. @defaultValue `{ age: 604800, count: 10000 }` (a week) */
  removeOnFail: KeepJobs;
}

export const DEFAULT_ROUTING_JOB_OPTIONS: RoutingJobOptions = Object.freeze({
  attempts: 5,
  backoffDelayMs: 1000,
  removeOnComplete: Object.freeze({ age: 3600, count: 10_000 }),
  removeOnFail: Object.freeze({ age: 7 * 24 * 3600, count: 10_000 }),
});

export interface BullmqPublisherOptions {
  /**
   * An ioredis instance (shared: the publisher never closes it), or a
   * `redis://` URL or ioredis options for one the publisher creates and owns.
   */
  connection: Redis | RedisOptions | string;
  /** @defaultValue `'call-routing'` */
  queueName?: string;
  /** `REDIS_PREFIX` (src/queue/redis-prefix.ts): the queue's keys become `<prefix>:bull:<queue>:…`; default none (`bull:…`). */
  redisPrefix?: string;
  logger: Logger;
  /** Events held in memory while Redis is away; beyond it `publish` rejects. @defaultValue 10000 */
  bufferCapacity?: number;
  /** How long one add may take before the event goes to the buffer, ms. @defaultValue 2000 */
  addTimeoutMs?: number;
  /** First delay between flush attempts while Redis is away; doubles up to `retryMaxDelayMs`, ms. @defaultValue 250 */
  retryDelayMs?: number;
  /** @defaultValue 5000 */
  retryMaxDelayMs?: number;
  /** How long `close` keeps trying to flush the buffer before giving up (and logging what is lost), ms. @defaultValue 5000 */
  closeTimeoutMs?: number;
  jobOptions?: Partial<RoutingJobOptions>;
  /** Wall clock for the payload's `at`. @defaultValue `() => new Date()` */
  now?: () => Date;
  /**
   * Journal of the retry buffer (src/queue/publish-journal.ts): buffered
   * events are written to it before `publish` resolves and replayed from it
   * at creation. @defaultValue none (the buffer is process memory only)
   */
  journal?: PublishJournal<PendingJob>;
}

/** The BullMQ {@link EventPublisher}, with a view of its buffer for health checks and tests. */
export interface BullmqPublisher extends EventPublisher {
  readonly queue: Queue;
  /** Events accepted but not yet in Redis. */
  readonly buffered: number;
  /** Resolves once the buffer is empty. */
  drained(): Promise<void>;
}

export interface PendingJob {
  name: CallRoutingJobData['type'];
  data: CallRoutingJobData;
  opts: JobsOptions;
  /** Failures while Redis was up (a poison job); transient failures do not count. */
  failures: number;
}

/** A head job that keeps failing while Redis is healthy is dropped after this many tries (logged with its payload). */
const MAX_POISON_FAILURES = 5;

function isRedisInstance(c: Redis | RedisOptions | string): c is Redis {
  return typeof c === 'object' && typeof (c as Redis).duplicate === 'function' && typeof (c as Redis).status === 'string';
}

// Commands wait for reconnection instead of failing after N retries: our own
// timeout decides when an event goes to the buffer.
function ownRedis(c: RedisOptions | string): Redis {
  return typeof c === 'string'
    ? new Redis(c, { maxRetriesPerRequest: null })
    : new Redis({ ...c, maxRetriesPerRequest: null });
}

/**
 * Publishes policy events as BullMQ jobs named after their type (`prompt`,
 * `priority`, `recovered`, `handover`; `summary` via `publishSummary`) on
 * `call-routing`, with deterministic ids (see `routingJobId`), tier-based
 * priority (tier 4 → BullMQ priority 1), bounded retention and retries.
 *
 * When Redis is unreachable (not `ready`, an add fails or takes longer than
 * `addTimeoutMs`), events go to a bounded in-memory FIFO and `publish`
 * resolves: the event is accepted. The buffer is flushed in order when the
 * connection returns (on `ready`, and on a backoff timer); while it is not
 * empty, new events queue behind it so a call's events keep their order.
 * When it is full, `publish` rejects with `PublishBufferFullError`
 * (`UT_ERR_PUBLISH_BUFFER_FULL`) and logs an error. A job re-added after a
 * timeout that actually reached Redis is harmless: the id makes it a no-op.
 */
export function createBullmqPublisher(options: BullmqPublisherOptions): BullmqPublisher {
  const queueName = options.queueName ?? CALL_ROUTING_QUEUE;
  const capacity = options.bufferCapacity ?? 10_000;
  const addTimeoutMs = options.addTimeoutMs ?? 2000;
  const retryBaseMs = options.retryDelayMs ?? 250;
  const retryMaxMs = options.retryMaxDelayMs ?? 5000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  const jobOptions: RoutingJobOptions = { ...DEFAULT_ROUTING_JOB_OPTIONS, ...options.jobOptions };
  const now = options.now ?? (() => new Date());
  const log = options.logger.child({ component: 'publisher', queue: queueName });

  const ownsRedis = !isRedisInstance(options.connection);
  const redis: Redis = isRedisInstance(options.connection) ? options.connection : ownRedis(options.connection);

  let redisDown = false;
  const onRedisError = (err: Error) => {
    // ioredis repeats the error on every reconnect attempt: warn once per outage.
    if (!redisDown) log.warn({ err }, 'Redis connection error; publishing to the in-memory buffer');
    else log.debug({ err }, 'Redis still unreachable');
    redisDown = true;
  };
  const onRedisReady = () => {
    if (redisDown) log.info({ buffered: buffer.length }, 'Redis connection back');
    redisDown = false;
    retryDelayMs = retryBaseMs;
    if (buffer.length > 0) void flush();
  };
  redis.on('error', onRedisError);
  redis.on('ready', onRedisReady);

  const queue = new Queue(queueName, { connection: redis, prefix: bullmqPrefix(options.redisPrefix ?? '') });
  queue.on('error', (err) => {
    if (!redisDown) log.warn({ err }, 'queue error');
    else log.debug({ err }, 'queue error while Redis is away');
  });

  const buffer: PendingJob[] = [];
  let flushing = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryDelayMs = retryBaseMs;
  let closed = false;
  let drainWaiters: (() => void)[] = [];

  const add = (job: PendingJob): Promise<unknown> =>
    withTimeout(queue.add(job.name, job.data, job.opts), addTimeoutMs);

  // Transient = Redis is not answering. A failure while it is `ready` (and
  // not a timeout) is about the job itself and would fail forever.
  const isTransient = (err: unknown) => err instanceof PublishTimeoutError || redis.status !== 'ready' || isRedisRefusal(err);
  const journal = options.journal;

  function scheduleRetry(): void {
    if (flushTimer || closed) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flush();
    }, retryDelayMs);
    retryDelayMs = Math.min(retryDelayMs * 2, retryMaxMs);
  }

  function notifyDrained(): void {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const w of waiters) w();
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (buffer.length > 0) {
        if (closed) return;
        if (redis.status !== 'ready') return scheduleRetry();
        const head = buffer[0] as PendingJob;
        try {
          await add(head);
          buffer.shift();
          journal?.settle(String(head.opts.jobId));
          retryDelayMs = retryBaseMs;
        } catch (err) {
          if (isTransient(err)) return scheduleRetry();
          head.failures += 1;
          if (head.failures < MAX_POISON_FAILURES) return scheduleRetry();
          buffer.shift();
          journal?.settle(String(head.opts.jobId));
          log.error(
            { err, jobId: head.opts.jobId, job: head.data },
            'dropping a buffered routing job Redis keeps rejecting (payload logged for recovery)',
          );
        }
      }
      log.info('publish buffer flushed');
      journal?.clear();
      notifyDrained();
    } finally {
      flushing = false;
    }
  }

  function enqueue(job: PendingJob, cause?: unknown): void {
    if (buffer.length >= capacity) {
      const err = new PublishBufferFullError(job.data.callId, job.data.seq, capacity);
      log.error({ err, callId: job.data.callId, seq: job.data.seq, jobId: job.opts.jobId }, err.message);
      throw err;
    }
    if (buffer.length === 0) log.warn({ err: cause, jobId: job.opts.jobId }, 'Redis unavailable; buffering routing jobs');
    buffer.push(job);
    journal?.append(String(job.opts.jobId), job);
    if (!flushing) scheduleRetry();
  }

  async function submit(data: CallRoutingJobData, jobId: string): Promise<void> {
    const job: PendingJob = {
      name: data.type,
      data,
      opts: {
        jobId,
        priority: jobDataPriority(data),
        attempts: jobOptions.attempts,
        backoff: { type: 'exponential', delay: jobOptions.backoffDelayMs },
        removeOnComplete: jobOptions.removeOnComplete,
        removeOnFail: jobOptions.removeOnFail,
      },
      failures: 0,
    };
    // Straight to Redis unless an outage is known (an error since the last
    // `ready`) or events are already waiting. A connection still being
    // established is not an outage: ioredis holds the command until it is
    // up, and the timeout covers the case where it never comes.
    if (buffer.length > 0 || redisDown || redis.status === 'end') return enqueue(job);
    try {
      await add(job);
    } catch (err) {
      if (!isTransient(err)) throw err;
      enqueue(job, err);
    }
  }

  // Events an earlier run accepted but never got into Redis go first.
  if (journal && journal.recovered.length > 0) {
    for (const job of journal.recovered) buffer.push({ ...job, failures: 0 });
    log.warn({ recovered: buffer.length }, 'replaying routing jobs journalled by an earlier run');
    scheduleRetry();
  }

  return {
    queue,

    get buffered() {
      return buffer.length;
    },

    drained() {
      if (buffer.length === 0) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },

    async publish(event: PolicyEvent, ctx: PublishContext): Promise<void> {
      if (closed) throw new PublisherClosedError();
      // Validate on the way in too: a bad event fails here, at its source,
      // not later in a worker.
      const data = validateJobData(event.type, toJobData(event, ctx, now()));
      await submit(data, routingJobId(event.callId, event.seq, data.type, ctx.streamId));
    },

    async publishSummary(summary: PostCallSummary, ctx: SummaryPublishContext): Promise<void> {
      if (closed) throw new PublisherClosedError();
      const data = validateJobData('summary', toSummaryJobData(summary, ctx.seq, now()));
      await submit(data, routingJobId(summary.callId, ctx.seq, 'summary', ctx.streamId));
    },

    async close(): Promise<void> {
      if (closed) return;
      if (buffer.length > 0) {
        void flush();
        await Promise.race([
          new Promise<void>((resolve) => drainWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, closeTimeoutMs).unref()),
        ]);
      }
      closed = true;
      if (flushTimer) clearTimeout(flushTimer);
      if (buffer.length > 0 && journal) {
        log.warn({ kept: buffer.length }, 'publisher closed with routing jobs Redis never accepted; kept in the journal for the next start');
      } else if (buffer.length > 0) {
        log.error(
          { lost: buffer.length, jobs: buffer.map((j) => j.data) },
          'publisher closed with routing jobs Redis never accepted (payloads logged for recovery)',
        );
      }
      journal?.close();
      await withTimeout(queue.close(), closeTimeoutMs).catch((err: unknown) => log.warn({ err }, 'queue close failed'));
      redis.off('ready', onRedisReady);
      if (ownsRedis) {
        await withTimeout(redis.quit(), closeTimeoutMs).catch(() => redis.disconnect());
      }
      redis.off('error', onRedisError);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeoutError(timeoutMs)), timeoutMs);
  });
  // The losing promise must not become an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
