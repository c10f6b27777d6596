import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { InvalidJobError } from '../queue/errors.js';
import { bullmqPrefix } from '../queue/redis-prefix.js';
import {
  CALL_ROUTING_QUEUE,
  jobDataPriority,
  validateJobData,
  type CallRoutingJobData,
  type RoutingChangeJobData,
} from '../queue/job-schema.js';
import { toAgentMessage } from './agent-messages.js';
import type { AgentMailbox } from './agent-mailbox.js';
import type { PriorityGuard } from './priority-guard.js';
import type { ExpiredEventType } from '../observability/metrics.js';
import { createLoggingRoutingSink, type RoutingPriorityChange, type RoutingSink } from './routing-sink.js';

export interface RoutingWorkerOptions {
  /**
   * A `redis://` URL, ioredis options, or an instance created with
   * `maxRetriesPerRequest: null` (BullMQ refuses others for workers). BullMQ
   * duplicates an instance for its blocking connection; the caller still
   * owns and closes the instance.
   */
  connection: Redis | RedisOptions | string;
  /** @defaultValue `'call-routing'` */
  queueName?: string;
  /** `REDIS_PREFIX` (src/queue/redis-prefix.ts): the queue's keys become `<prefix>:bull:<queue>:…`; default none (`bull:…`). */
  redisPrefix?: string;
  /** Where agent messages go: the agents' Redis inboxes, read by whichever instance holds their sockets. */
  mailbox: AgentMailbox;
  /** Serialises each call's priority changes and skips stale ones (Redis-backed, shared by all workers). */
  guard: PriorityGuard;
  logger: Logger;
  /** Jobs processed in parallel. @defaultValue 8 */
  concurrency?: number;
  /**
   * How fast a job held by a dead worker (SIGKILL, lost host) is handed to
   * another: its lock lapses after `lockDuration` and a stalled-job check runs
   * every `stalledInterval`, ms. @defaultValue BullMQ's (30000 each)
   */
  stalledJobs?: { lockDuration?: number; stalledInterval?: number };
  /** Where priority changes go besides the agent. @defaultValue a logging sink */
  routing?: RoutingSink;
  /**
   * How long a job waits for the earlier events of its call + stream to be
   * handled (by any worker) before it goes ahead anyway, ms. Keeps a call's
   * messages in seq order at the agent although jobs run by tier and in
   * parallel. @defaultValue 1000
   */
  orderWaitMs?: number;
  /**
   * Also told of every `priority`, `recovered` and `handover` job, after the
   * routing sink and before the agent (e.g. the signed webhook,
   * src/delivery/webhook-forwarder.ts). A throw fails the job and BullMQ
   * retries it with backoff. @defaultValue none
   */
  forwarders?: readonly RoutingForwarder[];
  /**
   * When a call's stream ended, or undefined while it has not (the summary
   * store's `streamEndedAt`). With it, a prompt or priority change handled
   * after its call ended is sent to the agent marked `stale: true` (never as
   * live), routing and forwarders are not told of such a priority change,
   * and each is logged and counted. @defaultValue none (no check)
   */
  endedCalls?: { streamEndedAt(callId: string, streamId: string): Promise<string | undefined> };
  /** Counts events met after their call ended (`undertone_expired_events_total`). @defaultValue none */
  metrics?: { expired(type: ExpiredEventType): void };
}

/** Something outside Undertone that must hear of routing changes (the payload is the v1 job data). */
export interface RoutingForwarder {
  forward(data: RoutingChangeJobData, jobId: string): Promise<void>;
}

export interface RoutingWorker {
  readonly worker: Worker;
  /** Resolves once the worker is connected and consuming. */
  waitUntilReady(): Promise<void>;
  /** Stops taking jobs and waits for the active ones (the SIGTERM path). */
  close(): Promise<void>;
}

/** What a processed job returns (stored by BullMQ as the job's return value). */
export interface RoutingJobResult {
  /**
   * What became of the agent message: `posted` to the agent's inbox,
   * `duplicate` (already posted by an earlier run of this job), `stale`
   * (superseded: see the order rules), or `no-agent` (none assigned).
   */
  agent: 'posted' | 'duplicate' | 'stale' | 'no-agent';
  /** True when a priority job was older than one already applied for its call and stream (routing not told). */
  stale?: boolean;
  /** Set when the job was handled after its call had ended: when the call ended (agent message marked stale, routing not told). */
  callEndedAt?: string;
}

/**
 * Consumes `call-routing`: validates each job (schema v1), sends priority
 * changes to the {@link RoutingSink}, and posts agent messages to the
 * agent's inbox in Redis. Any instance's worker may take any job: delivery
 * never assumes the agent is connected to this process.
 *
 * - `promptId` / `priorityId` is the job id (call, stream, seq, type): stable
 *   across retries and re-publishes. The inbox drops a message already posted
 *   for that call + stream + seq, so a retried job reaches the agent once.
 * - A malformed job fails at once, without retries (`UnrecoverableError`
 *   whose message starts with `UT_ERR_INVALID_JOB`); the worker keeps going.
 * - Jobs are prioritised by tier, so they may run out of order. Priority
 *   changes of one call + stream go through the {@link PriorityGuard}: one
 *   at a time across all workers, a change older than the applied one is
 *   skipped, so routing and the agent always end at the newest tier.
 * - Order at the agent: a job first waits (at most `orderWaitMs`) until every
 *   earlier event of its call + stream has been handled by some worker, so
 *   messages reach the agent in seq order. If the wait runs out (an earlier
 *   job is in retry backoff), it goes ahead, and the late one is then judged
 *   by the rules below.
 * - Prompts: one older than a prompt already sent, or for a tier the call
 *   has since left downwards, is stale and not sent (see POST_SCRIPT).
 * - After the call: a prompt or priority change decided after its stream
 *   ended (`streamEndedAt` in the job), or, with `endedCalls`, whose call +
 *   stream has ended by the time it is handled (its summary is kept), never
 *   reaches the agent as live: it is sent marked `stale: true` with
 *   `callEndedAt`, routing and forwarders are not told, and it is logged
 *   (with the callId) and counted in `undertone_expired_events_total{type}`.
 */
export function createRoutingWorker(options: RoutingWorkerOptions): RoutingWorker {
  const queueName = options.queueName ?? CALL_ROUTING_QUEUE;
  const log = options.logger.child({ component: 'routing-worker', queue: queueName });
  const routing = options.routing ?? createLoggingRoutingSink(options.logger);
  const { mailbox, guard } = options;
  const orderWaitMs = options.orderWaitMs ?? 1000;

  /**
   * When the job's call + stream ended, if it has; logged and counted. The job says so itself when it was
   * decided after the end (`streamEndedAt`); otherwise `endedCalls` is asked. Undefined while live.
   */
  async function endedAt(data: RoutingChangeJobData | Extract<CallRoutingJobData, { type: 'prompt' }>, jobId: string): Promise<string | undefined> {
    const at = data.streamEndedAt ?? (await options.endedCalls?.streamEndedAt(data.callId, data.streamId ?? ''));
    if (at === undefined) return undefined;
    options.metrics?.expired(data.type);
    const lateMs = Date.now() - Date.parse(at);
    log.warn(
      { jobId, callId: data.callId, seq: data.seq, type: data.type, callEndedAt: at, lateMs, decidedAt: data.at },
      data.type === 'prompt' ? 'prompt handled after its call ended: sent marked stale, not as a live prompt' : 'priority change handled after its call ended: routing not told; sent to the agent marked stale',
    );
    return at;
  }

  async function post(data: CallRoutingJobData, jobId: string, callEndedAt?: string): Promise<RoutingJobResult['agent']> {
    const streamId = data.streamId ?? '';
    if (data.agentId === null) {
      await mailbox.markHandled({ callId: data.callId, streamId, seq: data.seq });
      log.info({ jobId, callId: data.callId }, 'no agent assigned: nothing to deliver to a softphone');
      return 'no-agent';
    }
    const message = toAgentMessage(data, jobId);
    if (callEndedAt !== undefined) Object.assign(message, { stale: true, callEndedAt });
    const res = await mailbox.post(data.agentId, message, { callId: data.callId, streamId, seq: data.seq, tier: data.tier });
    if (res.outcome === 'stale') log.info({ jobId, callId: data.callId, seq: data.seq, reason: res.reason }, 'stale agent message not sent');
    else if (res.outcome === 'duplicate') log.info({ jobId, callId: data.callId, seq: data.seq }, 'agent message already posted; not sent again');
    return res.outcome;
  }

  async function process(job: Job): Promise<RoutingJobResult> {
    let data: CallRoutingJobData;
    try {
      data = validateJobData(job.name, job.data);
    } catch (err) {
      if (err instanceof InvalidJobError) {
        log.error({ jobId: job.id, jobName: job.name, problems: err.problems }, 'malformed routing job rejected');
        // Retrying cannot fix a payload: fail now, keep the job for inspection.
        throw new UnrecoverableError(`${err.code}: ${err.message}`);
      }
      throw err;
    }
    const jobId = String(job.id);
    if (data.type === 'summary') {
      // For QA systems reading the queue or its events; nothing for a softphone, no place in the call's order.
      log.info({ jobId, callId: data.callId }, 'call summary job');
      return { agent: 'no-agent' };
    }
    const ref = { callId: data.callId, streamId: data.streamId ?? '', seq: data.seq };
    if (data.agentId !== null && !(await mailbox.awaitTurn(ref, orderWaitMs))) {
      log.warn({ jobId, callId: data.callId, seq: data.seq, orderWaitMs }, 'earlier events of the call not handled in time; going ahead');
    }

    if (data.type === 'prompt') {
      const callEndedAt = await endedAt(data, jobId);
      return { agent: await post(data, jobId, callEndedAt), ...(callEndedAt !== undefined ? { callEndedAt } : {}) };
    }

    // priority, recovered and handover all move the call's routing priority.
    const priority: RoutingChangeJobData = data;
    let agent: RoutingJobResult['agent'] = 'no-agent';
    let callEndedAt: string | undefined;
    const outcome = await guard.run(
      { callId: data.callId, streamId: data.streamId ?? '', seq: data.seq, tier: data.tier },
      async () => {
        callEndedAt = await endedAt(priority, jobId);
        // The call is over: nothing left to route (a late change would only confuse the ACD).
        if (callEndedAt === undefined) {
          // Routing first: if it throws, the job is retried before the agent is told.
          await routing.priorityChanged(toRoutingChange(priority));
          for (const f of options.forwarders ?? []) await f.forward(priority, jobId);
        }
        agent = await post(priority, jobId, callEndedAt);
      },
    );
    if (outcome === 'stale') {
      await mailbox.markHandled(ref);
      log.info({ jobId, callId: data.callId, seq: data.seq }, 'stale priority job skipped');
      return { agent: 'stale', stale: true };
    }
    return { agent, ...(callEndedAt !== undefined ? { callEndedAt } : {}) };
  }

  const worker = new Worker(queueName, process, {
    // ioredis 6 types allow `retryStrategy: null`, which BullMQ's narrower
    // RedisOptions type lacks; the objects are the same at runtime.
    connection: (typeof options.connection === 'string'
      ? { url: options.connection }
      : options.connection) as ConnectionOptions,
    prefix: bullmqPrefix(options.redisPrefix ?? ''),
    concurrency: options.concurrency ?? 8,
    ...options.stalledJobs,
  });
  worker.on('error', (err) => log.error({ err }, 'routing worker error'));
  worker.on('failed', (job, err) => {
    const final = err instanceof UnrecoverableError || (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1));
    const fields = { err, jobId: job?.id, jobName: job?.name, attemptsMade: job?.attemptsMade };
    if (final) log.error(fields, 'routing job failed for good');
    else log.warn(fields, 'routing job failed; will retry');
  });

  return {
    worker,
    async waitUntilReady() {
      await worker.waitUntilReady();
    },
    async close() {
      await worker.close();
      log.info('routing worker closed');
    },
  };
}

function toRoutingChange(data: RoutingChangeJobData): RoutingPriorityChange {
  return {
    callId: data.callId,
    agentId: data.agentId,
    tier: data.tier,
    previousTier: data.previousTier,
    priority: jobDataPriority(data),
    reason: data.reason,
    score: data.score,
    audioMs: data.audioMs,
    seq: data.seq,
    at: data.at,
    ...(data.streamId !== undefined ? { streamId: data.streamId } : {}),
    ...(data.type === 'handover' ? { handover: data.context } : {}),
  };
}
