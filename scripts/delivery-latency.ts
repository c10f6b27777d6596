/**
 * Cross-instance delivery latency on the local Redis: a publisher and a
 * routing worker ("instance A") and an agent socket sink on another hub
 * ("instance B"); each prompt is published, taken by the worker, posted to the
 * agent's inbox and sent on by B's hub. Prints median / p95 / p99 ms from
 * publish to the agent's sink, one prompt at a time, then a burst spread over
 * 50 calls (a call's own messages are delivered one after another, in seq order).
 *
 *   npx tsx scripts/delivery-latency.ts [--count 300]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createAgentMailbox } from '../src/delivery/agent-mailbox.js';
import { createPriorityGuard } from '../src/delivery/priority-guard.js';
import { createRedisAgentHub } from '../src/delivery/redis-agent-hub.js';
import { createRoutingWorker } from '../src/delivery/routing-worker.js';
import { createBullmqPublisher } from '../src/queue/bullmq-publisher.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' } } });
const count = Number(values.count);
const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const queueName = `ut-latency-${randomUUID().slice(0, 8)}`;
const logger = pino({ level: 'silent' });

const redisA = new Redis(url, { maxRetriesPerRequest: null });
const redisB = new Redis(url, { maxRetriesPerRequest: null });
const subB = new Redis(url);
const publisher = createBullmqPublisher({ connection: redisA, queueName, logger });
const worker = createRoutingWorker({
  connection: redisA,
  queueName,
  logger,
  mailbox: createAgentMailbox({ redis: redisA, namespace: queueName, maxPerAgent: count * 2 + 10 }),
  guard: createPriorityGuard({ redis: redisA, namespace: queueName }),
});
await worker.waitUntilReady();
const hubB = createRedisAgentHub({ redis: redisB, subscriber: subB, namespace: queueName, logger });
const arrived = new Map<number, number>();
let onArrive: (() => void) | undefined;
hubB.register('lat-agent', {
  send(text) {
      const m = JSON.parse(text) as { seq: number; callId: string };
    arrived.set(m.callId === 'lat-call' ? m.seq : (Number(m.callId.split('-')[1]) + 1) * 100_000 + m.seq, performance.now());
    onArrive?.();
  },
});
await hubB.idle();

const prompt = (seq: number, callId = 'lat-call') => ({
  type: 'prompt' as const, callId, audioMs: seq * 500, tier: 2 as const, seq,
  emotion: 'anger' as const, score: 0.7, scriptId: 'en.t2.anger.1', text: 'line', language: 'en',
});
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const fmt = (xs: number[]) => `median ${pct(xs, 50).toFixed(2)} ms, p95 ${pct(xs, 95).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms`;

const one: number[] = [];
for (let seq = 1; seq <= count; seq++) {
  const got = new Promise<void>((resolve) => (onArrive = () => arrived.has(seq) && resolve()));
  const t0 = performance.now();
  await publisher.publish(prompt(seq), { agentId: 'lat-agent', streamId: 'MZ-lat' });
  await got;
  one.push((arrived.get(seq) as number) - t0);
}
console.log(`one at a time (${count}): ${fmt(one)}`);

const calls = 50;
const perCall = Math.max(1, Math.round(count / calls));
const start = performance.now();
const sentAt = new Map<number, number>();
const total = count + calls * perCall;
const all = new Promise<void>((resolve) => (onArrive = () => arrived.size >= total && resolve()));
for (let seq = 1; seq <= perCall; seq++) {
  for (let c = 0; c < calls; c++) {
    sentAt.set((c + 1) * 100_000 + seq, performance.now());
    await publisher.publish(prompt(seq, `burst-${c}`), { agentId: 'lat-agent', streamId: 'MZ-lat' });
  }
}
await all;
const burst = [...sentAt].map(([key, t]) => (arrived.get(key) as number) - t);
console.log(`burst of ${calls * perCall} over ${calls} calls: all delivered in ${(performance.now() - start).toFixed(0)} ms; per prompt ${fmt(burst)}`);
console.log(`delivered ${arrived.size} of ${total}, each once`);

await worker.close();
await hubB.close();
await publisher.close();
const q = new Queue(queueName, { connection: redisA });
await q.obliterate({ force: true });
await q.close();
const keys = await redisA.keys(`ut:${queueName}:*`);
if (keys.length > 0) await redisA.del(...keys);
await Promise.all([redisA.quit(), redisB.quit(), subB.quit()]);
