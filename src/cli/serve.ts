/**
 * `undertone serve`: the HTTP/WebSocket server and (unless `RUN_WORKER=false`)
 * a routing worker in one process. `startService` is the reusable part (the demo and integration
 * tests start the same service); `run` adds config loading, signals and exit codes.
 *
 * Shutdown order (SIGTERM/SIGINT, or `close()`): the app stops accepting and
 * closes gateway sockets with 1001 while live calls flush their pending
 * windows and publish their last events; the routing queue is drained into
 * the agents' inboxes and sent to the local agent sockets (bounded); then the
 * agent and supervisor sockets close, then the routing worker (finishing its
 * active jobs), the publisher, the feed, the model and the Redis connections.
 */
import type { FastifyInstance } from 'fastify';
import { connectRedis } from '../queue/redis-connection.js';
import { buildApp } from '../app.js';
import type { Config } from '../config/config.js';
import { readCommandConfig } from './command-config.js';
import { runUntilSignal } from './run-until-signal.js';
import { createAgentMailbox } from '../delivery/agent-mailbox.js';
import { createCallFeedObserver } from '../delivery/call-feed-observer.js';
import { flushDelivery } from '../delivery/delivery-flush.js';
import { createPriorityGuard } from '../delivery/priority-guard.js';
import { createRedisAgentHub } from '../delivery/redis-agent-hub.js';
import { createRoutingWorker } from '../delivery/routing-worker.js';
import { createWebhookForwarder } from '../delivery/webhook-forwarder.js';
import { createSummaryStore } from '../calls/summary-store.js';
import { createSupervisorFeed } from '../delivery/supervisor-feed.js';
import { loadEmotionModel, type LoadedEmotionModel } from '../model/emotion-model.js';
import type { EmotionModel } from '../model/types.js';
import { createWorkerPoolEngine } from '../dsp/worker-pool.js';
import type { EscalationPolicyFactory } from '../policy/escalation-policy.js';
import { loadPolicyFile, policyFactoryFrom } from '../policy/policy-file.js';
import { createBullmqPublisher, type PendingJob } from '../queue/bullmq-publisher.js';
import type { Queue } from 'bullmq';
import { UndertoneError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { Metrics } from '../observability/metrics.js';
import { StageClock } from '../observability/stage-clock.js';
import { openPublishJournal } from '../queue/publish-journal.js';
import { GcNudge } from '../observability/gc-nudge.js';

export interface StartServiceOptions {
  logger: Logger;
  /** Replaces the calibrated escalation policy (tests that need tiers the fixture calls do not reach). */
  policyFactory?: EscalationPolicyFactory;
  /** Prometheus metrics; a fresh registry (with process metrics) when absent. */
  metrics?: Metrics;
  /** The process's per-stage time sums (`undertone_stage_seconds_total`); a fresh one when absent. */
  clock?: StageClock;
  /**
   * Wraps the loaded model's scoring (tests: a slow or held-back model, to put the
   * instance behind on the audio). Inline scoring only: DSP worker threads score
   * with sessions of their own, so it is refused with `DSP_THREADS` > 0.
   */
  wrapModel?: (model: LoadedEmotionModel) => EmotionModel;
}

/** A running service: its app, base URL (`http://host:port`) and one way to stop it. */
export interface RunningService {
  app: FastifyInstance;
  url: string;
  /** Graceful stop; idempotent (later calls return the same promise). */
  close(): Promise<void>;
}

type Closer = { name: string; close: () => Promise<unknown> };

/**
 * Runs closers in order, logging (not throwing) failures so every one gets
 * its turn. With `deadline` (epoch ms), a closer still running at it is
 * abandoned (logged) so the rest still close and shutdown ends in time
 * whatever Redis or a worker does.
 */
async function closeAll(closers: Closer[], logger: Logger, deadline = Infinity): Promise<void> {
  for (const c of closers) {
    const leftMs = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      await (Number.isFinite(deadline)
        ? Promise.race([
            c.close(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`still closing after the shutdown grace period; abandoned`)), leftMs);
            }),
          ])
        : c.close());
    } catch (err) {
      logger.warn({ err, part: c.name }, 'error while closing');
    } finally {
      clearTimeout(timer);
    }
  }
}

function baseUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return `http://${shown}:${port}`;
}

/**
 * Starts everything the service needs and listens on `config.host:port`.
 * On a failure part-way, what was already started is closed before the error is rethrown.
 */
export async function startService(config: Config, options: StartServiceOptions): Promise<RunningService> {
  const { logger } = options;
  // Before anything connects: a bad policy file fails start-up with every problem listed.
  const policy = loadPolicyFile(config.policyFile);
  logger.info({ policyFile: policy.file, playbookLanguages: policy.languages }, 'escalation policy loaded');
  const metrics = options.metrics ?? new Metrics();
  // One per process: every call's stages add into it, /metrics reads it.
  const clock = options.clock ?? new StageClock();
  // Started parts, closed in reverse on failure, in this order on shutdown.
  const started: Closer[] = [];
  try {
    const redis = connectRedis(config, { connectionName: 'undertone' });
    redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
    started.unshift({ name: 'redis', close: () => redis.quit() });
    // Pub/sub (agent nudges, supervisor feed) needs a connection of its own.
    const subscriber = connectRedis(config, { connectionName: 'undertone-subscriber' });
    subscriber.on('error', (err) => logger.warn({ err }, 'redis (subscriber) connection error'));
    started.unshift({ name: 'redis-subscriber', close: () => subscriber.quit() });

    if (options.wrapModel && config.dspThreads > 0) throw new Error('startService: wrapModel applies to inline scoring only; set DSP_THREADS=0');
    const model = await loadEmotionModel({ modelPath: config.modelPath, cardPath: config.modelCardPath, logger });
    started.unshift({ name: 'model', close: () => model.close() });
    const served = options.wrapModel?.(model) ?? model;
    // DSP_THREADS > 0: calls are decoded, framed and scored on worker threads (each opens its own
    // session from the card checked above); closed after the app, once the calls have flushed.
    const dsp =
      config.dspThreads > 0
        ? await createWorkerPoolEngine({
            threads: config.dspThreads,
            gatherMs: config.dspGatherMs,
            packCalls: config.dspPackCalls,
            youngGenerationMb: config.dspYoungGenerationMb,
            gcNudgeMs: config.gcNudgeMs,
            gcNudgeMinBytes: config.gcNudgeMinKb * 1024,
            modelPath: config.modelPath,
            card: model.card,
            logger,
            onInference: (ms) => metrics.inferenceSeconds.observe(ms / 1000),
          })
        : undefined;
    if (dsp) started.unshift({ name: 'dsp-workers', close: () => dsp.close() });
    const policyFactory = options.policyFactory ?? policyFactoryFrom(policy);
    const namespace = config.routingQueue;
    const pendingTtlMs = config.agentPendingTtlS * 1000;
    const redisPrefix = config.redisPrefix;
    const feed = createSupervisorFeed({ redis, subscriber, namespace, redisPrefix, logger });
    started.unshift({ name: 'supervisor-feed', close: () => feed.close() });
    const callObserver = createCallFeedObserver({ feed, instanceId: config.instanceId });
    started.unshift({ name: 'call-feed', close: async () => callObserver.close() });
    const summaries = createSummaryStore({ redis, namespace, redisPrefix, ttlS: config.summaryTtlS });
    // endedCalls: what waited for an offline agent and outlived its call is sent marked stale.
    const hub = createRedisAgentHub({ redis, subscriber, namespace, redisPrefix, logger, pendingTtlMs, endedCalls: summaries, metrics });
    started.unshift({ name: 'agent-hub', close: () => hub.close() });
    const journal = config.publishJournalPath === '' ? undefined : openPublishJournal<PendingJob>(config.publishJournalPath, logger);
    const publisher = createBullmqPublisher({ connection: redis, queueName: config.routingQueue, redisPrefix, logger, bufferCapacity: config.publishBufferEvents, journal,
      // Half the grace period to flush what waits for Redis; the rest is for the other parts.
      closeTimeoutMs: Math.floor(config.shutdownGraceMs / 2) });
    metrics.setSources({ queueCounts: () => queueCounts(publisher.queue) });
    started.unshift({ name: 'publisher', close: () => publisher.close() });
    if (config.runWorker) {
      const worker = await startRoutingWorker(config, logger, { metrics });
      started.unshift({ name: 'routing-worker', close: () => worker.close() });
    }

    // This thread's array-buffer nudge (each DSP thread runs its own); its timer never holds the process open.
    const gcNudge = new GcNudge({ intervalMs: config.gcNudgeMs, minGrowthBytes: config.gcNudgeMinKb * 1024 });
    if (config.gcNudgeMs > 0 && !gcNudge.start()) logger.warn('GC_NUDGE_MS: V8 would not expose gc here; binary calls may hold more memory');
    started.unshift({ name: 'gc-nudge', close: async () => gcNudge.stop() });

    const app = await buildApp(config, {
      logger,
      gcNudge,
      model: served,
      dsp,
      policyFactory,
      publisher,
      hub,
      redis,
      metrics,
      clock,
      feed,
      callObserver,
      adminQueues: [publisher.queue],
      summaries,
      flushDelivery: () => flushDelivery({ queue: publisher.queue, publisherDrained: () => publisher.drained(), syncAgents: () => hub.syncAll(), logger }),
    });
    started.unshift({ name: 'app', close: () => app.close() });
    await app.listen({ port: config.port, host: config.host });
    const url = baseUrl(app, config.host);
    logger.info({ url, modelVersion: model.version, queue: config.routingQueue, instanceId: config.instanceId, worker: config.runWorker, dspThreads: config.dspThreads, dspPackCalls: config.dspPackCalls, dspYoungGenerationMb: config.dspYoungGenerationMb, dspGatherMs: config.dspGatherMs, gatewayReadPacingMs: config.gatewayReadPacingMs, gcNudgeMs: config.gcNudgeMs, gcNudgeMinKb: config.gcNudgeMinKb }, 'undertone serving');

    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      close() {
        closing ??= closeAll(started, logger, Date.now() + config.shutdownGraceMs).then(() => logger.info('undertone stopped'));
        return closing;
      },
    };
  } catch (err) {
    await closeAll(started, logger);
    throw err;
  }
}

/**
 * A routing worker with its own Redis connections (the worker's blocking
 * connection needs `maxRetriesPerRequest: null`); `close` closes them too.
 * Used by `serve` (RUN_WORKER) and by `undertone worker`.
 */
export async function startRoutingWorker(config: Config, logger: Logger, options: { metrics?: Metrics } = {}): Promise<{ close(): Promise<void> }> {
  const workerRedis = connectRedis(config, { connectionName: 'undertone-worker', maxRetriesPerRequest: null });
  workerRedis.on('error', (err) => logger.warn({ err }, 'redis (worker) connection error'));
  try {
    const namespace = config.routingQueue;
    const { redisPrefix } = config;
    const mailbox = createAgentMailbox({ redis: workerRedis, namespace, redisPrefix, pendingTtlMs: config.agentPendingTtlS * 1000 });
    const guard = createPriorityGuard({ redis: workerRedis, namespace, redisPrefix });
    const forwarders =
      config.routingWebhookUrl !== null && config.routingWebhookSecret !== null
        ? [createWebhookForwarder({ url: config.routingWebhookUrl, secret: config.routingWebhookSecret, timeoutMs: config.routingWebhookTimeoutMs, logger })]
        : [];
    // A job met after its call ended is sent marked stale, never as live (the summary says when it ended).
    const endedCalls = createSummaryStore({ redis: workerRedis, namespace, redisPrefix, ttlS: config.summaryTtlS });
    const worker = createRoutingWorker({ connection: workerRedis, queueName: config.routingQueue, redisPrefix, mailbox, guard, logger, forwarders, endedCalls, ...(options.metrics ? { metrics: options.metrics } : {}) });
    return {
      async close() {
        await worker.close();
        await workerRedis.quit();
      },
    };
  } catch (err) {
    workerRedis.disconnect();
    throw err;
  }
}

/** Routing-queue counts for /metrics; bounded so a scrape never hangs on an absent Redis. */
async function queueCounts(queue: Queue): Promise<Record<string, number>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('queue counts timed out')), 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const USAGE = `usage: undertone serve

Runs the HTTP/WebSocket server and (unless RUN_WORKER=false) a routing worker.
Configuration comes from the environment: PORT, HOST, REDIS_URL, LOG_LEVEL,
MODEL_PATH, MODEL_CARD_PATH, ROUTING_QUEUE, MAX_MESSAGE_BYTES, MAX_CALLS,
CALL_HISTORY, RUN_WORKER, INSTANCE_ID, AGENT_PENDING_TTL_S, ROUTING_WEBHOOK_URL,
ROUTING_WEBHOOK_SECRET, ROUTING_WEBHOOK_TIMEOUT_MS, SUMMARY_TTL_S, POLICY_FILE
(see src/config/config.ts).
Security and limits: AUTH, JWT_SECRET, TWILIO_AUTH_TOKEN, PUBLIC_URL, START_TIMEOUT_MS,
IDLE_TIMEOUT_MS, SHUTDOWN_GRACE_MS, PUBLISH_JOURNAL_PATH and more (README, Configuration).
`;

/** CLI entry: 0 after a clean shutdown, 2 for bad configuration or arguments, 1 when start-up fails. */
export async function run(argv: string[]): Promise<number> {
  const config = readCommandConfig('serve', argv, USAGE);
  if (typeof config === 'number') return config;

  if (config.auth && config.jwtSecret === '') {
    process.stderr.write('undertone serve: invalid configuration\n  - JWT_SECRET must be set (32+ characters) while AUTH is on; AUTH=off only for local demos\n');
    return 2;
  }
  if (!config.auth) {
    process.stderr.write('undertone serve: WARNING: AUTH=off, every endpoint is open to anyone who can reach this port (local demos and tests only)\n');
  }
  const logger = createLogger(config);
  let service: RunningService;
  try {
    service = await startService(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    const e = err as Error;
    process.stderr.write(`undertone serve: ${err instanceof UndertoneError ? `${err.code}: ` : ''}${e.message}\n`);
    return 1;
  }

  // The service closes within SHUTDOWN_GRACE_MS; the deadline is the last resort
  // behind it, and a part abandoned at the deadline may still hold a socket
  // or timer open, so leave shortly after the close anyway.
  return runUntilSignal(logger, {
    stoppingMessage: 'shutting down',
    deadlineMs: config.shutdownGraceMs + 1000,
    close: () => service.close(),
    exitAfterCloseMs: 500,
  });
}
