/**
 * One load run: N calls × S seconds against a running server (spawned by
 * the bench or given by --url). Order: server RSS before; open every agent
 * and gateway socket (calls set up); media from a common start, call starts
 * spread over `rampMs`; the measurement window opens once every call is
 * live and `warmupMs` has passed, and closes when the first call ends; then
 * the server's record of every call (audio taken, prompt audio times).
 */
import { randomBytes } from 'node:crypto';
import type { CallDetail, CallSummary } from '../calls/call-views.js';
import type { DriveCall, DriveCallResult, DrivePlan, DriveProtocol } from './call-driver.js';
import { createDriverPool } from './driver-pool.js';
import { framesDue, isAngryCall, nowMs, staggerOffsets } from './pacing.js';
import { machineCpu, type MachineCpu } from './proc-stat.js';
import { alertLatencies, alertTimings, computeFigures, type LoadFigures, type ServerCallView } from './run-figures.js';
import { getApiJson, measureServersMemory, sampleServers, type ServerMemory, type ServerSample, type Target } from './server-probe.js';
import { precomputeAudiohookFrames } from '../gateway-sim/audiohook-stream-client.js';
import { precomputeL16Frames } from '../gateway-sim/l16-stream-client.js';
import { FRAME_MS, precomputeFrames } from '../gateway-sim/twilio-messages.js';

export interface BenchFixture {
  name: string;
  mulaw: Uint8Array;
  angry: boolean;
  /**
   * Audio into the fixture by which its prompt is expected, s (angry
   * fixtures). A call shorter than this starts that much earlier in the
   * fixture, so short runs (--find-max steps, tests) still hear the anger.
   */
  promptByS?: number;
}

/** Where in the fixture a call of `seconds` starts: 0, or late enough to end after the expected prompt + 2 s. */
export function fixtureStartS(f: BenchFixture, seconds: number): number {
  if (f.promptByS === undefined) return 0;
  return Math.max(0, f.promptByS + 2 - seconds);
}

/** Where each call's agent socket connects when there are several instances. */
export type AgentPlacement = 'same' | 'other';

export interface LoadRunOptions {
  /**
   * The instances under test (one, or several on one Redis and one routing
   * queue). Call i streams into instance i mod K: what a least-connections
   * balancer does with calls of equal length.
   */
  targets: readonly Target[];
  /**
   * With several instances, where call i's agent connects: `other` (default)
   * instance i + 1 mod K, so every prompt crosses instances through the
   * routing queue and the agent's inbox; `same` the call's own instance (a
   * balancer that keeps a call's agent with the call: local delivery).
   */
  agents?: AgentPlacement;
  /** The calls' gateway protocol (default `twilio`): see DrivePlan.protocol. AudioHook needs `audiohook` credentials. */
  protocol?: DriveProtocol;
  /** With `l16`, the wire rate (default 16000 Hz: a wideband gateway, resampled to 8 kHz by the server). */
  l16Rate?: number;
  calls: number;
  /** Audio per call, s. */
  seconds: number;
  /** Call starts spread over this, ms (default 1000). */
  rampMs?: number;
  /** Settling time after the last call started before measuring, ms (default 1000; shortened for short calls). */
  warmupMs?: number;
  /** Share of calls that play the angry fixture, 0..1 (default 0.5). */
  angryShare?: number;
  /** Exactly one angry and one calm fixture (8 kHz mu-law). */
  fixtures: readonly BenchFixture[];
  /** Generator threads (default 1). */
  threads?: number;
  /** Agent sockets stay open this long after the last call ended, for late prompts, ms (default 3000). */
  graceMs?: number;
  /** Unique per run: names agents. */
  runId: string;
  /** Called about once a second with elapsed and total ms of streaming. */
  onProgress?: (elapsedMs: number, totalMs: number) => void;
}

/** One sample a second of the run, for the timeline picture. */
export interface TimelinePoint {
  /** Seconds since media started. */
  tS: number;
  /** Server CPU over the last second, ms per call-second (calls live then). */
  cpuMsPerCallS?: number;
  /** `undertone_audio_lag_max_seconds` in ms, when the server exports it. */
  lagMaxMs?: number;
}

export interface LoadRunResult {
  figures: LoadFigures;
  timeline: TimelinePoint[];
  /** Alert latencies, ms, in arrival order (for the picture). */
  alertLatenciesMs: number[];
  /** Each prompt's alert latency against its arrival, seconds since media started: [s, ms]. */
  alertPoints: [number, number][];
}

const hex = (): string => randomBytes(16).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The server's record of a call once it has ended (polled up to `deadlineMs`). */
async function readEndedCall(target: Target, callSid: string, deadlineMs: number): Promise<ServerCallView> {
  let detail: (Partial<CallDetail> & { summary?: { audioMs?: number } }) | undefined;
  for (;;) {
    detail = await getApiJson(target, `/v1/calls/${callSid}`);
    if (detail?.state === 'ended' || nowMs() > deadlineMs) break;
    await sleep(250);
  }
  const promptAudioMs = new Map<number, number>();
  for (const e of detail?.events ?? []) if (e.type === 'prompt') promptAudioMs.set(e.seq, e.audioMs);
  return { audioMs: detail?.audioMs ?? detail?.summary?.audioMs, promptAudioMs };
}

export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const { targets, calls, seconds } = options;
  if (targets.length === 0) throw new RangeError('runLoad: no target');
  const k = targets.length;
  const agentShift = k > 1 && (options.agents ?? 'other') === 'other' ? 1 : 0;
  const wsOf = (t: Target): string => t.httpUrl.replace(/^http/, 'ws');
  const rampMs = options.rampMs ?? 1000;
  const streamMs = seconds * 1000;
  // The window needs every call live: from the last start (+ warm-up) to the first end.
  const warmupMs = Math.max(0, Math.min(options.warmupMs ?? 1000, streamMs - rampMs - 1000));
  if (streamMs - rampMs - warmupMs < 500) throw new RangeError(`--seconds ${seconds} leaves no measurement window after a ${rampMs} ms ramp`);
  const framesPerCall = Math.round(streamMs / FRAME_MS);
  const angryFixture = options.fixtures.findIndex((f) => f.angry);
  const calmFixture = options.fixtures.findIndex((f) => !f.angry);
  const protocol = options.protocol ?? 'twilio';
  const l16Rate = options.l16Rate ?? 16000;
  const frames = protocol === 'twilio' ? options.fixtures.map((f) => precomputeFrames(f.mulaw, seconds, fixtureStartS(f, seconds))) : [];
  const binaryFrames =
    protocol === 'l16'
      ? options.fixtures.map((f) => precomputeL16Frames(f.mulaw, seconds, l16Rate, fixtureStartS(f, seconds)))
      : protocol === 'audiohook'
        ? options.fixtures.map((f) => precomputeAudiohookFrames(f.mulaw, seconds, fixtureStartS(f, seconds)))
        : undefined;
  const audiohook = protocol === 'audiohook' ? targets[0]!.audiohook : undefined;
  if (protocol === 'audiohook' && audiohook === undefined) throw new RangeError('runLoad: --protocol audiohook needs the targets\' AudioHook api key');
  const accountSid = `AC${hex()}`;
  const offsets = staggerOffsets(calls, rampMs);
  const driveCalls: DriveCall[] = offsets.map((startOffsetMs, i) => {
    const angry = isAngryCall(i, options.angryShare ?? 0.5);
    const id = hex();
    // AudioHook's call id is the conversationId, a UUID.
    const callSid = protocol === 'audiohook' ? `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20)}` : `CA${id}`;
    const agentId = `bench-${options.runId}-${i}`;
    const gateway = targets[i % k]!;
    const agent = targets[(i + agentShift) % k]!;
    const agentToken = agent.agentToken?.(agentId);
    return {
      callSid,
      streamSid: `MZ${id}`,
      accountSid,
      agentId,
      angry,
      fixture: angry ? angryFixture : calmFixture,
      startOffsetMs,
      ...(agentToken ? { agentToken } : {}),
      ...(k > 1 ? { gatewayUrl: wsOf(gateway), agentUrl: wsOf(agent) } : {}),
    };
  });
  const byId = new Map(driveCalls.map((c) => [c.callSid, c]));
  const gatewayOf = new Map(driveCalls.map((c, i) => [c.callSid, targets[i % k]!]));
  // One gateway token opens streams on every instance: they share the JWT secret.
  const gatewayToken = targets[0]!.gatewayToken;
  const plan: DrivePlan = {
    wsUrl: wsOf(targets[0]!),
    calls: driveCalls,
    frames,
    framesPerCall,
    protocol,
    ...(binaryFrames ? { binaryFrames } : {}),
    ...(protocol === 'l16' ? { l16Rate } : {}),
    ...(audiohook ? { audiohook } : {}),
    ...(gatewayToken ? { gatewayToken } : {}),
  };

  const before = await sampleServers(targets, true);
  const memoryBefore = await measureServersMemory(targets);
  let memoryLive: ServerMemory | undefined;
  const pool = createDriverPool(plan, options.threads ?? 1);
  let results: DriveCallResult[];
  let windowStart: ServerSample | undefined;
  let windowEnd: ServerSample | undefined;
  let genCpu0: NodeJS.CpuUsage | undefined;
  let machine0: MachineCpu | undefined;
  let machineWindow: { start: MachineCpu; end: MachineCpu } | undefined;
  let genCpuMs = 0;
  const clientLagMs: number[] = [];
  const timeline: TimelinePoint[] = [];
  try {
    await pool.prepare();
    const startAtMs = nowMs() + 200;
    const windowStartAt = startAtMs + rampMs + warmupMs;
    const windowEndAt = startAtMs + streamMs;
    const running = pool.run(startAtMs);
    let done = false;
    // The window's two samples on their own timers: a slow scrape elsewhere must not move them.
    const windowSamples = (async () => {
      await sleep(windowStartAt - nowMs());
      windowStart = await sampleServers(targets, true);
      machine0 = machineCpu();
      genCpu0 = process.cpuUsage();
      // Memory with every call live (after a GC in each server thread): 1 s before the window closes.
      await sleep(windowEndAt - 1000 - nowMs());
      memoryLive = await measureServersMemory(targets);
      await sleep(windowEndAt - nowMs());
      const g = process.cpuUsage(genCpu0);
      windowEnd = await sampleServers(targets, true);
      const machine1 = machineCpu();
      if (machine0 !== undefined && machine1 !== undefined) machineWindow = { start: machine0, end: machine1 };
      genCpuMs = (g.user + g.system) / 1000;
    })();
    // A timeline point a second, and the client lag estimate when the server has no lag histogram.
    const sampler = (async () => {
      let last = await sampleServers(targets, false);
      while (!done) {
        await sleep(1000 - ((nowMs() - startAtMs) % 1000));
        if (done) break;
        const point = await sampleServers(targets, timeline.length % 2 === 0);
        const liveCalls = driveCalls.filter((c) => point.atMs >= startAtMs + c.startOffsetMs && framesDue(startAtMs + c.startOffsetMs, point.atMs, framesPerCall) < framesPerCall).length;
        const lagMax = point.metrics?.value('undertone_audio_lag_max_seconds');
        timeline.push({
          tS: (point.atMs - startAtMs) / 1000,
          // /proc counts CPU in 10 ms ticks: a point less than half a second after the last reads 0 or double.
          ...(point.cpuMs !== undefined && last.cpuMs !== undefined && liveCalls > 0 && point.atMs - last.atMs >= 500
            ? { cpuMsPerCallS: (point.cpuMs - last.cpuMs) / liveCalls / ((point.atMs - last.atMs) / 1000) }
            : {}),
          ...(lagMax !== undefined ? { lagMaxMs: lagMax * 1000 } : {}),
        });
        last = point;
        const inWindow = windowStart !== undefined && windowEnd === undefined;
        if (inWindow && windowStart?.metrics?.histogram('undertone_audio_lag_seconds') === undefined && timeline.length % 2 === 0) {
          // No lag histogram on this server: audio sent by now minus audio the server says it took.
          // The server read its audio counts somewhere between question and answer: compare with
          // what had been sent half way (a busy server answers late; the midpoint splits the error).
          const askedAt = nowMs();
          const lists = await Promise.all(targets.map((t) => getApiJson<{ calls: CallSummary[] }>(t, '/v1/calls')));
          const list = lists.some((l) => l === undefined) ? undefined : { calls: lists.flatMap((l) => l!.calls) };
          const asked = (askedAt + nowMs()) / 2;
          if (list === undefined && nowMs() - askedAt > 1000) {
            // No answer for over a second (timed out): the server is at least that far behind.
            for (const c of driveCalls) if (framesDue(startAtMs + c.startOffsetMs, askedAt, framesPerCall) < framesPerCall) clientLagMs.push(nowMs() - askedAt);
          }
          for (const s of list?.calls ?? []) {
            const c = byId.get(s.callId);
            if (!c) continue;
            const sent = framesDue(startAtMs + c.startOffsetMs, asked, framesPerCall);
            if (sent < framesPerCall) clientLagMs.push(Math.max(0, sent * FRAME_MS - s.audioMs));
          }
        }
        options.onProgress?.(Math.max(0, Math.min(streamMs + rampMs, nowMs() - startAtMs)), streamMs + rampMs);
      }
    })();
    await running;
    const lastStop = nowMs();
    done = true;
    await Promise.all([sampler, windowSamples]);
    if (!windowStart || !windowEnd) throw new Error('UT_ERR_BENCH_WINDOW: the run ended before its measurement window closed');
    // The server's view of every call; meanwhile late prompts may still arrive (counted as late).
    const deadline = nowMs() + 30_000 + calls * 20;
    // Each call from the instance it streamed into: that instance holds its record.
    const views = await mapLimit(driveCalls, 16, (c) => readEndedCall(gatewayOf.get(c.callSid)!, c.callSid, deadline));
    await sleep((options.graceMs ?? 3000) - (nowMs() - lastStop));
    results = await pool.finish();
    const figures = computeFigures({
      calls,
      seconds,
      framesPerCall,
      results,
      views,
      windowStart,
      windowEnd,
      rssBeforeBytes: before.rssBytes,
      metricsBefore: before.metrics,
      memoryBefore,
      memoryLive,
      generatorCpuMs: genCpuMs,
      machineCpu: machineWindow,
      clientLagMs,
      cpuSource: targets.every((t) => t.pid !== undefined) ? 'proc' : 'metrics',
      instances: k,
      protocol: protocol === 'l16' ? `l16/${l16Rate}` : protocol,
    });
    const alertLatenciesMs = alertLatencies(results, views);
    const alertPoints = alertTimings(results, views).map((t): [number, number] => [(t.recvMs - startAtMs) / 1000, t.totalMs]);
    return { figures, timeline, alertLatenciesMs, alertPoints };
  } finally {
    await pool.terminate();
  }
}
