/**
 * `buildApp(config, deps)`: the Fastify app with every route, built from the
 * dependencies it is given and never listening itself (the caller decides:
 * `startService` for the CLI, `listen({ port: 0 })` in tests).
 *
 * Routes:
 * - `GET /healthz`, `GET /readyz`                  src/http/health-routes.ts
 * - WS `GET /v1/streams/twilio`                    Twilio Media Streams ingest (and Telnyx, SignalWire)
 * - WS `GET /v1/streams/audiohook`                 Genesys AudioHook (signature checked before the upgrade)
 * - WS `GET /v1/streams/l16`                       Vonage / jambonz / mod_audio_fork L16 streams
 * - WS `GET /v1/agents/:agentId/stream`            agent prompts and priorities
 * - `GET /v1/calls`, `GET /v1/calls/:callId`       src/http/call-routes.ts
 * - `GET /dashboard` (+ `/dashboard/assets/*`)     src/http/dashboard-routes.ts
 * - `GET /metrics`                                 src/observability/metrics-route.ts
 * - `GET /admin/memory[?gc=1]` (admin)             src/http/memory-route.ts
 * - WS `GET /v1/supervisor/stream`                 supervisor feed (when `deps.feed` is given)
 * - `GET /v1/supervisor/calls/:callId`             a call's feed history, from any instance
 * - `/admin/queues`                                bull-board (when `deps.adminQueues` is given)
 *
 * Every route passes the auth hook first (src/http/auth/auth-plugin.ts, rules
 * in src/http/auth/access-rules.ts); every socket gets its limits
 * (src/http/limits/socket-limits.ts).
 *
 * Overload (src/calls/overload-guard.ts): every scored window's lag, and the
 * DSP backlog's age, feed the lag metrics and the guard; while the guard
 * says the instance cannot keep up, new calls are refused at their start
 * with 1013 `UT_ERR_OVERLOADED`, and while the lag keeps growing the load
 * shedder (src/calls/load-shedder.ts, `OVERLOAD_SHED`) closes some live
 * calls so that the rest are scored in time (docs/overload.md).
 *
 * Shutdown (`app.close()`): readiness turns 503, live calls stop taking audio
 * and flush their pending windows (events still publish) while gateway
 * sockets close with 1001; then `deps.flushDelivery` waits (bounded) until
 * the routing queue has delivered those last events, and only then are the
 * agent and supervisor sockets closed with 1001, so the last prompts reach
 * the agents. Stragglers are terminated after `socketCloseGraceMs`. The
 * caller closes the publisher, worker and Redis afterwards.
 */
import fastifyWebsocket from '@fastify/websocket';
import fastify, { LogController, type FastifyInstance, type preValidationAsyncHookHandler } from 'fastify';
import type { WebSocket } from 'ws';
import { createCallPipeline, type CallPipeline } from './calls/call-pipeline.js';
import { CallRegistry, type CallRegistryOptions } from './calls/call-registry.js';
import type { Config } from './config/config.js';
import type { Queue } from 'bullmq';
import type { CallObserver } from './calls/call-observer.js';
import type { AgentHub } from './delivery/agent-messages.js';
import type { SupervisorFeed } from './delivery/supervisor-feed.js';
import { registerAdminQueues } from './http/admin-queues.js';
import { AGENT_MESSAGE_HANDLERS, handleAgentSocket } from './http/agent-socket.js';
import { registerSurveyRoute } from './http/post-call-routes.js';
import { createAckHandler } from './delivery/prompt-feedback.js';
import { createPostCallSink } from './calls/post-call-sink.js';
import type { SummaryStore } from './calls/summary-store.js';
import { registerSupervisorRoutes } from './http/supervisor-routes.js';
import { handleSupervisorSocket, type SupervisorQuery } from './http/supervisor-socket.js';
import { registerCallRoutes } from './http/call-routes.js';
import { registerDashboardRoutes } from './http/dashboard-routes.js';
import { registerErrorHandlers } from './http/error-handler.js';
import { closeForShutdown, handleGatewaySocket } from './http/gateway-socket.js';
import { ReadPacer } from './http/limits/read-pacer.js';
import { startHeartbeat } from './http/heartbeat.js';
import { registerHealthRoutes, type RedisPing } from './http/health-routes.js';
import type { IngestAdapterFactory } from './ingest/ingest-adapter.js';
import { createTwilioAdapter } from './ingest/twilio-adapter.js';
import { createAudiohookAdapter } from './ingest/audiohook-adapter.js';
import { createL16Adapter } from './ingest/l16-adapter.js';
import { audiohookUpgradeCheck } from './http/audiohook-auth.js';
import type { EmotionModel } from './model/types.js';
import type { DspEngine } from './dsp/dsp-engine.js';
import type { EscalationPolicyFactory } from './policy/escalation-policy.js';
import type { EventPublisher } from './queue/publisher.js';
import type { Logger } from './shared/logger.js';
import { registerAuth } from './http/auth/auth-plugin.js';
import { withStartToken } from './http/auth/gateway-start-token.js';
import { createTokenVerifier } from './http/auth/tokens.js';
import { registerConnectionRateLimit } from './http/limits/connection-rate.js';
import { attachSocketLimits } from './http/limits/socket-limits.js';
import { Metrics } from './observability/metrics.js';
import { registerMetricsRoute } from './observability/metrics-route.js';
import { readThreadMemory, registerThreadMemoryGauge } from './observability/thread-memory.js';
import type { GcNudge } from './observability/gc-nudge.js';
import { registerMemoryRoute } from './http/memory-route.js';
import { timedModel } from './observability/timed-model.js';
import { StageClock } from './observability/stage-clock.js';
import { OverloadGuard, type OverloadGuardOptions } from './calls/overload-guard.js';
import { createShedding, type LoadShedderOptions, type SheddableCalls, type Shedding } from './calls/load-shedder.js';
import { createResilientPublisher } from './queue/resilient-publisher.js';
import { withLocalAgentDelivery } from './delivery/local-agent-delivery.js';

/** What the app runs on; all created by the caller and closed by the caller. */
export interface AppDeps {
  /** Root logger; calls get child loggers with their callId. */
  logger: Logger;
  /** The shared, already loaded emotion model. */
  model: EmotionModel;
  /** Where calls are decoded, framed and scored (the worker pool); inline on `model` when absent. Closed by the caller. */
  dsp?: DspEngine | undefined;
  /** Creates each call's escalation policy. */
  policyFactory: EscalationPolicyFactory;
  /** Where calls publish their policy events (BullMQ in production). */
  publisher: EventPublisher;
  /** Where agent sockets register. */
  hub: AgentHub;
  /** Redis connection checked by `/readyz` (an ioredis instance). */
  redis: RedisPing;
  /** Prometheus metrics; a fresh registry when absent. */
  metrics?: Metrics;
  /** The supervisor feed (Redis-backed); without it `/v1/supervisor/stream` is not served. */
  feed?: SupervisorFeed;
  /** Told of every call's start, scores, events and end (feeds the supervisor feed). */
  callObserver?: CallObserver;
  /** Queues shown by bull-board at `/admin/queues`; without them the board is not mounted. */
  adminQueues?: readonly Queue[];
  /**
   * Shutdown step between "calls flushed" and "agent sockets closed": waits
   * (bounded) until the events the calls just published reached the agents.
   */
  flushDelivery?: () => Promise<void>;
  /** Post-call summaries, surveys and acks kept in Redis; without it `POST /v1/calls/:callId/survey` is not served. */
  summaries?: SummaryStore;
  /**
   * The process's per-stage time sums (one per process: `startService`
   * makes it), given to the pipeline and exported on `/metrics`; a fresh one
   * when absent.
   */
  clock?: StageClock;
  /** The main thread's array-buffer nudge (`startService` starts it); its counts go to `/metrics` and `/admin/memory`. */
  gcNudge?: GcNudge;
}

/** Tuning that is not configuration (tests and benchmarks set it). */
export interface AppOptions {
  /** Per-session bounds (backlog, timeline, events); see CallSessionOptions. */
  session?: CallRegistryOptions['session'];
  /** How long shutdown waits for sockets to finish their close handshake, ms (default 2000). */
  socketCloseGraceMs?: number;
  /**
   * WebSocket keepalive: ping every socket this often and terminate one that
   * missed the previous ping, ms (default 30000; 0 disables).
   */
  heartbeatMs?: number;
  /** Replaces the audio/feature stages (benchmarks); defaults to the real ones. Its `onWindowLag`, if any, is still called. */
  pipeline?: CallPipeline;
  /** Overload guard tuning beyond the config's limits (tests); see OverloadGuardOptions. */
  overload?: Pick<OverloadGuardOptions, 'tickMs' | 'enterTicks' | 'leaveTicks' | 'clearRatio' | 'logIntervalMs' | 'eventLoopDelay'>;
  /** Load shedder tuning (tests); used when `config.overloadShed`. See LoadShedderOptions. */
  shedder?: LoadShedderOptions;
}

/** Ingest routes: path → adapter factory, and an optional check run before the upgrade (401 = no socket). */
const GATEWAYS: ReadonlyArray<{ path: string; adapter: IngestAdapterFactory; preValidation?: (config: Config) => preValidationAsyncHookHandler }> = [
  { path: '/v1/streams/twilio', adapter: createTwilioAdapter },
  { path: '/v1/streams/audiohook', adapter: createAudiohookAdapter, preValidation: audiohookUpgradeCheck },
  { path: '/v1/streams/l16', adapter: createL16Adapter },
];

declare module 'fastify' {
  interface FastifyInstance {
    /** Live and recent calls of this app. */
    callRegistry: CallRegistry;
  }
}

function waitForClose(sockets: WebSocket[], graceMs: number): Promise<void> {
  const open = sockets.filter((s) => s.readyState !== s.CLOSED);
  if (open.length === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let left = open.length;
    const timer = setTimeout(() => {
      for (const s of open) if (s.readyState !== s.CLOSED) s.terminate();
      resolve();
    }, graceMs);
    for (const s of open) {
      s.once('close', () => {
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

export async function buildApp(config: Config, deps: AppDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = fastify({
    loggerInstance: deps.logger,
    // agentId and callId may be 128 characters; fastify's default cap is 100.
    routerOptions: { maxParamLength: 512 },
    // Probes hit these every few seconds; their request lines are noise.
    logController: new LogController({ disableRequestLogging: (req) => req.url === '/healthz' || req.url === '/readyz' }),
  }) as unknown as FastifyInstance;

  const metrics = deps.metrics ?? new Metrics({ defaultMetrics: false });
  // Calls publish through a guard that never rejects: a publish failure is logged and counted, the call goes on.
  const publisher = createResilientPublisher(deps.publisher, { logger: deps.logger, metrics });
  const postCall = createPostCallSink({ store: deps.summaries, publisher: deps.publisher });
  // Agents with a socket here get a call's prompts as the policy decides them, not after the queue's round trips.
  const sendLocal = deps.hub.sendLocal?.bind(deps.hub);
  const callPublisher =
    config.agentLocalDelivery && sendLocal
      ? withLocalAgentDelivery(publisher, { hub: { sendLocal }, logger: deps.logger, onSent: (type) => metrics.agentLocalMessages.inc({ type }) })
      : publisher;
  const clock = deps.clock ?? new StageClock();
  // Overload is never silent: past capacity new calls are refused (1013), and
  // while the lag keeps growing some live calls are shed (1013) so that the
  // rest are scored in time.
  const shedding: Shedding | undefined = config.overloadShed
    ? createShedding((): SheddableCalls => registry, {
        logger: deps.logger,
        metrics,
        shedder: { ...(options.overload?.tickMs !== undefined ? { tickMs: options.overload.tickMs } : {}), ...options.shedder },
        capacityCalls: () => pipeline.dsp.throughputCalls?.(),
      })
    : undefined;
  const overload: OverloadGuard = new OverloadGuard({
    lagMs: config.overloadLagMs,
    eventLoopMs: config.overloadEventLoopMs,
    logger: deps.logger,
    metrics,
    ...options.overload,
    backlogMs: () => pipeline.dsp.backlogMs?.(performance.now()) ?? 0,
    ...(shedding ? { onTick: shedding.onTick } : {}),
  });
  const audioLag = metrics.audioLag;
  // Per scored window of every call: typed-array adds, no allocation. The
  // guard hears only calls at about real time (the registry filters).
  const ownLag = (lagMs: number): void => audioLag.observe(lagMs);
  const given = options.pipeline;
  const givenLag = given?.onWindowLag;
  const pipeline: CallPipeline = given
    ? { ...given, onWindowLag: givenLag ? (lagMs) => (givenLag(lagMs), ownLag(lagMs)) : ownLag }
    : createCallPipeline({ ...deps, model: timedModel(deps.model, metrics), publisher: callPublisher, observer: deps.callObserver, postCall, clock, onWindowLag: ownLag });
  const registry: CallRegistry = new CallRegistry(pipeline, deps.logger, {
    maxCalls: config.maxCalls,
    callHistory: config.callHistory,
    session: options.session,
    // The measured capacity first: while live calls are at it, that is the more precise reason.
    admission: () => shedding?.admit() ?? overload.admit(),
    callLagWarnMs: config.overloadLagMs,
    onCallLag: (lagMs) => overload.observeLag(lagMs),
  });
  app.decorate('callRegistry', registry);
  let shuttingDown = false;
  let stopHeartbeat = (): void => {};
  const graceMs = options.socketCloseGraceMs ?? 2000;
  // Agent and supervisor sockets: closed last at shutdown, after delivery flushed.
  const listenerSockets = new Set<WebSocket>();
  const trackListener = (socket: WebSocket): void => {
    listenerSockets.add(socket);
    socket.once('close', () => listenerSockets.delete(socket));
  };

  await app.register(fastifyWebsocket, {
    options: {
      // Hard ceiling, enforced by ws before buffering (it closes with 1009 itself).
      // The handler's own check at maxMessageBytes closes with 1009 and a coded reason.
      maxPayload: config.maxMessageBytes * 2,
      // Gateways send small frames 50 times a second: compression would cost more CPU than it saves.
      perMessageDeflate: false,
    },
    errorHandler(error, socket, request) {
      // ws already sent its close frame (e.g. 1009 for maxPayload); do not
      // terminate here, or the frame may be lost. Anything else gets 1011.
      request.log.warn({ err: error }, 'websocket error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'UT_ERR_INTERNAL: websocket error');
    },
    preClose: async () => {
      shuttingDown = true;
      stopHeartbeat();
      const flushed = registry.shutdown();
      const sockets = [...app.websocketServer.clients];
      for (const socket of sockets) if (!listenerSockets.has(socket)) closeForShutdown(socket);
      await flushed;
      // The calls' last events are published; let them reach the agents before their sockets go.
      if (deps.flushDelivery) await deps.flushDelivery().catch((err: unknown) => deps.logger.warn({ err }, 'delivery flush at shutdown failed'));
      for (const socket of sockets) closeForShutdown(socket);
      await waitForClose(sockets, graceMs);
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
    },
  });

  const heartbeatMs = options.heartbeatMs ?? 30_000;
  if (heartbeatMs > 0) stopHeartbeat = startHeartbeat(app.websocketServer, heartbeatMs);

  const limits = attachSocketLimits(app.websocketServer, {
    maxCalls: config.maxCalls,
    liveCalls: () => registry.liveCount,
    gatewayHardMaxBytes: config.maxMessageBytes * 2,
    clientMaxMessageBytes: config.clientMaxMessageBytes,
    startTimeoutMs: config.startTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    ingestMaxBytesPerS: config.ingestMaxBytesPerS,
    slowConsumerBytes: config.slowConsumerBytes,
    metrics,
    logger: deps.logger,
  });
  // Once a second: moves the 10-s window of undertone_audio_lag_max_seconds
  // and re-judges which streams run ahead of real time (the hot path reads no clock).
  const lagTicker = setInterval(() => {
    audioLag.tick();
    registry.refreshPace(performance.now());
  }, 1000);
  lagTicker.unref();
  const readPacer = config.gatewayReadPacingMs > 0 ? new ReadPacer({ intervalMs: config.gatewayReadPacingMs }) : undefined;
  app.addHook('onClose', async () => {
    readPacer?.close();
    limits.stop();
    overload.stop();
    clearInterval(lagTicker);
  });
  metrics.setSources({
    stageClock: pipeline.clock ?? clock,
    overloaded: () => overload.overloaded,
    activeCalls: () => registry.liveCount,
    publishBuffered: () => (deps.publisher as { readonly buffered?: number }).buffered ?? 0,
    ...(pipeline.dsp.batchesPosted ? { dspBatches: () => pipeline.dsp.batchesPosted!() } : {}),
    ...(readPacer ? { gatewayReadPauses: () => readPacer.pausesTotal } : {}),
    ...(pipeline.dsp.callsByWorker ? { dspWorkerCalls: () => pipeline.dsp.callsByWorker!() } : {}),
  });
  registerConnectionRateLimit(app, { perMinute: config.connectionsPerIpPerMinute, metrics });
  registerAuth(app, { enabled: config.auth, jwtSecret: config.jwtSecret, twilioAuthToken: config.twilioAuthToken, publicUrl: config.publicUrl, metrics });
  const verifyToken = createTokenVerifier(config.jwtSecret);
  registerMetricsRoute(app, metrics);
  // Heap + external per thread (main and DSP workers): memory per call without allocator slack.
  registerThreadMemoryGauge(metrics.registry, () => [readThreadMemory('main', deps.gcNudge?.stats), ...(pipeline.dsp.threadMemory?.() ?? [])]);
  registerMemoryRoute(app, pipeline.dsp, deps.gcNudge);

  registerErrorHandlers(app);
  registerHealthRoutes(app, { redis: deps.redis, model: deps.model, isShuttingDown: () => shuttingDown, publisher: () => publisher.health() });
  registerCallRoutes(app, registry, deps.summaries);
  if (deps.summaries) registerSurveyRoute(app, registry, deps.summaries);
  registerDashboardRoutes(app);
  const agentHandlers = { ...AGENT_MESSAGE_HANDLERS, ack: createAckHandler({ registry, summaries: deps.summaries }) };

  for (const gateway of GATEWAYS) {
    const preValidation = gateway.preValidation?.(config);
    app.get(gateway.path, { websocket: true, ...(preValidation ? { preValidation } : {}) }, (socket, request) => {
      handleGatewaySocket(socket, {
        registry,
        adapter: limits.gatewayAdapter(socket, withStartToken(gateway.adapter({ headers: request.headers }), { required: request.gatewayAuth === 'start-token', verify: verifyToken, metrics })),
        logger: request.log as Logger,
        maxMessageBytes: config.maxMessageBytes,
        ...(pipeline.clock ? { clock: pipeline.clock } : {}),
        ...(readPacer ? { pacing: readPacer.attach(request.raw.socket) } : {}),
      });
    });
  }

  app.get<{ Params: { agentId: string } }>('/v1/agents/:agentId/stream', { websocket: true }, (socket, request) => {
    trackListener(socket);
    handleAgentSocket(socket, request.params.agentId, deps.hub, request.log as Logger, agentHandlers);
  });

  const feed = deps.feed;
  if (feed) {
    app.get<{ Querystring: SupervisorQuery }>('/v1/supervisor/stream', { websocket: true }, (socket, request) => {
      trackListener(socket);
      handleSupervisorSocket(socket, request.query, feed, request.log as Logger, request.principal);
    });
    registerSupervisorRoutes(app, feed);
  }

  if (deps.adminQueues && deps.adminQueues.length > 0) {
    await registerAdminQueues(app, { queues: deps.adminQueues });
  }

  return app;
}
