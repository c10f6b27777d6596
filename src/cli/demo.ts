import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import WebSocket from 'ws';
import { loadConfig } from '../config/config.js';
import type { CallDetail } from '../calls/call-views.js';
import type { AgentMessage } from '../delivery/agent-messages.js';
import { loadCallAudioAsMuLaw } from '../audio/load-call-audio.js';
import { streamTwilioCall } from '../gateway-sim/twilio-stream-client.js';
import { TIER_NAMES } from '../policy/types.js';
import { renderTimelineSvg } from '../report/score-timeline-svg.js';
import { createLogger } from '../shared/logger.js';
import { signToken } from '../http/auth/tokens.js';
import { ensureRedis } from './ensure-redis.js';
import { startService } from './serve.js';
import { bullmqPrefix } from '../queue/redis-prefix.js';

/** The demo's calls: fixture, the agent taking it, and the script language. */
const DEMO_CALLS = [
  { file: 'audio-fixtures/demo/calm-then-angry.wav', agentId: 'agent-ana', language: 'en-US' },
  { file: 'audio-fixtures/demo/stays-calm.wav', agentId: 'agent-ben', language: 'en-US' },
  { file: 'audio-fixtures/demo/calm-then-angry.wav', agentId: 'agent-chen', language: 'zh-CN' },
] as const;

const HELP = `usage: npm run demo [-- --speed N] [--out DIR]

Starts Undertone (Redis from REDIS_URL, or a private redis-server), connects
as agents, streams the demo calls in audio-fixtures/demo/ through
/v1/streams/twilio, and prints each call's timeline: audio time, scores, tier
changes, and every prompt and priority change the agent received. Writes a
picture of each call's score timeline to --out (default demo-output/).

  --speed N   playback speed (default 8; 1 = real time)
  --out DIR   where the timeline pictures go (default demo-output)
`;

const bar = (v: number, width = 10): string => {
  const full = Math.round(Math.min(1, Math.max(0, v)) * width);
  return '█'.repeat(full) + '·'.repeat(width - full);
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(1).padStart(5)}s`;

/** Prints new timeline windows and events of a call in audio order, as they appear. */
class TimelinePrinter {
  private windowsSeen = 0;
  private eventsSeen = 0;
  private lastPrintedMs = -Infinity;

  print(detail: CallDetail, final: boolean): void {
    const windows = detail.timeline.slice(Math.max(0, this.windowsSeen - detail.timelineDropped));
    const events = detail.events.slice(Math.max(0, this.eventsSeen - detail.eventsDropped));
    this.windowsSeen = detail.timelineDropped + detail.timeline.length;
    this.eventsSeen = detail.eventsDropped + detail.events.length;
    const rows: { ms: number; text: string }[] = [];
    for (const w of windows) {
      // One line per second of audio keeps the timeline readable at 2 windows/s.
      if (w.endMs - this.lastPrintedMs < 1000 && !final) continue;
      this.lastPrintedMs = w.endMs;
      const s = w.scores;
      rows.push({
        ms: w.endMs,
        text: `  ${secs(w.endMs)}  agitation ${bar(s.agitation)} ${s.agitation.toFixed(2)}  anger ${s.anger.toFixed(2)}  arousal ${s.arousal.toFixed(2)}  neutral ${s.neutral.toFixed(2)}`,
      });
    }
    for (const e of events) {
      if (e.type !== 'prompt') {
        const arrow = e.type === 'handover' ? '⇒' : e.tier > e.previousTier ? '▲' : e.tier < e.previousTier ? '▼' : '•';
        rows.push({ ms: e.audioMs, text: `  ${secs(e.audioMs)}  ${arrow} tier ${e.previousTier} → ${e.tier} (${TIER_NAMES[e.tier]}): ${e.reason}` });
      } else {
        rows.push({ ms: e.audioMs, text: `  ${secs(e.audioMs)}  ✎ prompt decided (tier ${e.tier}, agitation ${e.score.toFixed(2)}), script ${e.scriptId}` });
      }
    }
    rows.sort((a, b) => a.ms - b.ms);
    for (const row of rows) process.stdout.write(`${row.text}\n`);
  }
}

async function getJson<T>(url: string, token?: string): Promise<T | undefined> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return res.ok ? ((await res.json()) as T) : undefined;
}

/** `undertone demo`: the whole chain on the demo calls, narrated. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      speed: { type: 'string', default: '8' },
      out: { type: 'string', default: 'demo-output' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const speed = Number(values.speed);
  if (!(speed > 0)) {
    process.stderr.write(`demo: --speed must be a positive number, got '${values.speed}'\n`);
    return 2;
  }

  const baseConfig = loadConfig(process.env);
  const redis = await ensureRedis(baseConfig.redisUrl);
  const queueName = `${baseConfig.routingQueue}-demo-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    ROUTING_QUEUE: queueName,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // Auth stays on: without a JWT_SECRET the demo makes one up for this run and mints its own tokens.
    JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  });
  const mint = (role: 'agent' | 'supervisor' | 'gateway', sub: string): string | undefined =>
    config.auth ? signToken(config.jwtSecret, { role, sub }) : undefined;
  const supervisorToken = mint('supervisor', 'demo-supervisor');
  const gatewayToken = mint('gateway', 'demo-gateway');
  const logger = createLogger(config);
  process.stdout.write(
    `Undertone demo — Redis ${redis.url}${redis.private ? ' (private redis-server started for the demo)' : ''}, queue '${queueName}', speed ×${speed}\n`,
  );
  const service = await startService(config, { logger });
  const httpUrl = service.url;
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  const queue = new Queue(queueName, { connection: { url: redis.url }, prefix: bullmqPrefix(config.redisPrefix) });
  queue.on('error', (err) => logger.warn({ err }, 'demo queue error'));
  await mkdir(values.out, { recursive: true });

  let failures = 0;
  try {
    process.stdout.write(`service listening on ${httpUrl}\n`);
    for (const call of DEMO_CALLS) {
      const name = basename(call.file, '.wav');
      const received: AgentMessage[] = [];
      const agentToken = mint('agent', call.agentId);
      const agent = new WebSocket(`${wsUrl}/v1/agents/${call.agentId}/stream`, agentToken ? { headers: { authorization: `Bearer ${agentToken}` } } : {});
      await new Promise<void>((ok, fail) => {
        agent.once('open', () => ok());
        agent.once('error', fail);
      });
      const callSid = `CA${randomUUID().replace(/-/g, '')}`;
      process.stdout.write(`\n━━ call ${callSid}: ${name} (agent ${call.agentId}, ${call.language}) ━━\n`);
      agent.on('message', (data) => {
        const msg = JSON.parse(String(data)) as AgentMessage;
        if (msg.callId !== callSid) return;
        received.push(msg);
        // A softphone shows a stale message in the call's history, not as live.
        const late = msg.stale === true ? ` (after the call ended at ${msg.callEndedAt ?? '?'}: history only)` : '';
        if (msg.type === 'prompt') {
          process.stdout.write(`  ☎ ${call.agentId} softphone ← prompt [tier ${msg.tier}, agitation ${msg.score.toFixed(2)}, sounds most like ${msg.emotion}] “${msg.text}”${late}\n`);
        } else {
          process.stdout.write(`  ☎ ${call.agentId} softphone ← priority ${msg.previousTier} → ${msg.tier}: ${msg.reason}${late}\n`);
        }
      });

      const printer = new TimelinePrinter();
      const detailUrl = `${httpUrl}/v1/calls/${callSid}`;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const detail = await getJson<CallDetail>(detailUrl, supervisorToken);
          if (detail) printer.print(detail, false);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const mulaw = await loadCallAudioAsMuLaw(resolve(call.file));
      const result = await streamTwilioCall({ url: `${wsUrl}/v1/streams/twilio`, mulaw, callSid, agentId: call.agentId, language: call.language, speed, token: gatewayToken });
      // Wait for the session to finish scoring and the worker to deliver.
      let detail: CallDetail | undefined;
      for (let i = 0; i < 100; i++) {
        detail = await getJson<CallDetail>(detailUrl, supervisorToken);
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const pending = Object.values(counts).reduce((a, b) => a + b, 0);
        if (detail?.state === 'ended' && pending === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 200));
      polling = false;
      await poller;
      if (!detail) {
        process.stdout.write(`  (the service has no record of ${callSid})\n`);
        failures++;
        agent.close();
        continue;
      }
      printer.print(detail, true);
      const svgPath = resolve(values.out, `${name}-${call.language}.svg`);
      await writeFile(svgPath, renderTimelineSvg(detail.timeline, detail.events, { title: `${name} (${call.language}) — call ${callSid}` }));
      const prompts = received.filter((m) => m.type === 'prompt').length;
      const priorities = received.filter((m) => m.type === 'priority').length;
      const peak = Math.max(0, ...detail.timeline.map((w) => w.scores.agitation));
      process.stdout.write(
        `  ── ${(result.sentMs / 1000).toFixed(1)} s of audio, ${detail.timeline.length} scored windows, peak agitation ${peak.toFixed(2)}, final tier ${detail.tier}; ` +
          `agent received ${prompts} prompt(s) and ${priorities} priority change(s); timeline picture: ${svgPath}\n`,
      );
      if (result.closedByServer && result.closedByServer.code !== 1000) {
        process.stdout.write(`  server closed the stream: ${result.closedByServer.code} ${result.closedByServer.reason}\n`);
        failures++;
      }
      agent.close();
    }
    const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'prioritized'], 0, 1000);
    const byName = new Map<string, number>();
    for (const job of jobs) byName.set(job.name, (byName.get(job.name) ?? 0) + 1);
    process.stdout.write(
      `\nrouting queue '${queueName}': ${[...byName].map(([n, c]) => `${c} ${n}`).join(', ') || 'no'} job(s) published and delivered\n`,
    );
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await service.close();
    await redis.stop();
  }
  return failures === 0 ? 0 : 1;
}
