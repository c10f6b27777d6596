/**
 * `npm run bench -- --in-process`: the per-call chain alone, no sockets, no
 * Redis. C calls of S seconds of a fixture go through the same
 * `createCallPipeline` + `CallSession` the server uses (a publisher that
 * discards events), their 20 ms chunks interleaved as a server sees them;
 * the StageClock splits the CPU by stage, so per-stage costs can be compared
 * across commits. Also: memory per live call state, and single/batched
 * inference times (the figures of the earlier bench).
 */
import { randomBytes } from 'node:crypto';
import { createDecoder } from '../audio/decoder.js';
import { createCallPipeline } from '../calls/call-pipeline.js';
import { CallSession } from '../calls/call-session.js';
import { createCallerFeatureStream } from '../features/caller-feature-stream.js';
import type { CallStartEvent } from '../ingest/call-event.js';
import { loadEmotionModel, type LoadedEmotionModel } from '../model/emotion-model.js';
import { STAGES, StageClock } from '../observability/stage-clock.js';
import { loadPolicyFile, policyFactoryFrom } from '../policy/policy-file.js';
import type { EventPublisher } from '../queue/publisher.js';
import { createLogger } from '../shared/logger.js';
import { quantile } from './histogram.js';
import { FRAME_BYTES } from '../gateway-sim/twilio-messages.js';

export interface InProcessOptions {
  mulaw: Uint8Array;
  /** Concurrent calls pushed through the pipeline (default 20). */
  calls: number;
  /** Audio per call, s (the fixture looped). */
  seconds: number;
  /** Live call states held for the memory figure. */
  memoryCalls: number;
  /** Single-window inferences timed. */
  inferences: number;
  modelPath: string;
  cardPath: string;
  policyFile: string;
  onProgress?: (done: number, total: number) => void;
}

export interface InProcessFigures {
  mode: 'in-process';
  calls: number;
  seconds: number;
  /** Process CPU (all threads) per call-second of audio, ms. */
  cpu_ms_per_call_second: number;
  /** Call-seconds of audio processed per wall second, all calls in this one process. */
  call_seconds_per_wall_second: number;
  /**
   * CPU per stage, ms per call-second: the StageClock's wall times scaled by
   * the CPU the process got while it ran (cpu / wall, at most 1: on a shared
   * machine a stage's wall time includes time the process was not
   * scheduled), except `model`, whose clock time includes waiting for the
   * ONNX run: that one is windows scored × the median single inference.
   * `other` = process CPU not in a stage (GC, glue, onnxruntime threads).
   */
  stage_cpu_ms_per_call_second: Record<string, number>;
  /** The StageClock as measured (wall time inside each stage), ms per call-second. */
  stage_wall_ms_per_call_second: Record<string, number>;
  /** 1000 / cpu_ms_per_call_second: calls one core carries in real time on this chain alone. */
  realtime_calls_per_core: number;
  /** Heap + array buffers per live call state (5 s of audio in), KiB. */
  kib_per_call_state: number;
  windows_scored: number;
  inference_ms_p50: number;
  inference_ms_p99: number;
  inference_batched_ms_per_window: number;
}

const discard: EventPublisher = { publish: async () => undefined, close: async () => undefined };
const round = (v: number, d = 3): number => Number(v.toFixed(d));

function startEvent(i: number): CallStartEvent {
  const id = randomBytes(16).toString('hex');
  return { kind: 'start', callId: `CA${id}`, streamId: `MZ${id}`, agentId: `bench-agent-${i}`, language: 'en-US', tracks: ['caller'], format: { encoding: 'pcmu', sampleRate: 8000 }, metadata: {}, source: 'bench' };
}

/** The fixture looped to `frames` 20 ms chunks. */
function chunksOf(mulaw: Uint8Array, frames: number): Uint8Array[] {
  const perFixture = Math.floor(mulaw.length / FRAME_BYTES);
  return Array.from({ length: frames }, (_, f) => mulaw.subarray((f % perFixture) * FRAME_BYTES, ((f % perFixture) + 1) * FRAME_BYTES));
}

async function inferenceFigures(model: LoadedEmotionModel, values: Float32Array[], runs: number): Promise<{ p50: number; p99: number; batched: number }> {
  const sample = values.length > 0 ? values : [new Float32Array(model.featureNames.length)];
  for (let i = 0; i < 100; i++) await model.score([sample[i % sample.length]!]);
  const lat: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await model.score([sample[i % sample.length]!]);
    lat.push(performance.now() - t);
  }
  const batch = sample.slice(0, 64);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await model.score(batch);
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), batched: (performance.now() - t0) / 200 / batch.length };
}

/** Per-stage figures from the StageClock sums (see InProcessFigures). */
export function stageFigures(
  stageWallMs: Readonly<Record<string, number>>,
  run: { cpuMs: number; wallMs: number; callS: number; windows: number; inferenceMs: number },
): { wall: Record<string, number>; cpu: Record<string, number> } {
  const share = Math.min(1, run.cpuMs / Math.max(1e-9, run.wallMs));
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  let staged = 0;
  for (const [name, ms] of Object.entries(stageWallMs)) {
    wall[name] = round(ms / run.callS);
    const cpuMs = name === 'model' ? run.windows * run.inferenceMs : ms * share;
    cpu[name] = round(cpuMs / run.callS);
    staged += cpuMs;
  }
  cpu['other'] = round(Math.max(0, run.cpuMs - staged) / run.callS);
  return { wall, cpu };
}

export async function runInProcess(o: InProcessOptions): Promise<InProcessFigures> {
  const model = await loadEmotionModel({ modelPath: o.modelPath, cardPath: o.cardPath });
  try {
    const policyFactory = policyFactoryFrom(loadPolicyFile(o.policyFile));
    const clock = new StageClock();
    let windows = 0;
    const pipeline = createCallPipeline({ model, policyFactory, publisher: discard, clock, onWindowLag: () => void windows++ });
    const log = createLogger({ level: 'silent' });
    const frames = Math.round(o.seconds * 50);
    const chunks = chunksOf(o.mulaw, frames);
    // Warm up (JIT, ONNX session) on one call outside the measurement.
    const warm = new CallSession(startEvent(-1), pipeline, log);
    for (const c of chunks.slice(0, 250)) warm.acceptAudio({ kind: 'audio', callId: warm.callId, track: 'caller', payload: c });
    await warm.finish('hangup');
    clock.ms.fill(0);
    windows = 0;

    const sessions = Array.from({ length: o.calls }, (_, i) => new CallSession(startEvent(i), pipeline, log, { maxPendingWindows: 1_000_000 }));
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    // One second of audio per call per round, interleaved, then let the chains run (as a server's event loop would).
    for (let f = 0; f < frames; f += 50) {
      for (const s of sessions) {
        for (let k = f; k < Math.min(frames, f + 50); k++) s.acceptAudio({ kind: 'audio', callId: s.callId, track: 'caller', payload: chunks[k]! });
      }
      await new Promise((r) => setImmediate(r));
      o.onProgress?.(f + 50, frames);
    }
    await Promise.all(sessions.map((s) => s.finish('hangup')));
    const cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - wall0) / 1000;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const callS = o.calls * o.seconds;
    const stageWall: Record<string, number> = {};
    STAGES.forEach((name, i) => {
      if (name !== 'ingest') stageWall[name] = clock.ms[i]!; // no sockets here
    });
    const scoredWindows = windows;

    // Memory: many live call states, each with 5 s of audio in.
    globalThis.gc?.();
    const m0 = process.memoryUsage();
    const held: CallSession[] = [];
    for (let i = 0; i < o.memoryCalls; i++) {
      const s = new CallSession(startEvent(i), pipeline, log, { maxPendingWindows: 1_000_000 });
      for (const c of chunks.slice(0, 250)) s.acceptAudio({ kind: 'audio', callId: s.callId, track: 'caller', payload: c });
      held.push(s);
    }
    // Let the chains score what the 5 s produced, so the states are as a live call holds them.
    while (held.some((s) => s.pendingWindows > 0)) await new Promise((r) => setTimeout(r, 10));
    globalThis.gc?.();
    const m1 = process.memoryUsage();
    const kib = (m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers) / o.memoryCalls / 1024;
    await Promise.all(held.map((s) => s.finish('hangup')));

    // Real feature windows for the inference figures (the model's input, not zeros).
    const decode = createDecoder({ encoding: 'pcmu', sampleRate: 8000 });
    const stream = createCallerFeatureStream();
    const sampleValues: Float32Array[] = [];
    for (const c of chunks.slice(0, 1500)) for (const w of stream.push(decode(c))) sampleValues.push(w.values.slice());
    const inf = await inferenceFigures(model, sampleValues, o.inferences);
    const perCallS = cpuMs / callS;
    const { wall, cpu: stages } = stageFigures(stageWall, { cpuMs, wallMs: wallS * 1000, callS, windows: scoredWindows, inferenceMs: inf.p50 });
    return {
      mode: 'in-process',
      calls: o.calls,
      seconds: o.seconds,
      cpu_ms_per_call_second: round(perCallS),
      stage_cpu_ms_per_call_second: stages,
      stage_wall_ms_per_call_second: wall,
      realtime_calls_per_core: Math.floor(1000 / perCallS),
      call_seconds_per_wall_second: round(callS / wallS, 1),
      kib_per_call_state: round(kib, 1),
      windows_scored: scoredWindows,
      inference_ms_p50: round(inf.p50, 4),
      inference_ms_p99: round(inf.p99, 4),
      inference_batched_ms_per_window: round(inf.batched, 4),
    };
  } finally {
    await model.close();
  }
}
