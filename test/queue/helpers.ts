import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { HandoverContext, HandoverEvent, PriorityEvent, PromptEvent } from '../../src/policy/types.js';

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
    priority: 2,
    previousPriority: 1,
    customerTier: null,
    msAtTier: { 1: 12_000, 2: 0, 3: 0, 4: 0 },
    cause: 'agitation',
    supervisorAlert: false,
    seniorAssist: false,
    ...overrides,
  };
}

/** A tier-4 handover event; `context` fields may be overridden in part. */
export function handoverEvent(overrides: Partial<HandoverEvent> = {}, context: Partial<HandoverContext> = {}): HandoverEvent {
  const msAtTier = { 1: 4000, 2: 9000, 3: 6000, 4: 0 };
  return {
    type: 'handover',
    callId: 'call-42',
    audioMs: 19_000,
    tier: 4,
    seq: 5,
    previousTier: 2,
    reason: 'handover to special-care: 3rd escalation without recovery',
    score: 0.8,
    priority: 4,
    previousPriority: 2,
    customerTier: null,
    msAtTier,
    target: 'special-team',
    queue: 'special-care',
    context: {
      trigger: 'repeated-escalations',
      peakAgitation: 0.83,
      meanAgitation: 0.5,
      msAtTier,
      escalationCount: 3,
      timeline: [],
      promptsTried: [],
      unresolvedBotTurns: 0,
      customerTier: null,
      ...context,
    },
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
