import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { InvalidJobError } from '../queue/errors.js';
import {
  CALL_ROUTING_QUEUE,
  jobDataPriority,
  validateJobData,
  type CallRoutingJobData,
  type RoutingChangeJobData,
} from '../queue/job-schema.js';
import type { AgentHub, AgentMessage } from './agent-messages.js';
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
  hub: AgentHub;
  logger: Logger;
  /** Jobs processed in parallel. @defaultValue 8 */
  concurrency?: number;
  /** Where priority changes go besides the agent. @defaultValue a logging sink */
  routing?: RoutingSink;
  /** Calls whose latest priority seq is remembered, to skip stale priority jobs. @defaultValue 10000 */
  maxTrackedCalls?: number;
  /**
   * Also told of every `priority`, `recovered` and `handover` job, before the
   * agent (e.g. the signed webhook, src/delivery/webhook-forwarder.ts). A
   * throw fails the job and BullMQ retries it with backoff. @defaultValue none
   */
  forwarders?: readonly RoutingForwarder[];
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
  /** Sockets the agent message reached (0 = offline, kept by the hub, or no agent). */
  delivered: number;
  /** True when a priority job was older than one already applied for its call. */
  stale?: boolean;
}

/**
 * Consumes `call-routing`: validates each job (schema v1), sends priority
 * changes to the {@link RoutingSink}, and turns jobs into agent messages
 * delivered through the hub.
 *
 * - `promptId` is the job id (`${callId}_${seq}_prompt`): stable across
 *   retries and re-publishes, so a softphone can de-duplicate on it.
 * - A malformed job fails at once, without retries (`UnrecoverableError`
 *   whose message starts with `UT_ERR_INVALID_JOB`); the worker keeps going.
 * - Jobs are prioritised by tier, so they may run out of order. A priority
 *   job older (lower seq) than one already applied for its call is stale and
 *   skipped, so a late "1→2" never overrides a "2→3". (Remembered per worker
 *   process; with several workers an older job can still slip through.)
 */
export function createRoutingWorker(options: RoutingWorkerOptions): RoutingWorker {
  const queueName = options.queueName ?? CALL_ROUTING_QUEUE;
  const log = options.logger.child({ component: 'routing-worker', queue: queueName });
  const routing = options.routing ?? createLoggingRoutingSink(options.logger);
  const hub = options.hub;
  const maxTrackedCalls = options.maxTrackedCalls ?? 10_000;
  // callId → highest priority seq applied; insertion order = least recently updated first.
  const appliedSeq = new Map<string, number>();

  function isStale(data: RoutingChangeJobData): boolean {
    const applied = appliedSeq.get(data.callId);
    return applied !== undefined && applied > data.seq;
  }

  function recordApplied(data: RoutingChangeJobData): void {
    appliedSeq.delete(data.callId);
    appliedSeq.set(data.callId, data.seq);
    if (appliedSeq.size > maxTrackedCalls) appliedSeq.delete(appliedSeq.keys().next().value as string);
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

    if (data.type === 'summary') {
      // For QA systems reading the queue or its events; nothing for a softphone.
      log.info({ jobId: job.id, callId: data.callId }, 'call summary job');
      return { delivered: 0 };
    }

    if (data.type !== 'prompt') {
      // priority, recovered and handover all move the call's routing priority.
      if (isStale(data)) {
        log.info({ jobId: job.id, callId: data.callId, seq: data.seq }, 'stale priority job skipped');
        return { delivered: 0, stale: true };
      }
      const change: RoutingPriorityChange = {
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
        ...(data.type === 'handover' ? { handover: data.context } : {}),
      };
      // Routing first: if it throws, the job is retried before the agent is told.
      await routing.priorityChanged(change);
      recordApplied(data);
    }

    // Before the agent, like routing: a failed forward is retried first.
    if (data.type !== 'prompt') {
      for (const f of options.forwarders ?? []) await f.forward(data, String(job.id));
    }

    if (data.agentId === null) {
      log.info({ jobId: job.id, callId: data.callId }, 'no agent assigned: nothing to deliver to a softphone');
      return { delivered: 0 };
    }
    const delivered = hub.deliver(data.agentId, toAgentMessage(data, String(job.id)));
    return { delivered };
  }

  const worker = new Worker(queueName, process, {
    // ioredis 6 types allow `retryStrategy: null`, which BullMQ's narrower
    // RedisOptions type lacks; the objects are the same at runtime.
    connection: (typeof options.connection === 'string'
      ? { url: options.connection }
      : options.connection) as ConnectionOptions,
    concurrency: options.concurrency ?? 8,
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

/** Agent wire message for a validated job. */
export function toAgentMessage(data: CallRoutingJobData, jobId: string): AgentMessage {
  if (data.type === 'prompt') {
    return {
      type: 'prompt',
      callId: data.callId,
      promptId: jobId,
      tier: data.tier,
      emotion: data.emotion,
      score: data.score,
      text: data.text,
      language: data.language,
      at: data.at,
    };
  }
  if (data.type === 'summary') throw new Error('summary jobs have no agent message');
  return {
    type: data.type === 'handover' ? 'handover' : data.type === 'recovered' ? 'recovered' : 'priority',
    callId: data.callId,
    tier: data.tier,
    previousTier: data.previousTier,
    reason: data.reason,
    at: data.at,
  };
}
