/**
 * Shared helpers for the calls, http and integration tests: the real model,
 * fixture audio, log capture, real sockets.
 */
import type { CallDetail } from '../../src/calls/call-views.js';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { readWav } from '../../src/audio/wav.js';
import { loadEmotionModel, type LoadedEmotionModel } from '../../src/model/emotion-model.js';
import type { EmotionModel } from '../../src/model/types.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startService, type RunningService, type StartServiceOptions } from '../../src/cli/serve.js';
import { keyRoot } from '../../src/delivery/delivery-keys.js';
import { bullmqPrefix } from '../../src/queue/redis-prefix.js';
import { connectRedis } from '../../src/queue/redis-connection.js';
import { connectedMsg, mediaMsg, startMsg, stopMsg, twilioIds, type TwilioIds } from '../ingest/twilio-fixtures.js';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
/** The model under test: models/ by default; MODEL_PATH / MODEL_CARD_PATH point elsewhere (e.g. a candidate in CI). */
export const MODEL_PATH = process.env['MODEL_PATH'] ?? root('models/emotion.onnx');
export const MODEL_CARD_PATH = process.env['MODEL_CARD_PATH'] ?? root('models/emotion.json');

let modelPromise: Promise<LoadedEmotionModel> | undefined;
/** The real model, loaded once per test file. */
export function loadTestModel(): Promise<LoadedEmotionModel> {
  modelPromise ??= loadEmotionModel({ modelPath: MODEL_PATH, cardPath: MODEL_CARD_PATH });
  return modelPromise;
}

/** The real model with its `score` replaced (a slow or shared-bottleneck model for overload tests); card sections kept. */
export async function modelWithScore(score: (real: LoadedEmotionModel) => EmotionModel['score']): Promise<EmotionModel> {
  return replaceScore(await loadTestModel(), score);
}

/** `real` with its `score` replaced; card sections kept. */
export function replaceScore(real: LoadedEmotionModel, score: (real: LoadedEmotionModel) => EmotionModel['score']): EmotionModel {
  return {
    featureNames: real.featureNames,
    version: real.version,
    ...(real.callerScoreBaseline ? { callerScoreBaseline: real.callerScoreBaseline } : {}),
    ...(real.agitationTracker ? { agitationTracker: real.agitationTracker } : {}),
    score: score(real),
    close: async () => undefined,
  };
}

/** A demo call from audio-fixtures/demo as the mu-law bytes a Twilio stream carries. */
export async function loadFixtureMuLaw(name: 'calm-then-angry' | 'stays-calm'): Promise<Uint8Array> {
  const wav = readWav(await readFile(root(`audio-fixtures/demo/${name}.wav`)));
  if (!wav.muLaw || wav.sampleRate !== 8000) throw new Error(`${name}.wav is not 8 kHz mu-law`);
  return wav.muLaw;
}

export interface LogLine {
  level: number;
  msg: string;
  callId?: string;
  [key: string]: unknown;
}

/** A real pino logger whose lines are kept, parsed, for assertions. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level,
    destination: {
      write(text: string) {
        for (const line of text.split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      },
    },
  });
  return { logger, lines };
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

export function twilioCallSid(): string {
  return `CA${randomUUID().replace(/-/g, '')}`;
}

/** Splits audio into Twilio-sized chunks (20 ms = 160 bytes by default). */
export function* chunks(bytes: Uint8Array, size = 160): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Opens a ws client and waits for the open. */
export async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined); // surfaced through 'close' in the tests
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return ws;
}

/** Resolves with the close code and reason the peer closed with. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error('already closed'));
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Parsed JSON text messages received on a socket, as they arrive. */
export function collectJson<T>(ws: WebSocket): T[] {
  const out: T[] = [];
  ws.on('message', (data) => out.push(JSON.parse(String(data)) as T));
  return out;
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ---------------------------------------------------------------------------
// A whole service (startService: real Redis, BullMQ publisher and worker, hub,
// model) on port 0, plus a Twilio-shaped gateway client.


export interface TestService {
  service: RunningService;
  config: Config;
  url: string;
  wsUrl: string;
  queueName: string;
  /** A BullMQ view of the service's uniquely named routing queue. */
  queue: Queue;
  lines: LogLine[];
  close(): Promise<void>;
}

export async function startTestService(env: Record<string, string> = {}, options: Pick<StartServiceOptions, 'wrapModel'> = {}): Promise<TestService> {
  const queueName = uniqueName('ut-test-routing');
  const config = loadConfig({
    // Auth has its own tests (test/http/auth-matrix.test.ts); the rest run open.
    AUTH: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    ROUTING_QUEUE: queueName,
    MODEL_PATH,
    MODEL_CARD_PATH,
    // Calls run inline unless a test asks for worker threads (test/dsp/ covers those).
    DSP_THREADS: '0',
    ...env,
  });
  const { logger, lines } = captureLogger('info');
  const service = await startService(config, { logger, ...options });
  // The queue the service really uses (env may name another, e.g. a second instance on the first's queue; REDIS_PREFIX moves its keys).
  const viewRedis = connectRedis(config, { maxRetriesPerRequest: null });
  viewRedis.on('error', () => undefined);
  const queue = new Queue(config.routingQueue, { connection: viewRedis, prefix: bullmqPrefix(config.redisPrefix) });
  queue.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    service,
    config,
    url: service.url,
    wsUrl: service.url.replace(/^http/, 'ws'),
    queueName: config.routingQueue,
    queue,
    lines,
    close() {
      closing ??= (async () => {
        await service.close();
        // A queue named by the caller (a second instance on the first's queue) is the owner's to drop.
        const owned = env['ROUTING_QUEUE'] === undefined;
        if (owned) await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
        // Delivery and supervisor-feed keys live under [<prefix>:]ut:<queue>: (they expire anyway;
        // a test cluster is thrown away whole).
        if (owned && !config.redisCluster) {
          const keys = await viewRedis.keys(`${keyRoot(config.routingQueue, config.redisPrefix)}:*`);
          if (keys.length > 0) await viewRedis.del(...keys);
        }
        await viewRedis.quit().catch(() => viewRedis.disconnect());
      })();
      return closing;
    },
  };
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `GET /v1/calls/:callId` until the call has ended; returns its detail. */
export async function waitForCallEnded(baseUrl: string, callId: string, timeoutMs = 60_000): Promise<CallDetail> {
  return waitFor(async () => {
    const d = await getJson<CallDetail>(`${baseUrl}/v1/calls/${callId}`);
    return d.body.state === 'ended' ? d.body : undefined;
  }, `call ${callId} ended`, timeoutMs);
}

/** A gateway connection speaking Twilio Media Streams, driven step by step. */
export class TwilioGateway {
  readonly ids: TwilioIds;
  private seq = 1;
  private constructor(
    readonly ws: WebSocket,
    callSid: string,
    readonly closedP: Promise<{ code: number; reason: string }>,
    streamSid?: string,
  ) {
    this.ids = { callSid, streamSid: streamSid ?? `MZ${callSid.slice(2)}` };
  }

  /** `streamSid` defaults to one derived from the callSid; give another for a call's second stream. */
  static async open(wsUrl: string, callSid = twilioCallSid(), streamSid?: string): Promise<TwilioGateway> {
    const ws = await openSocket(`${wsUrl}/v1/streams/twilio`);
    return new TwilioGateway(ws, callSid, closed(ws), streamSid);
  }

  start(opts: Parameters<typeof startMsg>[1] = {}): this {
    this.ws.send(connectedMsg());
    this.ws.send(startMsg(this.ids, opts));
    return this;
  }

  audio(bytes: Uint8Array, track = 'inbound'): this {
    for (const payload of chunks(bytes)) this.ws.send(mediaMsg(this.ids, payload, ++this.seq, track));
    return this;
  }

  stop(): this {
    this.ws.send(stopMsg(this.ids, ++this.seq));
    return this;
  }

  send(data: string | Buffer, binary = false): this {
    this.ws.send(data, { binary });
    return this;
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'done');
    return this.closedP;
  }
}

export { twilioIds };
