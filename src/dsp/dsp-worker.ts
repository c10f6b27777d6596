/**
 * A DSP worker thread (started by worker-pool.ts). It owns the decoder and
 * feature stream of every call pinned to it and its own ONNX session, and
 * processes one batch message at a time, in order:
 *
 *   opens → the payloads of the calls whose audio here ends a window, decoded
 *   and framed in arrival order, their windows scored in one `session.run`
 *   and sent at once (a `windows` message; only when at least
 *   EARLY_MIN_REST_PAYLOADS others follow) → every other call's payloads →
 *   one batched `session.run` for the windows they completed → closes → one
 *   reply. Each call's audio stays in order (all of a call's payloads in a
 *   batch go in the same pass); a call's windows come in one message or the other.
 *
 * A call's audio that ends no window is held (up to HOLD_MS; 8 kHz formats
 * and L16 at whole multiples of 8 kHz, where the samples a byte count gives
 * are exact) and
 * extracted with a later payload: with the one that ends the next window, or
 * once the hold is full. Nothing leaves the worker between window ends and
 * the feature stream's output does not depend on how its audio is chunked,
 * so the windows are the same; replies report a call's audio as had (held or
 * extracted), so the main thread's audio clock is unchanged.
 *
 * Nothing else runs on this thread, so the stage times it keeps (decode,
 * features, pitch, model) are CPU time; it sends their deltas with each reply.
 * A call's decode/feature error fails that call only; a model error fails the
 * calls that had windows in the batch. An uncaught error ends the worker; the
 * main thread then fails its calls and starts a replacement.
 */
import { parentPort, resourceLimits, workerData } from 'node:worker_threads';
import { createDecoder, pipelineSamplesAfter } from '../audio/decoder.js';
import { createCallerFeatureStream, type CallerFeatureStreamWithFlush } from '../features/caller-feature-stream.js';
import type { FeatureWindow } from '../features/types.js';
import { openEmotionModel } from '../model/emotion-model.js';
import type { EmotionModel } from '../model/types.js';
import { Stage, StageClock } from '../observability/stage-clock.js';
import { collectGarbage, packMemory } from '../observability/thread-memory.js';
import { GcNudge } from '../observability/gc-nudge.js';
import { nameThisThread } from '../observability/thread-name.js';
import { scoreMeasured } from './score-timing.js';
import { windowEndsUpTo } from './dsp-engine.js';
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import {
  describeError,
  EARLY_MIN_REST_PAYLOADS,
  packScores,
  SCORE_FIELDS,
  type BatchMessage,
  type CallFailure,
  type DspWorkerData,
  type FromWorker,
  type ScoredMessage,
  type ToWorker,
} from './worker-protocol.js';

interface CallState {
  decode: (payload: Uint8Array) => Float32Array;
  features: CallerFeatureStreamWithFlush;
  /** Pipeline samples per wire byte (1 for 8 kHz G.711): where the batch's audio will take the stream. */
  samplesPerByte: number;
  /**
   * Pipeline samples after a number of wire bytes (audio/decoder.ts
   * `pipelineSamplesAfter`), where that is exact: 8 kHz formats and L16 at
   * 16, 24, 32 and 48 kHz. Only those calls' audio is held (up to HOLD_MS): the main
   * thread's audio clock and the window-end test must stay exact.
   */
  samplesAfter: ((wireBytes: number) => number) | undefined;
  /** Wire bytes received and not yet extracted, in order: `held[0, heldBytes)`. */
  held: Uint8Array;
  heldBytes: number;
  /** Wire bytes of HOLD_MS of the call's audio. */
  holdFull: number;
  /** Held bytes at which the call's audio is extracted even though it ends no window (holdFull, less for the first hold). */
  holdLimit: number;
  /** Wire bytes received, extracted or held: the exact audio clock of a holding call (an L16 decoder may carry half a sample). */
  bytesHad: number;
}

/**
 * Most call audio held between window ends, ms. Why hold at all: the same
 * extraction costs less in fewer, longer pushes (each call's filter, ring
 * and history state is visited once per hold instead of once per 20-ms
 * payload): the DSP threads' CPU fell 9–20 % at 300–350 calls. Why not hold
 * to the window end: extracting a whole half second per window end made the
 * DSP threads' work burstier and the instance shed calls at a load it held
 * without (docs/performance.md "Holding audio for 100 ms").
 */
const HOLD_MS = 100;
/** Phases of a call's first hold (by call number), so that calls that started together do not flush together. */
const HOLD_PHASES = 8;

/** Pipeline samples held over every call of this worker (reported with each reply). */
let heldSamples = 0;

/** Appends `payload` to the call's held bytes. */
function hold(state: CallState, payload: Uint8Array): void {
  heldSamples += payload.length * state.samplesPerByte;
  const need = state.heldBytes + payload.length;
  if (need > state.held.length) {
    const grown = new Uint8Array(Math.max(need, 2 * state.held.length));
    grown.set(state.held.subarray(0, state.heldBytes));
    state.held = grown;
  }
  state.held.set(payload, state.heldBytes);
  state.heldBytes = need;
}

/** Forgets a call (closed or failed), with what it held. */
function drop(call: number): void {
  const state = calls.get(call);
  if (state === undefined) return;
  heldSamples -= state.heldBytes * state.samplesPerByte;
  calls.delete(call);
}

/** Pipeline samples the call has had, extracted or held (before flooring: a half sample of L16 counts half). */
function audioHad(state: CallState): number {
  return state.samplesAfter !== undefined ? state.samplesAfter(state.bytesHad) : state.features.samplesSeen;
}

/** Whole pipeline samples the call has had, extracted or held. */
function samplesHad(state: CallState): number {
  return Math.floor(audioHad(state));
}

const port = parentPort;
if (port === null) throw new Error('dsp-worker.ts runs as a worker thread (see worker-pool.ts)');
const data = workerData as DspWorkerData;
const clock = new StageClock();
const calls = new Map<number, CallState>();
const featureCount = data.card.featureNames.length;
/** When this thread's memory was last reported (performance.now() ms). */
let memoryAt = Number.NEGATIVE_INFINITY;
/** Batches arrive as ArrayBuffers freed only by a collection: see observability/gc-nudge.ts. */
const gcNudge = new GcNudge({ intervalMs: data.gcNudgeMs ?? 0, ...(data.gcNudgeMinBytes !== undefined ? { minGrowthBytes: data.gcNudgeMinBytes } : {}) });

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function processBatch(model: EmotionModel, batch: BatchMessage): Promise<ScoredMessage> {
  const failures: CallFailure[] = [];
  const fail = (call: number, what: string, error: unknown): void => {
    drop(call);
    failures.push({ call, what, ...describeError(error) });
  };
  for (const op of batch.opens) {
    try {
      const format = { encoding: op.encoding, sampleRate: op.sampleRate };
      const samplesPerByte = PIPELINE_SAMPLE_RATE / ((op.encoding === 'l16' ? 2 : 1) * op.sampleRate);
      const holdFull = Math.round((HOLD_MS * PIPELINE_SAMPLE_RATE) / 1000 / samplesPerByte);
      const samplesAfter = pipelineSamplesAfter(format);
      calls.set(op.call, {
        decode: createDecoder(format),
        features: createCallerFeatureStream({ clock }),
        samplesPerByte,
        samplesAfter,
        held: new Uint8Array(holdFull),
        heldBytes: 0,
        holdFull,
        holdLimit: (holdFull * (1 + (op.call % HOLD_PHASES))) / HOLD_PHASES,
        bytesHad: 0,
      });
    } catch (error) {
      fail(op.call, 'opening the call failed', error);
    }
  }

  const bytes = new Uint8Array(batch.bytes);
  const audio = batch.audio;
  const offsets = new Int32Array(audio.length / 2 + 1);
  for (let i = 0, k = 0; i + 1 < audio.length; i += 2, k++) offsets[k + 1] = offsets[k]! + audio[i + 1]!;
  const windows: FeatureWindow[] = [];
  const windowCalls: number[] = [];
  const touched = new Set<number>();
  const { urgent, restPayloads } = windowEndingCalls(audio);
  /** Decodes and extracts `payload` (with the call's held bytes before it); windows to the batch's list. */
  const run = (call: number, state: CallState, payload: Uint8Array): void => {
    let input = payload;
    if (state.heldBytes > 0) {
      hold(state, payload);
      input = state.held.subarray(0, state.heldBytes);
      heldSamples -= state.heldBytes * state.samplesPerByte;
      state.heldBytes = 0;
    }
    try {
      const t0 = performance.now();
      const samples = state.decode(input);
      const t1 = performance.now();
      const pitch0 = clock.ms[Stage.pitch]!;
      const done = state.features.push(samples);
      const t2 = performance.now();
      clock.add(Stage.decode, t1 - t0);
      clock.add(Stage.features, t2 - t1 - (clock.ms[Stage.pitch]! - pitch0));
      for (const w of done) {
        // Copy: the batch is scored after more pushes, and an extractor may reuse its value buffer.
        windows.push({ startSample: w.startSample, endSample: w.endSample, speechRatio: w.speechRatio, values: w.values.slice() });
        windowCalls.push(call);
      }
    } catch (error) {
      fail(call, 'decoding or feature extraction failed', error);
    }
  };
  /**
   * The batch's payloads of the calls `pick` selects, in arrival order. A
   * holding call's payload that ends no window and leaves its hold under the
   * limit is held; any other is extracted with what the call held before it.
   */
  const extract = (pick: (call: number) => boolean): void => {
    for (let i = 0, k = 0; i + 1 < audio.length; i += 2, k++) {
      const call = audio[i]!;
      if (!pick(call)) continue;
      touched.add(call);
      const state = calls.get(call);
      if (state === undefined) continue; // failed earlier in this batch, or closed
      const payload = bytes.subarray(offsets[k]!, offsets[k + 1]!);
      state.bytesHad += payload.length;
      if (state.samplesAfter !== undefined && !urgent.has(call) && state.heldBytes + payload.length < state.holdLimit) hold(state, payload);
      else {
        state.holdLimit = state.holdFull;
        run(call, state, payload);
      }
    }
  };

  // Calls whose audio here ends a window go first, and their windows are scored and sent at once
  // (a `windows` message): a prompt then waits for its own call's extraction, not the whole batch's.
  // Only when the rest is large enough to matter: a message each way wakes both threads, and the rest
  // of a small batch is mostly held audio (EARLY_MIN_REST_PAYLOADS).
  if (urgent.size > 0 && restPayloads >= EARLY_MIN_REST_PAYLOADS) {
    extract((call) => urgent.has(call));
    if (windows.length > 0) {
      const early = await scoreAll(model, windows, windowCalls, failures, fail);
      if (early.windowCalls.length > 0) {
        post({ type: 'windows', seq: batch.seq, ...early }, [early.windowCalls.buffer, early.positions.buffer, early.values.buffer, early.scores.buffer] as ArrayBuffer[]);
      }
      windows.length = 0;
      windowCalls.length = 0;
    }
    extract((call) => !urgent.has(call));
  } else {
    extract(() => true);
  }
  // A closing call's held audio: by construction it ends no window (a payload that would have ended one
  // was extracted at once), so this only costs its extraction, and loses nothing should that ever not hold.
  for (const call of batch.closes) {
    const state = calls.get(call);
    if (state !== undefined && state.heldBytes > 0) run(call, state, new Uint8Array(0));
  }
  return scoreAll(model, windows, windowCalls, failures, fail).then((scored) => {
    // Reported before the closes drop their state: a finishing call's last clock reading comes with its last audio.
    const seen = [...touched].filter((c) => calls.has(c));
    const samples = new Float64Array(seen.length * 2);
    seen.forEach((call, i) => {
      samples[i * 2] = call;
      samples[i * 2 + 1] = samplesHad(calls.get(call)!);
    });
    for (const call of batch.closes) drop(call);
    const deltas = clock.ms.slice();
    clock.ms.fill(0);
    // Memory for `undertone_thread_memory_bytes`: reading it costs a syscall, so at most once a second.
    const now = performance.now();
    const memory = now - memoryAt >= 1000 ? packMemory(gcNudge.stats) : undefined;
    if (memory) memoryAt = now;
    return { type: 'scored', seq: batch.seq, clock: deltas, samples, heldSamples, failures, ...scored, ...(memory ? { memory } : {}) };
  });
}

/**
 * The calls whose audio in this batch crosses a window end, by the wire
 * length of their payloads (exact at 8 kHz; for a resampled format an
 * estimate: a window it misses still comes, with the batch's reply), and
 * how many payloads of the other open calls follow (what an early pass lets
 * a prompt skip).
 */
function windowEndingCalls(audio: Int32Array): { urgent: Set<number>; restPayloads: number } {
  // Each call's wire bytes and payloads in this batch.
  const bytes = new Map<number, number>();
  const payloads = new Map<number, number>();
  for (let i = 0; i + 1 < audio.length; i += 2) {
    const call = audio[i]!;
    if (!calls.has(call)) continue;
    bytes.set(call, (bytes.get(call) ?? 0) + audio[i + 1]!);
    payloads.set(call, (payloads.get(call) ?? 0) + 1);
  }
  const out = new Set<number>();
  let restPayloads = 0;
  for (const [call, n] of bytes) {
    const state = calls.get(call)!;
    // Exact where the format allows (every holding call); else an estimate from the wire rate.
    const after = state.samplesAfter !== undefined ? state.samplesAfter(state.bytesHad + n) : state.features.samplesSeen + n * state.samplesPerByte;
    if (windowEndsUpTo(Math.floor(after)) > windowEndsUpTo(samplesHad(state))) out.add(call);
    else restPayloads += payloads.get(call)!;
  }
  return { urgent: out, restPayloads };
}

/** One `session.run` for every window of the batch; the windows of failed calls are left out. */
async function scoreAll(
  model: EmotionModel,
  windows: FeatureWindow[],
  windowCalls: number[],
  failures: CallFailure[],
  fail: (call: number, what: string, error: unknown) => void,
): Promise<Pick<ScoredMessage, 'inferenceMs' | 'windowCalls' | 'positions' | 'values' | 'scores'>> {
  // A call that failed after some of its windows were extracted scores none of them.
  const keep = windows.map((_, i) => calls.has(windowCalls[i]!));
  const kept = windows.filter((_, i) => keep[i]);
  const keptCalls = windowCalls.filter((_, i) => keep[i]);
  const n = kept.length;
  const out = {
    inferenceMs: 0,
    windowCalls: new Int32Array(n),
    positions: new Float64Array(n * 3),
    values: new Float32Array(n * featureCount),
    scores: new Float64Array(n * SCORE_FIELDS.length),
  };
  if (n === 0) return out;
  try {
    const { scores, ms } = await scoreMeasured(model, kept.map((w) => w.values));
    clock.add(Stage.model, ms);
    out.inferenceMs = ms;
    if (scores.length !== n) throw new Error(`model returned ${scores.length} scores for ${n} windows`);
    kept.forEach((w, i) => {
      out.windowCalls[i] = keptCalls[i]!;
      out.positions[i * 3] = w.startSample;
      out.positions[i * 3 + 1] = w.endSample;
      out.positions[i * 3 + 2] = w.speechRatio;
      out.values.set(w.values, i * featureCount);
      packScores(scores[i]!, out.scores, i * SCORE_FIELDS.length);
    });
    return out;
  } catch (error) {
    for (const call of new Set(keptCalls)) fail(call, 'scoring failed', error);
    return { inferenceMs: 0, windowCalls: new Int32Array(0), positions: new Float64Array(0), values: new Float32Array(0), scores: new Float64Array(0) };
  }
}

// Batches may arrive while the model loads: they queue on this chain, in order.
let chain: Promise<EmotionModel | undefined> = openEmotionModel({ modelPath: data.modelPath, card: data.card }).then(
  (model) => {
    // `dsp-<i>` in /proc/<pid>/task/*/comm, so the bench can read this thread's CPU apart from the rest
    // (thread-name.ts). Named only now: threads this one starts inherit its name, and the session and the
    // file reads that may start onnxruntime's or libuv's pools are behind us.
    nameThisThread(`dsp-${data.index}`);
    gcNudge.start();
    post({ type: 'ready', memory: packMemory(gcNudge.stats), youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb ?? 0 });
    return model;
  },
  (error: unknown) => {
    post({ type: 'init-error', ...describeError(error) });
    return undefined;
  },
);

port.on('message', (message: ToWorker) => {
  if (message.type === 'memory') {
    // Answered now, between batches (not on the batch chain): the bench's memory probe.
    if (message.gc) collectGarbage();
    post({ type: 'memory', memory: packMemory(gcNudge.stats) });
    return;
  }
  const batch = message;
  if (batch.crash) {
    // Test hook: an uncaught error, as a bug in the DSP code would raise.
    setImmediate(() => {
      throw new Error(`DSP worker ${data.index}: crash requested (test hook)`);
    });
    return;
  }
  chain = chain.then(async (model) => {
    if (model === undefined) return undefined;
    const reply = await processBatch(model, batch);
    post(reply, [reply.clock.buffer, reply.samples.buffer, reply.windowCalls.buffer, reply.positions.buffer, reply.values.buffer, reply.scores.buffer] as ArrayBuffer[]);
    return model;
  }).catch((error: unknown) => {
    // A bug, not a call's bad audio: end the worker loudly (the main thread fails its calls and replaces it).
    setImmediate(() => {
      throw error;
    });
    return undefined;
  });
});

