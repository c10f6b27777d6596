/**
 * What calls cost Redis, for the capacity figures in the README
 * ("Scale-out"): routing jobs per call-minute at the default policy, and
 * Redis commands per job and per call-minute, from `INFO commandstats`
 * deltas on a private redis-server (the shared one counts everybody's
 * commands), then Redis's own limit on this machine with redis-benchmark.
 *
 *   npx tsx scripts/redis-cost.ts [--calls 10] [--jobs 300] [--redis-prefix '{undertone}'] [--no-benchmark]
 *
 * The service (`startService`: real model, BullMQ publisher and routing
 * worker, agent hub, supervisor feed, summary store; AUTH off) listens on
 * port 0. `--calls` Twilio streams of the demo calls (alternately
 * calm-then-angry and stays-calm) are sent in real time (20 ms frames every
 * 20 ms, so time-driven Redis work such as live-call refreshes counts as in
 * production), each with its agent's socket open, plus one supervisor socket.
 * An idle period first gives the commands an instance issues with no call
 * (worker and feed polling), which are reported apart. Then `--jobs` prompt
 * jobs are published alone, for the Redis commands of one job (publish,
 * route, deliver to a connected agent) without the supervisor feed.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { loadCallAudioAsMuLaw } from '../src/audio/load-call-audio.js';
import { ensureRedis } from '../src/cli/ensure-redis.js';
import { startService } from '../src/cli/serve.js';
import { loadConfig } from '../src/config/config.js';
import type { PromptEvent } from '../src/policy/types.js';
import { createBullmqPublisher } from '../src/queue/bullmq-publisher.js';
import { bullmqPrefix } from '../src/queue/redis-prefix.js';
import { createLogger } from '../src/shared/logger.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10' },
    'idle-seconds': { type: 'string', default: '10' },
    'redis-prefix': { type: 'string', default: '' },
    jobs: { type: 'string', default: '300' },
    'no-benchmark': { type: 'boolean', default: false },
  },
});
const nCalls = Number(values.calls);
const idleS = Number(values['idle-seconds']);

type Stats = Map<string, number>;

async function commandStats(redis: Redis): Promise<Stats> {
  const text = await redis.info('commandstats');
  const out: Stats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

function delta(after: Stats, before: Stats, exclude: readonly string[] = ['info']): Stats {
  const out: Stats = new Map();
  for (const [cmd, n] of after) {
    if (exclude.includes(cmd)) continue;
    const d = n - (before.get(cmd) ?? 0);
    if (d > 0) out.set(cmd, d);
  }
  return out;
}

const total = (s: Stats): number => [...s.values()].reduce((a, b) => a + b, 0);
const top = (s: Stats, n = 12): string =>
  [...s]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([c, k]) => `${c} ${k}`)
    .join(', ');

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  return new Promise((ok, fail) => {
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

// A private Redis: ensureRedis starts one when the URL does not answer (port 1 never does).
const redisHandle = await ensureRedis('redis://127.0.0.1:1');
const queue = `redis-cost-${randomUUID().slice(0, 8)}`;
const config = loadConfig({
  ...process.env,
  AUTH: 'off',
  PORT: '0',
  LOG_LEVEL: 'error',
  REDIS_URL: redisHandle.url,
  ROUTING_QUEUE: queue,
  MAX_CALLS: String(nCalls + 10),
  ...(values['redis-prefix'] ? { REDIS_PREFIX: values['redis-prefix'] } : {}),
});
const logger = createLogger(config);
const service = await startService(config, { logger });
const wsUrl = service.url.replace(/^http/, 'ws');
const stats = new Redis(redisHandle.url);
const fixtures = await Promise.all(['calm-then-angry', 'stays-calm'].map((n) => loadCallAudioAsMuLaw(resolve(`audio-fixtures/demo/${n}.wav`))));

try {
  const supervisor = await open(`${wsUrl}/v1/supervisor/stream`);
  // Idle: what an instance costs Redis with no calls.
  const idle0 = await commandStats(stats);
  const idleT0 = performance.now();
  await new Promise((r) => setTimeout(r, idleS * 1000));
  const idleStats = delta(await commandStats(stats), idle0);
  const idleSeconds = (performance.now() - idleT0) / 1000;

  const calls = await Promise.all(
    Array.from({ length: nCalls }, async (_, i) => {
      const callSid = `CA${randomUUID().replace(/-/g, '')}`;
      const agent = await open(`${wsUrl}/v1/agents/cost-agent-${i}/stream`);
      const gw = await open(`${wsUrl}/v1/streams/twilio`);
      return { callSid, streamSid: `MZ${callSid.slice(2)}`, agent, gw, audio: fixtures[i % 2]!, agentId: `cost-agent-${i}` };
    }),
  );
  const run0 = await commandStats(stats);
  const runT0 = performance.now();
  for (const c of calls) {
    c.gw.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    c.gw.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: c.streamSid,
        start: { streamSid: c.streamSid, callSid: c.callSid, tracks: ['inbound'], customParameters: { agentId: c.agentId }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
      }),
    );
  }
  // Real time: one 20 ms frame per call per tick, on the audio clock.
  const longest = Math.max(...calls.map((c) => c.audio.length));
  const t0 = Date.now();
  for (let off = 0, seq = 2; off < longest; off += 160, seq++) {
    for (const c of calls) {
      if (off >= c.audio.length) continue;
      const payload = Buffer.from(c.audio.subarray(off, off + 160)).toString('base64');
      c.gw.send(JSON.stringify({ event: 'media', sequenceNumber: String(seq), streamSid: c.streamSid, media: { track: 'inbound', chunk: String(seq - 1), timestamp: String((seq - 2) * 20), payload } }));
      if (off + 160 >= c.audio.length) c.gw.send(JSON.stringify({ event: 'stop', sequenceNumber: String(seq + 1), streamSid: c.streamSid, stop: { callSid: c.callSid } }));
    }
    const wait = t0 + ((off + 160) / 160) * 20 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  // Every call ended, every job handled.
  type Detail = { state: string; audioMs: number; events: unknown[] };
  const details: Detail[] = [];
  for (const c of calls) {
    for (;;) {
      const d = (await (await fetch(`${service.url}/v1/calls/${c.callSid}`)).json()) as Detail;
      if (d.state === 'ended') {
        details.push(d);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const events = details.reduce((n, d) => n + d.events.length, 0);
  // One post-call summary job per call besides the policy events.
  const jobs = events + calls.length;
  const prefix = bullmqPrefix(config.redisPrefix);
  for (;;) {
    const [done, failed] = await Promise.all([stats.zcard(`${prefix}:${queue}:completed`), stats.zcard(`${prefix}:${queue}:failed`)]);
    if (done + failed >= jobs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const runSeconds = (performance.now() - runT0) / 1000;
  const runStats = delta(await commandStats(stats), run0);
  for (const c of calls) {
    c.gw.terminate();
    c.agent.terminate();
  }
  supervisor.terminate();

  const callMinutes = details.reduce((n, d) => n + d.audioMs, 0) / 60_000;
  const idlePerS = total(idleStats) / idleSeconds;
  const runCommands = total(runStats);
  const callCommands = runCommands - idlePerS * runSeconds;
  console.log(`idle instance: ${idlePerS.toFixed(1)} Redis commands/s (${top(idleStats, 6)})`);
  console.log(
    `${calls.length} calls, ${callMinutes.toFixed(2)} call-minutes in ${runSeconds.toFixed(1)} s: ${events} policy events + ${calls.length} summaries = ${jobs} routing jobs ` +
      `= ${(jobs / callMinutes).toFixed(2)} jobs per call-minute (${(jobs / callMinutes / 60).toFixed(3)} per call-second)`,
  );
  console.log(
    `Redis commands: ${runCommands} in the run, ${callCommands.toFixed(0)} beyond idle = ${(callCommands / jobs).toFixed(1)} per job, ` +
      `${(callCommands / callMinutes).toFixed(1)} per call-minute (${(callCommands / callMinutes / 60).toFixed(2)} per call-second)`,
  );
  console.log(`  by command: ${top(runStats)}`);

  // Jobs alone: prompt jobs published straight onto the queue (the service's
  // worker routes them to a connected agent), so the per-job figure is not
  // mixed with the supervisor feed's per-call-second work.
  const jobAgent = await open(`${wsUrl}/v1/agents/cost-agent-jobs/stream`);
  let delivered = 0;
  jobAgent.on('message', () => delivered++);
  const publisher = createBullmqPublisher({ connection: redisHandle.url, queueName: queue, redisPrefix: config.redisPrefix, logger });
  const nJobs = Number(values.jobs);
  const doneBefore = await stats.zcard(`${prefix}:${queue}:completed`);
  const job0 = await commandStats(stats);
  const jobT0 = performance.now();
  for (let i = 0; i < nJobs; i++) {
    const prompt: PromptEvent = {
      type: 'prompt', callId: `CA-job-${i}`, audioMs: 12_000, tier: 2, seq: 1, reason: 'redis-cost', emotion: 'anger', situation: 'anger',
      score: 0.7, scriptId: 'en.t2.anger.1', text: 'I can hear how frustrating this has been.', language: 'en',
    };
    await publisher.publish(prompt, { agentId: 'cost-agent-jobs', streamId: `MZ-job-${i}` });
  }
  while ((await stats.zcard(`${prefix}:${queue}:completed`)) - doneBefore < nJobs || delivered < nJobs) await new Promise((r) => setTimeout(r, 50));
  const jobSeconds = (performance.now() - jobT0) / 1000;
  const jobStats = delta(await commandStats(stats), job0, ['info', 'zcard']);
  const perJob = (total(jobStats) - idlePerS * jobSeconds) / nJobs;
  await publisher.close();
  jobAgent.terminate();
  console.log(`${nJobs} prompt jobs alone (published, routed, delivered to a connected agent): ${perJob.toFixed(1)} Redis commands per job; by command: ${top(jobStats)}`);
  let benchmark: Record<string, number> = {};
  if (!values['no-benchmark']) {
    // Redis's own ceiling on this machine: a few seconds, 50 clients, no pipelining.
    const port = new URL(redisHandle.url).port;
    const r = spawnSync('nice', ['-n', '10', 'redis-benchmark', '-p', port, '-q', '-n', '50000', '-c', '50', '-t', 'set,get,incr,lpush,rpop,sadd,hset,zadd'], { encoding: 'utf8' });
    const xadd = spawnSync('nice', ['-n', '10', 'redis-benchmark', '-p', port, '-q', '-n', '50000', '-c', '50', 'XADD', 'bench:s', 'MAXLEN', '~', '1000', '*', 'm', 'x'], { encoding: 'utf8' });
    const text = `${r.stdout}\n${xadd.stdout}`;
    for (const m of text.matchAll(/^"?([A-Za-z_ ]+?)(?:"|:).*?([\d.]+) requests per second/gm)) benchmark[m[1]!.trim()] = Number(m[2]);
    console.log(`redis-benchmark (50 clients, no pipelining): ${Object.entries(benchmark).map(([k, v]) => `${k} ${Math.round(v)}/s`).join(', ')}`);
  }
  console.log(
    JSON.stringify({
      calls: calls.length,
      call_minutes: Number(callMinutes.toFixed(3)),
      jobs,
      jobs_per_call_minute: Number((jobs / callMinutes).toFixed(3)),
      redis_commands_per_job_in_calls: Number((callCommands / jobs).toFixed(2)),
      redis_commands_per_prompt_job: Number(perJob.toFixed(2)),
      redis_commands_per_call_minute: Number((callCommands / callMinutes).toFixed(2)),
      idle_redis_commands_per_s: Number(idlePerS.toFixed(2)),
      redis_prefix: config.redisPrefix,
      benchmark_requests_per_s: benchmark,
    }),
  );
} finally {
  await service.close();
  await stats.quit();
  await redisHandle.stop();
}
