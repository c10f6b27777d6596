import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { PostCallSummary } from '../../src/calls/post-call-summary.js';
import type { HandoverContext, HandoverEvent, PriorityEvent, PromptEvent, RecoveredEvent } from '../../src/policy/types.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const uniqueQueueName = (): string => `call-routing-test-${randomUUID()}`;

/** A Redis connection usable by BullMQ queues and workers alike. */
export const newRedis = (): Redis => new Redis(REDIS_URL, { maxRetriesPerRequest: null });

/** A pino logger whose records are kept in memory, for asserting on what was logged. */
export function captureLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

export const silentLogger = (): Logger => pino({ level: 'silent' });

/** Deletes everything of a test queue and closes it. */
export async function dropQueue(name: string, connection: Redis): Promise<void> {
  const queue = new Queue(name, { connection });
  queue.on('error', () => undefined);
  await queue.obliterate({ force: true });
  await queue.close();
}

export function promptEvent(overrides: Partial<PromptEvent> = {}): PromptEvent {
  return {
    type: 'prompt',
    callId: 'call-42',
    audioMs: 12_000,
    tier: 2,
    seq: 2,
    reason: 'tier 2 calming script for anger: agitation 0.71 above 0.55',
    emotion: 'anger',
    situation: 'anger',
    score: 0.71,
    scriptId: 'en.t2.anger.1',
    text: 'I can hear how frustrating this has been.',
    language: 'en',
    ...overrides,
  };
}

export function priorityEvent(overrides: Partial<PriorityEvent> = {}): PriorityEvent {
  return {
    type: 'priority',
    callId: 'call-42',
    audioMs: 12_000,
    tier: 2,
    seq: 1,
    previousTier: 1,
    reason: 'agitation 0.71 ≥ 0.55 for 1.5 s',
    score: 0.71,
    // No customer boost unless a test says so: the level follows the tier.
    priority: overrides.tier ?? 2,
    previousPriority: overrides.previousTier ?? 1,
    customerTier: null,
    msAtTier: { 1: 10_500, 2: 0, 3: 0, 4: 0 },
    cause: 'agitation',
    supervisorAlert: false,
    seniorAssist: false,
    ...overrides,
  };
}

export function recoveredEvent(overrides: Partial<RecoveredEvent> = {}): RecoveredEvent {
  return {
    type: 'recovered',
    callId: 'call-42',
    audioMs: 40_000,
    tier: 1,
    seq: 3,
    previousTier: 2,
    reason: 'agitation below 0.45 for 8.0 s',
    score: 0.3,
    priority: overrides.tier ?? 1,
    previousPriority: overrides.previousTier ?? 2,
    customerTier: null,
    msAtTier: { 1: 10_500, 2: 29_500, 3: 0, 4: 0 },
    recoveryMs: 29_500,
    episodeMs: 29_500,
    calmForMs: 8000,
    ...overrides,
  };
}

export function handoverContext(overrides: Partial<HandoverContext> = {}): HandoverContext {
  return {
    trigger: 'level',
    peakAgitation: 0.93,
    meanAgitation: 0.52,
    msAtTier: { 1: 10_500, 2: 8000, 3: 4000, 4: 0 },
    escalationCount: 3,
    timeline: [{ startMs: 0, endMs: 10_000, meanAgitation: 0.2, peakAgitation: 0.3, tier: 1 }],
    promptsTried: [{ seq: 2, audioMs: 12_000, tier: 2, situation: 'anger', scriptId: 'en.t2.anger.1' }],
    unresolvedBotTurns: 0,
    customerTier: null,
    ...overrides,
  };
}

/** A tier-4 handover event; `context` fields may be overridden in part. */
export function handoverEvent(overrides: Partial<HandoverEvent> = {}, context: Partial<HandoverContext> = {}): HandoverEvent {
  return {
    type: 'handover',
    callId: 'call-42',
    audioMs: 22_500,
    tier: 4,
    seq: 5,
    previousTier: 3,
    reason: 'agitation 0.93 above 0.85 for 2.0 s',
    score: 0.93,
    priority: overrides.tier ?? 4,
    previousPriority: overrides.previousTier ?? 3,
    customerTier: null,
    msAtTier: { 1: 10_500, 2: 8000, 3: 4000, 4: 0 },
    target: 'special-team',
    queue: 'special-care',
    context: handoverContext(context),
    ...overrides,
  };
}

/**
 * A TCP proxy in front of the real Redis that can be taken down and brought
 * back on the same port: a real outage as far as the client can tell.
 */
export class RedisOutageProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    const target = new URL(REDIS_URL);
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and cuts the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A plausible post-call summary (call-42: reached tier 3, recovered, one prompt used). */
export function sampleSummary(overrides: Partial<PostCallSummary> = {}): PostCallSummary {
  return {
    callId: 'call-42',
    streamId: 'MZ42',
    agentId: 'agent-7',
    source: 'twilio',
    language: 'en',
    startedAt: '2025-03-01T09:58:00.000Z',
    endedAt: '2025-03-01T10:00:00.000Z',
    endReason: 'hangup',
    audioMs: 120_000,
    finalTier: 1,
    maxTier: 3,
    peakAgitation: 0.83,
    meanAgitation: 0.41,
    scoredWindows: 200,
    msAtTier: { 1: 90_000, 2: 20_000, 3: 10_000, 4: 0 },
    prompts: [{ promptId: 'call-42_2_prompt', seq: 2, scriptId: 'en.t2.anger.1', tier: 2, emotion: 'anger', audioMs: 31_000, feedback: 'used' }],
    promptsSent: 1,
    promptsUsed: 1,
    promptsDismissed: 0,
    escalations: 2,
    handovers: 0,
    recoveryMs: [30_000],
    ...overrides,
  };
}
