/**
 * Turns what one load run observed (per-call generator results, the server's
 * view of each call, two server samples around the measurement window) into
 * the bench figures. Pure: unit-testable without sockets.
 */
import type { DriveCallResult } from './call-driver.js';
import { histogramDelta, histogramQuantile, quantile } from './histogram.js';
import { frameForAudioMs } from './pacing.js';
import { DSP_THREAD_NAME, machineCpuShares, threadCpuDeltaMs, type MachineCpu, type MachineCpuShares } from './proc-stat.js';
import type { MetricsSnapshot } from './prom-text.js';
import type { ServerMemory, ServerSample } from './server-probe.js';
import { FRAME_MS } from '../gateway-sim/twilio-messages.js';

/** The server's record of one call after it ended. */
export interface ServerCallView {
  /** Caller audio the server took, ms; undefined when the call could not be read. */
  audioMs: number | undefined;
  /** Audio ms of each prompt event, by its seq. */
  promptAudioMs: ReadonlyMap<number, number>;
}

export const STAGE_NAMES = ['ingest', 'decode', 'features', 'pitch', 'model', 'policy', 'publish'] as const;

export interface LoadFigures {
  calls: number;
  seconds: number;
  /** Server instances the calls were spread over (one Redis, one routing queue); every CPU, memory and stage figure is their sum. */
  instances: number;
  /** The calls' gateway protocol: `twilio` (8 kHz mu-law in JSON), `l16/<rate>` (binary L16 at that rate, the Vonage websocket) or `audiohook` (Genesys: binary stereo PCMU). */
  protocol: string;
  /** Length of the steady-state window the CPU, stage and lag figures cover, s. */
  measured_s: number;
  cpu_ms_per_call_second: number | null;
  /** `proc` (the spawned server's /proc) or `metrics` (undertone_process_cpu_seconds_total). */
  cpu_source: 'proc' | 'metrics' | null;
  /** The main thread's share of `cpu_ms_per_call_second` (sockets, sessions, policy, delivery); the rest is the DSP workers and helper threads. From /proc only. */
  main_thread_cpu_ms_per_call_second: number | null;
  /** The DSP worker threads' share (threads named `dsp-<i>`: decode, features, pitch, model). From /proc only. */
  dsp_thread_cpu_ms_per_call_second: number | null;
  /** The rest: process − main − DSP threads (V8's GC and compiler threads, libuv's and onnxruntime's pools, threads that ended). From /proc only. */
  other_thread_cpu_ms_per_call_second: number | null;
  stage_cpu_ms_per_call_second: Record<string, number> | null;
  /**
   * Batches the main thread posted to its DSP workers per second of the
   * window, and gateway audio messages per batch (how much each post
   * carries: `DSP_GATHER_MS`, docs/performance.md "Gathering batches").
   * Null when the server exports no `undertone_dsp_batches_total` (inline DSP).
   */
  dsp_batches_per_s: number | null;
  audio_messages_per_dsp_batch: number | null;
  /** Batched model runs per second of the window (`undertone_inference_seconds`' count): each costs a fixed overhead, whatever its size. */
  model_runs_per_s: number | null;
  /**
   * Young-generation collections the GC nudge ran per second of the window
   * (all threads; `undertone_gc_nudges_total`), and the time they took, ms
   * per call-second. Null when the server exports no such counter.
   */
  gc_nudges_per_s: number | null;
  /** The same by thread (`main`, `dsp-<i>`). */
  gc_nudges_per_s_by_thread: Record<string, number> | null;
  gc_nudge_ms_per_call_second: number | null;
  lag_p50_ms: number | null;
  lag_p99_ms: number | null;
  /** `metrics` (undertone_audio_lag_seconds) or `client` (audio sent vs audio the server reports taken, and prompt windows' frame sent → decided). */
  lag_source: 'metrics' | 'client' | null;
  alert_latency_p50_ms: number | null;
  alert_latency_p99_ms: number | null;
  /** Alert latency split at the server's decision time (the prompt's `at`): frame sent → decided. */
  alert_decide_p50_ms: number | null;
  alert_decide_p99_ms: number | null;
  /** … and decided → on the agent socket (routing queue, delivery). */
  alert_deliver_p50_ms: number | null;
  alert_deliver_p99_ms: number | null;
  /** Prompts received on the agent sockets (within the run and its grace period). */
  prompts: number;
  /** Prompt events the server decided (its record of each call): more than `prompts` means some were not delivered in time. */
  prompts_decided: number;
  angry_calls: number;
  angry_calls_prompted: number;
  late_prompts: number;
  /**
   * Of `late_prompts`, those not marked `stale` (sent as live after the call had ended): the server
   * had not yet read the call's stop when it decided them (read pacing holds a read up to
   * `GATEWAY_READ_PACING_MS`), or it failed to mark them.
   */
  late_prompts_unmarked: number;
  rss_kb_per_call: number | null;
  /**
   * Δ(V8 heap used + external memory, summed over the server's threads: main and DSP workers) ÷ calls,
   * from `undertone_thread_memory_bytes` before the calls and at the window's end. Unlike RSS it leaves out
   * allocator slack, code and young-generation space V8 grew and keeps (it still counts garbage not yet collected).
   */
  heap_kb_per_call: number | null;
  /** The same per thread (`main`, `dsp-0`, …), KiB per call. */
  heap_kb_per_call_by_thread: Record<string, number> | null;
  /**
   * `probe-gc`: from `GET /admin/memory?gc=1` after a full GC in every thread (live objects only; taken
   * 1 s before the window closes, every call live); `probe`: the same without GC; `metrics`: the
   * `undertone_thread_memory_bytes` gauges (garbage included); null: none.
   */
  heap_source: 'probe-gc' | 'probe' | 'metrics' | null;
  frames_expected: number;
  frames_sent: number;
  frames_taken: number;
  dropped_frames: number;
  /** Calls the server closed early or that could not be opened. */
  failed_calls: number;
  /** Of those, live calls the server shed past capacity (closed 1013 mid-call, or an AudioHook `disconnect` saying so: src/calls/load-shedder.ts). */
  shed_calls: number;
  /** Calls whose audio taken the server could not report (forgotten, or GET /v1/calls/:callId failed): their frames are not counted as dropped. */
  unverified_calls: number;
  generator_cpu_ms_per_call_second: number;
  /** How late the generator handed frames to their sockets (send − due), p99, ms: a starved generator shows here, not as server lag. */
  generator_send_late_p99_ms: number | null;
  /**
   * The machine the bench runs on (spawned servers and generator alike) over
   * the window, shares of all its CPUs' time: busy, stolen by the hypervisor
   * (a VM that gets less than its cores), idle. Null where /proc/stat is not
   * readable. With `--url`, the generator's machine only.
   */
  machine_cpu: MachineCpuShares | null;
}

function machineShares(m: FigureInputs['machineCpu']): MachineCpuShares | null {
  const shares = m === undefined ? undefined : machineCpuShares(m.start, m.end);
  if (shares === undefined) return null;
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return { busy: r(shares.busy), steal: r(shares.steal), idle: r(shares.idle) };
}

/** p99 of send − due over every frame sent (a sample of at most ~20 000 frames). */
function sendLateP99(results: readonly DriveCallResult[]): number | undefined {
  const total = results.reduce((n, r) => n + r.framesSent, 0);
  if (total === 0) return undefined;
  const stride = Math.max(1, Math.floor(total / 20_000));
  const late: number[] = [];
  let k = 0;
  for (const r of results) {
    for (let f = 0; f < r.sendTimes.length; f++) {
      const t = r.sendTimes[f]!;
      if (Number.isNaN(t) || k++ % stride !== 0) continue;
      late.push(t - (r.startMs + FRAME_MS * f));
    }
  }
  return late.length > 0 ? quantile(late, 0.99) : undefined;
}

export interface FigureInputs {
  calls: number;
  seconds: number;
  framesPerCall: number;
  results: readonly DriveCallResult[];
  views: readonly ServerCallView[];
  /** Server samples at the window's start and end. */
  windowStart: ServerSample;
  windowEnd: ServerSample;
  /** Server RSS before any call was opened, bytes. */
  rssBeforeBytes: number | undefined;
  /** The server's /metrics before any call was opened (for `undertone_thread_memory_bytes`). */
  metricsBefore?: MetricsSnapshot | undefined;
  /** The memory probe before any call was opened, and with every call live. */
  memoryBefore?: ServerMemory | undefined;
  memoryLive?: ServerMemory | undefined;
  /** Generator process CPU over the window, ms. */
  generatorCpuMs: number;
  /** The machine's CPU time at the window's start and end (see LoadFigures.machine_cpu). */
  machineCpu?: { start: MachineCpu; end: MachineCpu } | undefined;
  /** Where the server CPU figures come from. */
  cpuSource: 'proc' | 'metrics';
  /** Instances the figures add up (default 1). */
  instances?: number;
  /** See LoadFigures.protocol (default `twilio`). */
  protocol?: string;
  /** Client-side lag samples (ms), used when the lag histogram is absent. */
  clientLagMs: readonly number[];
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const orNull = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : round(v));

/**
 * Alert latency of every prompt whose audio time is known (from the message,
 * or the server's record of the call): arrival − send time of the frame that
 * completed the triggering window. In arrival order per call, ms.
 */
export function alertLatencies(results: readonly DriveCallResult[], views: readonly (ServerCallView | undefined)[]): number[] {
  return alertTimings(results, views).map((t) => t.totalMs);
}

/** Per prompt: total alert latency, and its split at the server's decision time (`at`, ms precision). */
export interface AlertTiming {
  totalMs: number;
  /** When the prompt arrived on the agent socket (epoch ms, the generator's clock). */
  recvMs: number;
  /** Frame sent → prompt decided on the server. */
  decideMs?: number;
  /** Decided → arrived on the agent socket (queue, delivery). */
  deliverMs?: number;
}

export function alertTimings(results: readonly DriveCallResult[], views: readonly (ServerCallView | undefined)[]): AlertTiming[] {
  const out: AlertTiming[] = [];
  results.forEach((r, i) => {
    for (const p of r.prompts) {
      const audioMs = p.audioMs ?? views[i]?.promptAudioMs.get(p.seq);
      if (audioMs === undefined) continue;
      const sent = r.sendTimes[Math.min(r.sendTimes.length - 1, frameForAudioMs(audioMs))];
      if (sent === undefined || Number.isNaN(sent)) continue;
      out.push({
        totalMs: p.recvMs - sent,
        recvMs: p.recvMs,
        ...(p.decidedMs !== undefined ? { decideMs: p.decidedMs - sent, deliverMs: p.recvMs - p.decidedMs } : {}),
      });
    }
  });
  return out;
}

export function computeFigures(input: FigureInputs): LoadFigures {
  const { windowStart: a, windowEnd: b, calls } = input;
  const measuredS = Math.max(0.001, (b.atMs - a.atMs) / 1000);
  const callS = calls * measuredS;
  const perCallS = (ms: number): number => ms / callS;

  const cpuMs = a.cpuMs !== undefined && b.cpuMs !== undefined ? b.cpuMs - a.cpuMs : undefined;
  const mainCpuMs = a.mainCpuMs !== undefined && b.mainCpuMs !== undefined ? b.mainCpuMs - a.mainCpuMs : undefined;
  const dspCpuMs = a.threads !== undefined && b.threads !== undefined ? threadCpuDeltaMs(a.threads, b.threads, DSP_THREAD_NAME) : undefined;
  // /proc counts each thread in whole clock ticks: the remainder may round a hair below zero.
  const otherCpuMs = cpuMs !== undefined && mainCpuMs !== undefined && dspCpuMs !== undefined ? Math.max(0, cpuMs - mainCpuMs - dspCpuMs) : undefined;
  let stages: Record<string, number> | null = null;
  const sa = a.metrics?.byLabel('undertone_stage_seconds_total', 'stage');
  const sb = b.metrics?.byLabel('undertone_stage_seconds_total', 'stage');
  if (sb && sb.size > 0) {
    stages = {};
    for (const [stage, s] of sb) stages[stage] = round(perCallS((s - (sa?.get(stage) ?? 0)) * 1000));
  }

  const delta = (name: string): number | undefined => {
    const end = b.metrics?.value(name);
    return end === undefined ? undefined : end - (a.metrics?.value(name) ?? 0);
  };
  const batches = delta('undertone_dsp_batches_total');
  const allSources = (m: MetricsSnapshot | undefined): number => [...(m?.byLabel('undertone_audio_messages_total', 'source').values() ?? [])].reduce((x, y) => x + y, 0);
  const messages = b.metrics === undefined ? undefined : allSources(b.metrics) - allSources(a.metrics);
  const modelRuns = delta('undertone_inference_seconds_count');
  // Per-thread counter deltas over the window; undefined when the server exports no such counter.
  const threadDeltas = (name: string): Map<string, number> | undefined => {
    const end = b.metrics?.byLabel(name, 'thread');
    if (end === undefined || end.size === 0) return undefined;
    const start = a.metrics?.byLabel(name, 'thread');
    return new Map([...end].map(([thread, v]) => [thread, v - (start?.get(thread) ?? 0)]));
  };
  const sum = (m: Map<string, number> | undefined): number | undefined => (m === undefined ? undefined : [...m.values()].reduce((x, y) => x + y, 0));
  const nudgesByThreadDelta = threadDeltas('undertone_gc_nudges_total');
  const nudges = sum(nudgesByThreadDelta);
  const nudgesByThread =
    nudgesByThreadDelta === undefined ? null : Object.fromEntries([...nudgesByThreadDelta].map(([thread, n]) => [thread, round(n / measuredS)]));
  const nudgeS = sum(threadDeltas('undertone_gc_nudge_seconds_total'));

  let lagP50: number | undefined;
  let lagP99: number | undefined;
  let lagSource: LoadFigures['lag_source'] = null;
  const hb = b.metrics?.histogram('undertone_audio_lag_seconds');
  if (hb) {
    const delta = histogramDelta(a.metrics?.histogram('undertone_audio_lag_seconds'), hb);
    const p50 = histogramQuantile(delta, 0.5);
    const p99 = histogramQuantile(delta, 0.99);
    if (p50 !== undefined && p99 !== undefined) {
      lagP50 = p50 * 1000;
      lagP99 = p99 * 1000;
      lagSource = 'metrics';
    }
  }
  const timings = alertTimings(input.results, input.views);
  const latencies = timings.map((t) => t.totalMs);
  const decide = timings.flatMap((t) => (t.decideMs === undefined ? [] : [t.decideMs]));
  const deliver = timings.flatMap((t) => (t.deliverMs === undefined ? [] : [t.deliverMs]));
  // Without the server's histogram: audio sent but not yet taken (polled), and, for the windows that
  // triggered prompts, frame sent → decided (a scoring backlog shows there, not in the polls).
  const clientLag = [...input.clientLagMs, ...decide];
  if (lagSource === null && clientLag.length > 0) {
    lagP50 = quantile(clientLag, 0.5);
    lagP99 = quantile(clientLag, 0.99);
    lagSource = 'client';
  }
  let prompts = 0;
  let late = 0;
  let lateUnmarked = 0;
  let angry = 0;
  let angryPrompted = 0;
  let framesSent = 0;
  let framesTaken = 0;
  let dropped = 0;
  let failedCalls = 0;
  let shedCalls = 0;
  let unverified = 0;
  input.results.forEach((r, i) => {
    const view = input.views[i];
    framesSent += r.framesSent;
    const taken = view?.audioMs === undefined ? 0 : Math.round(view.audioMs / FRAME_MS);
    framesTaken += taken;
    // Frames the generator could not send count as dropped, as do sent frames the server never took
    // (unless the server could not say: a call it no longer remembers is "unverified", not dropped).
    if (view?.audioMs === undefined && r.framesSent > 0) unverified++;
    else dropped += Math.max(0, r.framesSent - taken);
    dropped += r.framesFailed;
    if (r.error !== undefined || (r.closedByServer !== undefined && r.closedByServer.code !== 1000)) failedCalls++;
    // Twilio and L16 calls are shed with close code 1013; an AudioHook call by a `disconnect` saying so.
    if (r.closedByServer !== undefined && /this call is shed/.test(r.closedByServer.reason)) shedCalls++;
    let promptedInTime = false;
    for (const p of r.prompts) {
      prompts++;
      if (!Number.isNaN(r.stopMs) && p.recvMs > r.stopMs) {
        late++;
        if (p.stale !== true) lateUnmarked++;
      } else promptedInTime = true;
    }
    if (r.angry) {
      angry++;
      if (promptedInTime) angryPrompted++;
    }
  });

  const rssKb =
    input.rssBeforeBytes !== undefined && b.rssBytes !== undefined ? (b.rssBytes - input.rssBeforeBytes) / 1024 / calls : undefined;
  const probed = input.memoryBefore !== undefined && input.memoryLive !== undefined;
  const heap = probed
    ? threadMemoryPerCall(input.memoryBefore!.threads, input.memoryLive!.threads, calls)
    : threadMemoryPerCall(threadMemoryBytes(input.metricsBefore), threadMemoryBytes(b.metrics), calls);
  const heapSource: LoadFigures['heap_source'] =
    heap === undefined ? null : probed ? (input.memoryBefore!.gc && input.memoryLive!.gc ? 'probe-gc' : 'probe') : 'metrics';
  return {
    calls,
    seconds: input.seconds,
    instances: input.instances ?? 1,
    protocol: input.protocol ?? 'twilio',
    measured_s: round(measuredS),
    cpu_ms_per_call_second: orNull(cpuMs === undefined ? undefined : perCallS(cpuMs)),
    cpu_source: cpuMs === undefined ? null : input.cpuSource,
    main_thread_cpu_ms_per_call_second: orNull(mainCpuMs === undefined ? undefined : perCallS(mainCpuMs)),
    dsp_thread_cpu_ms_per_call_second: orNull(dspCpuMs === undefined ? undefined : perCallS(dspCpuMs)),
    other_thread_cpu_ms_per_call_second: orNull(otherCpuMs === undefined ? undefined : perCallS(otherCpuMs)),
    stage_cpu_ms_per_call_second: stages,
    dsp_batches_per_s: orNull(batches === undefined ? undefined : batches / measuredS),
    audio_messages_per_dsp_batch: orNull(batches === undefined || messages === undefined || batches <= 0 ? undefined : messages / batches),
    model_runs_per_s: orNull(modelRuns === undefined ? undefined : modelRuns / measuredS),
    gc_nudges_per_s: orNull(nudges === undefined ? undefined : nudges / measuredS),
    gc_nudges_per_s_by_thread: nudgesByThread,
    gc_nudge_ms_per_call_second: orNull(nudgeS === undefined ? undefined : perCallS(nudgeS * 1000)),
    lag_p50_ms: orNull(lagP50),
    lag_p99_ms: orNull(lagP99),
    lag_source: lagSource,
    alert_latency_p50_ms: orNull(latencies.length > 0 ? quantile(latencies, 0.5) : undefined),
    alert_latency_p99_ms: orNull(latencies.length > 0 ? quantile(latencies, 0.99) : undefined),
    alert_decide_p50_ms: orNull(decide.length > 0 ? quantile(decide, 0.5) : undefined),
    alert_decide_p99_ms: orNull(decide.length > 0 ? quantile(decide, 0.99) : undefined),
    alert_deliver_p50_ms: orNull(deliver.length > 0 ? quantile(deliver, 0.5) : undefined),
    alert_deliver_p99_ms: orNull(deliver.length > 0 ? quantile(deliver, 0.99) : undefined),
    prompts,
    prompts_decided: input.views.reduce((n, v) => n + v.promptAudioMs.size, 0),
    angry_calls: angry,
    angry_calls_prompted: angryPrompted,
    late_prompts: late,
    late_prompts_unmarked: lateUnmarked,
    rss_kb_per_call: orNull(rssKb),
    heap_kb_per_call: heap === undefined ? null : round(heap.total),
    heap_kb_per_call_by_thread: heap === undefined ? null : heap.byThread,
    heap_source: heapSource,
    frames_expected: calls * input.framesPerCall,
    frames_sent: framesSent,
    frames_taken: framesTaken,
    dropped_frames: dropped,
    failed_calls: failedCalls,
    shed_calls: shedCalls,
    unverified_calls: unverified,
    generator_cpu_ms_per_call_second: round(perCallS(input.generatorCpuMs)),
    generator_send_late_p99_ms: orNull(sendLateP99(input.results)),
    machine_cpu: machineShares(input.machineCpu),
  };
}

/** Heap used + external of each thread in `undertone_thread_memory_bytes`, bytes. */
export function threadMemoryBytes(m: MetricsSnapshot | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const kind of ['heap_used', 'external']) {
    for (const s of m?.samples ?? []) {
      if (s.name !== 'undertone_thread_memory_bytes' || s.labels.kind !== kind) continue;
      const thread = s.labels.thread ?? '';
      out.set(thread, (out.get(thread) ?? 0) + s.value);
    }
  }
  return out;
}

/**
 * Δ(heap used + external) between two readings (bytes per thread), KiB per
 * call, in total and per thread (a thread missing before counts from 0).
 * Undefined when either reading is empty.
 */
export function threadMemoryPerCall(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
  calls: number,
): { total: number; byThread: Record<string, number> } | undefined {
  if (a.size === 0 || b.size === 0 || calls <= 0) return undefined;
  const byThread: Record<string, number> = {};
  let total = 0;
  for (const [thread, bytes] of b) {
    const kib = (bytes - (a.get(thread) ?? 0)) / 1024 / calls;
    byThread[thread] = round(kib);
    total += kib;
  }
  return { total, byThread };
}
