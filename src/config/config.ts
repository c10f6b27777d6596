/**
 * The one module that reads the environment. `loadConfig` validates every
 * variable at once and returns a frozen object; a bad deployment fails at
 * start-up with the full list of problems instead of one at a time. How one
 * variable is read and checked: env-values.ts.
 */
import { availableParallelism, hostname } from 'node:os';
import { DEFAULT_DSP_YOUNG_GENERATION_MB, DEFAULT_PACK_CALLS } from '../dsp/worker-pool.js';
import { DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES } from '../observability/gc-nudge.js';
import { hashTagOf, redisPrefixProblem } from '../queue/redis-prefix.js';
import { ConfigError } from '../shared/errors.js';
import {
  boolean,
  checkHost,
  checkJwtSecret,
  checkOnOff,
  checkPolicyFile,
  checkPublicUrl,
  checkQueueName,
  checkRedisUrl,
  checkWebhookUrl,
  integer,
  raw,
  secret,
  text,
  type Env,
} from './env-values.js';

/** pino levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Validated service configuration. Frozen; read it, never mutate it. */
export interface Config {
  /** TCP port the HTTP/WebSocket server listens on (`PORT`, default 8080; 0 = any free port). */
  readonly port: number;
  /** Interface to bind (`HOST`, default `127.0.0.1`; `0.0.0.0` to accept from other hosts). */
  readonly host: string;
  /** Redis for the routing queue and readiness (`REDIS_URL`, default `redis://127.0.0.1:6379`). */
  readonly redisUrl: string;
  /** pino log level (`LOG_LEVEL`, default `info`). */
  readonly logLevel: LogLevel;
  /** ONNX emotion model file (`MODEL_PATH`, default `models/emotion.onnx`). */
  readonly modelPath: string;
  /** Model card JSON next to the model (`MODEL_CARD_PATH`, default `models/emotion.json`). */
  readonly modelCardPath: string;
  /** BullMQ queue that carries policy events to the routing worker (`ROUTING_QUEUE`, default `call-routing`). */
  readonly routingQueue: string;
  /**
   * Largest gateway WebSocket message accepted, in bytes (`MAX_MESSAGE_BYTES`,
   * default 65536 = 64 KiB). A Twilio 20 ms media message is about 300 bytes;
   * larger messages close the stream with 1009.
   */
  readonly maxMessageBytes: number;
  /**
   * Live calls accepted at once, counting gateway sockets that have not sent
   * their start yet (`MAX_CALLS`, default 1000); the next stream is closed
   * with 1013. A hard ceiling above what one instance serves: on 2-core
   * machines `npm run bench -- --find-max` held 238 to 813 real-time calls
   * with the load generator beside it, and between an instance's real
   * capacity and this ceiling the overload guard (refusals once lag
   * builds) and the shedder keep it real time (docs/overload.md). Set it
   * from your own machine's find-max figure.
   */
  readonly maxCalls: number;
  /** Finished calls kept in memory for `GET /v1/calls/:callId` (`CALL_HISTORY`, default 200). */
  readonly callHistory: number;
  // --- Reliability and security (issue 12) ---
  /** Authentication on every non-public endpoint (`AUTH`, `on` | `off`, default `on`); `off` logs a loud warning. */
  readonly auth: boolean;
  /** HS256 secret for agent/supervisor/gateway/admin JWTs (`JWT_SECRET`, at least 32 characters; required when AUTH is on). */
  readonly jwtSecret: string;
  /** Twilio account auth token; when set, an `X-Twilio-Signature` at the upgrade is checked with it (`TWILIO_AUTH_TOKEN`, default unset). */
  readonly twilioAuthToken: string;
  /** Public base URL gateways dial, e.g. `wss://undertone.example.com`; the URL Twilio signs (`PUBLIC_URL`, default: from the Host header). */
  readonly publicUrl: string;
  /** Largest message accepted on agent and supervisor sockets, bytes (`CLIENT_MAX_MESSAGE_BYTES`, default 4096). */
  readonly clientMaxMessageBytes: number;
  /** A gateway socket that has not sent its call's start within this is closed with 1008, ms (`START_TIMEOUT_MS`, default 10000). */
  readonly startTimeoutMs: number;
  /** A gateway socket that sends nothing for this long is closed with 1008, ms (`IDLE_TIMEOUT_MS`, default 30000; 0 = never). */
  readonly idleTimeoutMs: number;
  /**
   * New WebSocket connections accepted per client IP per minute
   * (`CONNECTIONS_PER_IP_PER_MINUTE`, default 6000; 0 = no limit). Generous
   * because one IP carries many calls: a telephony gateway (a Twilio media
   * edge, an AudioHook connector, a jambonz or FreeSWITCH box) streams a whole
   * floor's calls, and softphones may share one NAT; after an instance fails,
   * its calls and agents reconnect within seconds. A flood brake, not a quota.
   */
  readonly connectionsPerIpPerMinute: number;
  /** Ingest pacing: bytes per second one gateway socket may push before it is paused (`INGEST_MAX_BYTES_PER_S`, default 262144 ≈ 18× real time for Twilio). */
  readonly ingestMaxBytesPerS: number;
  /** An agent or supervisor socket with more than this unsent is cut off with 1008, bytes (`SLOW_CONSUMER_BYTES`, default 1048576). */
  readonly slowConsumerBytes: number;
  /** SIGTERM/SIGINT: the process exits within this even if Redis or a worker hangs, ms (`SHUTDOWN_GRACE_MS`, default 10000). */
  readonly shutdownGraceMs: number;
  /** Append-only file the publish retry buffer is journalled to and replayed from at start (`PUBLISH_JOURNAL_PATH`, default unset = memory only). */
  readonly publishJournalPath: string;
  /** Policy events held while Redis is away; beyond it events are dropped, counted and logged (`PUBLISH_BUFFER_EVENTS`, default 10000). */
  readonly publishBufferEvents: number;
  /**
   * Where `priority`, `recovered` and `handover` jobs are POSTed, signed
   * (`ROUTING_WEBHOOK_URL`, http or https; default none = no webhook).
   */
  readonly routingWebhookUrl: string | null;
  /** HMAC-SHA256 key of the webhook signature (`ROUTING_WEBHOOK_SECRET`, at least 16 characters; required with the URL). */
  readonly routingWebhookSecret: string | null;
  /** One webhook POST may take this long before the job is retried, ms (`ROUTING_WEBHOOK_TIMEOUT_MS`, default 5000). */
  readonly routingWebhookTimeoutMs: number;
  /** How long post-call summaries (and their surveys and acks) are kept in Redis, SECONDS (`SUMMARY_TTL_S`, default 604800 = 7 days). */
  readonly summaryTtlS: number;
  /**
   * Escalation policy file, YAML or JSON (`POLICY_FILE`, default
   * `config/policy.yaml`, shipped and documented knob by knob). Read and
   * validated at start-up by `loadPolicyFile` (every problem listed).
   */
  readonly policyFile: string;
  /**
   * Run a routing worker inside the server (`RUN_WORKER`, default true). Set
   * false when routing workers run as their own processes (`npm run worker`).
   */
  readonly runWorker: boolean;
  /**
   * This instance's name on live calls in the supervisor feed (`INSTANCE_ID`,
   * default `<hostname>-<pid>`).
   */
  readonly instanceId: string;
  /**
   * How long a prompt waits in Redis for an agent who is connected nowhere,
   * in seconds (`AGENT_PENDING_TTL_S`, default 120): a softphone connecting
   * to any instance within it gets the prompt.
   */
  readonly agentPendingTtlS: number;
  /**
   * Genesys AudioHook credentials (`AUDIOHOOK_API_KEYS`, JSON
   * `{"<api key>": "<base64 client secret>"}`, default `{}` = every AudioHook
   * connection refused). A key whose secret is `""` may connect unsigned.
   */
  readonly audiohookApiKeys: Readonly<Record<string, string>>;
  // --- Overload (issue 13) ---
  /**
   * Window lag over which the instance counts as overloaded, ms
   * (`OVERLOAD_LAG_MS`, default 1000; 0 = not checked). When every second for
   * 3 s has a scored window later than this, new calls are refused with 1013
   * `UT_ERR_OVERLOADED` until the lag stays under half of it for 5 s; live
   * calls carry on. A call over it gets one warn log line. Streams sent
   * faster than real time (replays) are not counted.
   */
  readonly overloadLagMs: number;
  /**
   * Event-loop delay over which the instance counts as overloaded, ms
   * (`OVERLOAD_EVENT_LOOP_MS`, default 1000; 0 = not checked); same rule as
   * `overloadLagMs`.
   */
  readonly overloadEventLoopMs: number;
  /**
   * Shed live calls past capacity (`OVERLOAD_SHED`, default true): while the
   * instance is overloaded by window lag and the lag keeps growing, the
   * least escalated, newest real-time calls are closed with 1013
   * `UT_ERR_OVERLOADED` until what is left is scored in time, and new calls
   * are held to the count kept (src/calls/load-shedder.ts). False: every
   * live call carries on, however late its prompts.
   */
  readonly overloadShed: boolean;
  // --- Scale-out (issue 13) ---
  /**
   * Prefix in front of every Redis key and channel (`REDIS_PREFIX`, default
   * unset: `bull:<queue>:…`, `ut:<queue>:…`); set, keys become
   * `<prefix>:bull:…` and `<prefix>:ut:…`. For Redis Cluster use a hash tag,
   * e.g. `{undertone}`, so every key of the queue shares one slot (see
   * src/queue/redis-prefix.ts). Every instance and worker on the queue must use the same.
   */
  readonly redisPrefix: string;
  /**
   * Connect to a Redis Cluster (`REDIS_CLUSTER`, default false): `REDIS_URL`
   * names one seed node, ioredis finds the others. Requires a `REDIS_PREFIX`
   * with a hash tag, so BullMQ's and Undertone's multi-key commands stay in one slot.
   */
  readonly redisCluster: boolean;
  /**
   * Worker threads that decode, extract features and score the calls, each
   * call pinned to one (`DSP_THREADS`, `auto` or 0-64; default `auto`: one
   * per core on one or two cores, else cores − 1, leaving a core to the main
   * thread's sockets, policy and publishing; 0 = everything on the main
   * thread). Resolved to a number.
   */
  readonly dspThreads: number;
  /**
   * How long call audio may wait on the main thread for more before it is
   * posted to its DSP thread, ms (`DSP_GATHER_MS`, 0-100; default 10; 0:
   * the next event-loop turn the worker is free). Alone, 20 cut CPU per
   * call-second by 12–18 % at 100–250 calls for 10–20 ms of alert latency
   * (docs/performance.md "Gathering batches"); with gateway read pacing it
   * puts back together the batches pacing splits (below).
   */
  readonly dspGatherMs: number;
  /**
   * Gateway sockets are read at most this often while a call streams, ms
   * (`GATEWAY_READ_PACING_MS`, 0-200; default 100; 0 = every message as it
   * arrives): frames wait in the kernel and are read together, except the
   * one that completes a window, read as it arrives (src/http/limits/read-pacer.ts).
   * Each read of a socket costs far more than the message it carries. With
   * `DSP_GATHER_MS=10`: 20–28 % less CPU per call-second at 100–300 calls,
   * alert latency p50 +3–6 ms at 100–200 calls and shorter tails at 300
   * (docs/performance.md "Reading gateway sockets in batches").
   */
  readonly gatewayReadPacingMs: number;
  /**
   * Calls a DSP thread takes before the next thread is used
   * (`DSP_PACK_CALLS`, 0-100000; default 100; 0 = every call to the thread
   * with the fewest). Past threads × this many, calls are spread evenly.
   * Below it one thread's larger batches cost ≈ 13 % less CPU per call than
   * two threads' half-empty ones (at 100 calls), at the same alert latency
   * (docs/performance.md "Packing calls"). Keep it to a load one thread
   * carries easily.
   */
  readonly dspPackCalls: number;
  /**
   * Each DSP thread's V8 young generation, MB (`DSP_YOUNG_GENERATION_MB`,
   * 0-1024; default 8; 0 = V8's default, sized from the machine's memory:
   * 48 on a 24-GB machine). V8 grows a busy thread's young generation to its
   * limit and keeps it, though a DSP thread makes little garbage: at 300
   * calls 8 took memory per call from ≈ 320 to ≈ 245 KB at the same CPU
   * (docs/performance.md, "Memory per live call").
   */
  readonly dspYoungGenerationMb: number;
  /**
   * How often each thread (main and DSP) checks its array-buffer memory and,
   * when it grew by `gcNudgeMinKb` since the last collection, runs a
   * young-generation one, ms (`GC_NUDGE_MS`, 0-10000; default 0 = off; 100
   * when on). Why: binary audio's socket reads and the batches between
   * threads are freed only by a collection, and with little garbage in V8's
   * own heap one comes too rarely. For a floor of mostly wideband (L16
   * 16 kHz) calls, `GC_NUDGE_MS=100 GC_NUDGE_MIN_KB=0` took RSS per call
   * from 478–492 to 278–397 KiB at 250 calls, as capping the main thread's
   * semi-space does; for Twilio calls it saves nothing and its collections
   * cost ≈ 0.12 ms of CPU per call-second, hence off by default
   * (docs/performance.md, "Wideband calls' memory without a flag").
   */
  readonly gcNudgeMs: number;
  /** That growth, KiB (`GC_NUDGE_MIN_KB`, 0-65536; default 256; 0 = collect at every check). */
  readonly gcNudgeMinKb: number;
  /**
   * Send each prompt and priority change to the agent's sockets on the
   * instance that decided it at once, ahead of the routing queue
   * (`AGENT_LOCAL_DELIVERY`, default true): the queue still carries it
   * (routing, webhook, sockets on other instances, a softphone that connects
   * later), and a socket that had it is not sent it again
   * (src/delivery/local-agent-delivery.ts). False: agents get everything
   * through the queue and their inbox only.
   */
  readonly agentLocalDelivery: boolean;
}

/**
 * `DSP_THREADS=auto`. The DSP work is about two thirds of the server's CPU
 * and the main thread's a third, so on two cores one DSP thread (half the
 * machine) saturates while the main thread idles: two threads there let the
 * scheduler share both cores (at 350 calls two shed none where one shed a
 * third; docs/performance.md "Two DSP threads on two cores"). From three cores on,
 * cores − 1 DSP threads already have more than their share, and the main
 * thread, which can use only one core, keeps one.
 */
export function autoDspThreads(cores = availableParallelism()): number {
  return cores <= 2 ? Math.max(1, cores) : cores - 1;
}

/** Defaults, as the TSDoc above documents them. */
export const CONFIG_DEFAULTS: Readonly<Config> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  redisUrl: 'redis://127.0.0.1:6379',
  logLevel: 'info',
  modelPath: 'models/emotion.onnx',
  modelCardPath: 'models/emotion.json',
  routingQueue: 'call-routing',
  maxMessageBytes: 64 * 1024,
  maxCalls: 1000,
  callHistory: 200,
  routingWebhookUrl: null,
  routingWebhookSecret: null,
  routingWebhookTimeoutMs: 5000,
  summaryTtlS: 7 * 24 * 3600,
  policyFile: 'config/policy.yaml',
  auth: true,
  jwtSecret: '',
  twilioAuthToken: '',
  publicUrl: '',
  clientMaxMessageBytes: 4096,
  startTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  connectionsPerIpPerMinute: 6000,
  ingestMaxBytesPerS: 256 * 1024,
  slowConsumerBytes: 1024 * 1024,
  shutdownGraceMs: 10_000,
  publishJournalPath: '',
  publishBufferEvents: 10_000,
  runWorker: true,
  instanceId: `${hostname()}-${process.pid}`,
  agentPendingTtlS: 120,
  audiohookApiKeys: Object.freeze({}),
  overloadLagMs: 1000,
  overloadEventLoopMs: 1000,
  overloadShed: true,
  redisPrefix: '',
  redisCluster: false,
  dspThreads: autoDspThreads(),
  dspGatherMs: 10,
  gatewayReadPacingMs: 100,
  dspPackCalls: DEFAULT_PACK_CALLS,
  dspYoungGenerationMb: DEFAULT_DSP_YOUNG_GENERATION_MB,
  gcNudgeMs: 0,
  gcNudgeMinKb: DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES / 1024,
  agentLocalDelivery: true,
});

/** `AUDIOHOOK_API_KEYS`: a JSON object of api key → base64 client secret (empty = unsigned allowed). */
function audiohookKeys(env: Env, problems: string[]): Readonly<Record<string, string>> {
  const value = raw(env, 'AUDIOHOOK_API_KEYS');
  if (value === undefined) return CONFIG_DEFAULTS.audiohookApiKeys;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    problems.push('AUDIOHOOK_API_KEYS must be a JSON object {"<api key>": "<base64 client secret>"}, got text that is not JSON');
    return CONFIG_DEFAULTS.audiohookApiKeys;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('AUDIOHOOK_API_KEYS must be a JSON object {"<api key>": "<base64 client secret>"}');
    return CONFIG_DEFAULTS.audiohookApiKeys;
  }
  const keys: Record<string, string> = {};
  for (const [key, secret] of Object.entries(parsed)) {
    // The key travels in the X-API-KEY header; the secret is base64 (Genesys shows it so).
    if (!/^[A-Za-z0-9+/_=.-]{1,256}$/.test(key)) {
      problems.push(`AUDIOHOOK_API_KEYS: api key '${key.slice(0, 40)}' must be 1-256 characters of [A-Za-z0-9+/_=.-]`);
    } else if (typeof secret !== 'string' || (secret !== '' && !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(secret))) {
      problems.push(`AUDIOHOOK_API_KEYS: the client secret of '${key.slice(0, 40)}' must be a base64 string ("" allows unsigned connections)`);
    } else {
      keys[key] = secret;
    }
  }
  return Object.freeze(keys);
}

/**
 * `AUDIOHOOK_API_KEYS` alone, validated as at start-up, for a tool that
 * connects as Genesys would (the bench with `--url`): the server's own
 * setting, so the tool signs with a key the server takes. Throws
 * `ConfigError` with every problem; `{}` when unset.
 */
export function readAudiohookApiKeys(env: Env = process.env): Readonly<Record<string, string>> {
  const problems: string[] = [];
  const keys = audiohookKeys(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

/** `DSP_THREADS`: `auto` or a whole number 0-64. */
function dspThreads(env: Env, problems: string[]): number {
  const value = raw(env, 'DSP_THREADS');
  if (value === undefined || value === 'auto') return CONFIG_DEFAULTS.dspThreads;
  if (!/^\d+$/.test(value) || Number(value) > 64) {
    problems.push(`DSP_THREADS must be 'auto' or a whole number between 0 and 64, got '${value}'`);
    return CONFIG_DEFAULTS.dspThreads;
  }
  return Number(value);
}

/**
 * Validates the environment into a frozen `Config`.
 *
 * @param env variables to read (default `process.env`); tests pass their own.
 * @throws ConfigError listing every problem found, not just the first.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const d = CONFIG_DEFAULTS;

  const logLevelRaw = text(env, 'LOG_LEVEL', d.logLevel, problems, (v) =>
    (LOG_LEVELS as readonly string[]).includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`,
  );

  const config: Config = {
    port: integer(env, 'PORT', d.port, 0, 65535, problems),
    host: text(env, 'HOST', d.host, problems, checkHost),
    redisUrl: text(env, 'REDIS_URL', d.redisUrl, problems, checkRedisUrl),
    logLevel: logLevelRaw as LogLevel,
    modelPath: text(env, 'MODEL_PATH', d.modelPath, problems),
    modelCardPath: text(env, 'MODEL_CARD_PATH', d.modelCardPath, problems),
    routingQueue: text(env, 'ROUTING_QUEUE', d.routingQueue, problems, checkQueueName),
    // 1 KiB floor: a Twilio `start` message with custom parameters must fit.
    // 16 MiB ceiling: one message is buffered whole in memory.
    maxMessageBytes: integer(env, 'MAX_MESSAGE_BYTES', d.maxMessageBytes, 1024, 16 * 1024 * 1024, problems),
    maxCalls: integer(env, 'MAX_CALLS', d.maxCalls, 1, 100_000, problems),
    callHistory: integer(env, 'CALL_HISTORY', d.callHistory, 0, 100_000, problems),
    routingWebhookUrl: raw(env, 'ROUTING_WEBHOOK_URL') === undefined ? null : text(env, 'ROUTING_WEBHOOK_URL', '', problems, checkWebhookUrl),
    routingWebhookSecret: raw(env, 'ROUTING_WEBHOOK_SECRET') ?? null,
    routingWebhookTimeoutMs: integer(env, 'ROUTING_WEBHOOK_TIMEOUT_MS', d.routingWebhookTimeoutMs, 100, 120_000, problems),
    // A minute at least (a survey comes after the call); a year at most.
    summaryTtlS: integer(env, 'SUMMARY_TTL_S', d.summaryTtlS, 60, 366 * 24 * 3600, problems),
    policyFile: text(env, 'POLICY_FILE', d.policyFile, problems, checkPolicyFile),
    auth: text(env, 'AUTH', d.auth ? 'on' : 'off', problems, checkOnOff) === 'on',
    jwtSecret: secret(env, 'JWT_SECRET', problems, checkJwtSecret),
    twilioAuthToken: secret(env, 'TWILIO_AUTH_TOKEN', problems),
    publicUrl: text(env, 'PUBLIC_URL', d.publicUrl, problems, checkPublicUrl).replace(/\/$/, ''),
    clientMaxMessageBytes: integer(env, 'CLIENT_MAX_MESSAGE_BYTES', d.clientMaxMessageBytes, 128, 1024 * 1024, problems),
    startTimeoutMs: integer(env, 'START_TIMEOUT_MS', d.startTimeoutMs, 100, 600_000, problems),
    idleTimeoutMs: integer(env, 'IDLE_TIMEOUT_MS', d.idleTimeoutMs, 0, 3_600_000, problems),
    connectionsPerIpPerMinute: integer(env, 'CONNECTIONS_PER_IP_PER_MINUTE', d.connectionsPerIpPerMinute, 0, 1_000_000, problems),
    // Floor: Twilio real time is ~14 KB/s of JSON; pacing below it would starve a normal call.
    ingestMaxBytesPerS: integer(env, 'INGEST_MAX_BYTES_PER_S', d.ingestMaxBytesPerS, 32 * 1024, 1024 * 1024 * 1024, problems),
    slowConsumerBytes: integer(env, 'SLOW_CONSUMER_BYTES', d.slowConsumerBytes, 16 * 1024, 1024 * 1024 * 1024, problems),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', d.shutdownGraceMs, 1000, 600_000, problems),
    publishJournalPath: text(env, 'PUBLISH_JOURNAL_PATH', d.publishJournalPath, problems),
    publishBufferEvents: integer(env, 'PUBLISH_BUFFER_EVENTS', d.publishBufferEvents, 1, 10_000_000, problems),
    runWorker: boolean(env, 'RUN_WORKER', d.runWorker, problems),
    instanceId: text(env, 'INSTANCE_ID', d.instanceId, problems, (v) => (/^[A-Za-z0-9._-]{1,100}$/.test(v) ? undefined : 'must be 1-100 characters of [A-Za-z0-9._-]')),
    agentPendingTtlS: integer(env, 'AGENT_PENDING_TTL_S', d.agentPendingTtlS, 1, 86_400, problems),
    audiohookApiKeys: audiohookKeys(env, problems),
    overloadLagMs: integer(env, 'OVERLOAD_LAG_MS', d.overloadLagMs, 0, 600_000, problems),
    overloadEventLoopMs: integer(env, 'OVERLOAD_EVENT_LOOP_MS', d.overloadEventLoopMs, 0, 600_000, problems),
    overloadShed: boolean(env, 'OVERLOAD_SHED', d.overloadShed, problems),
    redisPrefix: text(env, 'REDIS_PREFIX', d.redisPrefix, problems, redisPrefixProblem),
    redisCluster: boolean(env, 'REDIS_CLUSTER', d.redisCluster, problems),
    dspThreads: dspThreads(env, problems),
    dspGatherMs: integer(env, 'DSP_GATHER_MS', d.dspGatherMs, 0, 100, problems),
    gatewayReadPacingMs: integer(env, 'GATEWAY_READ_PACING_MS', d.gatewayReadPacingMs, 0, 200, problems),
    dspPackCalls: integer(env, 'DSP_PACK_CALLS', d.dspPackCalls, 0, 100_000, problems),
    dspYoungGenerationMb: integer(env, 'DSP_YOUNG_GENERATION_MB', d.dspYoungGenerationMb, 0, 1024, problems),
    gcNudgeMs: integer(env, 'GC_NUDGE_MS', d.gcNudgeMs, 0, 10_000, problems),
    gcNudgeMinKb: integer(env, 'GC_NUDGE_MIN_KB', d.gcNudgeMinKb, 0, 65_536, problems),
    agentLocalDelivery: boolean(env, 'AGENT_LOCAL_DELIVERY', d.agentLocalDelivery, problems),
  };
  // An unsigned webhook would let anyone who finds the URL move calls around.
  if (config.routingWebhookUrl !== null && config.routingWebhookSecret === null) {
    problems.push('ROUTING_WEBHOOK_SECRET must be set when ROUTING_WEBHOOK_URL is');
  }
  if (config.routingWebhookSecret !== null && config.routingWebhookSecret.length < 16) {
    problems.push('ROUTING_WEBHOOK_SECRET must be at least 16 characters');
  }
  if (config.routingWebhookSecret !== null && raw(env, 'ROUTING_WEBHOOK_URL') === undefined) {
    problems.push('ROUTING_WEBHOOK_SECRET is set but ROUTING_WEBHOOK_URL is not');
  }

  // Without a hash tag BullMQ's scripts fail with CROSSSLOT on the first job.
  if (config.redisCluster && hashTagOf(config.redisPrefix) === config.redisPrefix) {
    problems.push('REDIS_PREFIX must contain a hash tag such as {undertone} when REDIS_CLUSTER is true');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
