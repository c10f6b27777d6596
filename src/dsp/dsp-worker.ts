/**
 * A DSP worker thread (started by worker-pool.ts). It owns the decoder and
 * feature stream of every call pinned to it and its own ONNX session, and
 * processes one batch message at a time, in order:
 *
 *   opens → the payloads of the calls whose audio here ends a window, decoded
 *   and framed in arrival order, their windows scored in one `session.run`
 *   and sent at once (a `windows` message) → every other call's payloads →
 *   one batched `session.run` for the windows they completed → closes → one
 *   reply. Each call's audio stays in order (all of a call's payloads in a
 *   batch go in the same pass); a call's windows come in one message or the other.
 *
 * Nothing else runs on this thread, so the stage times it keeps (decode,
 * features, pitch, model) are CPU time; it sends their deltas with each reply.
 * A call's decode/feature error fails that call only; a model error fails the
 * calls that had windows in the batch. An uncaught error ends the worker; the
 * main thread then fails its calls and starts a replacement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDecoder } from '../audio/decoder.js';
import { createCallerFeatureStream, type CallerFeatureStreamWithFlush } from '../features/caller-feature-stream.js';
import type { FeatureWindow } from '../features/types.js';
import { openEmotionModel } from '../model/emotion-model.js';
import type { EmotionModel } from '../model/types.js';
import { Stage, StageClock } from '../observability/stage-clock.js';
import { collectGarbage, packMemory } from '../observability/thread-memory.js';
import { nameThisThread } from '../observability/thread-name.js';
import { scoreMeasured } from './score-timing.js';
import { windowEndsUpTo } from './dsp-engine.js';
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import {
  describeError,
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
}

const port = parentPort;
if (port === null) throw new Error('dsp-worker.ts runs as a worker thread (see worker-pool.ts)');
const data = workerData as DspWorkerData;
const clock = new StageClock();
const calls = new Map<number, CallState>();
const featureCount = data.card.featureNames.length;
/** When this thread's memory was last reported (performance.now() ms). */
let memoryAt = Number.NEGATIVE_INFINITY;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function processBatch(model: EmotionModel, batch: BatchMessage): Promise<ScoredMessage> {
  const failures: CallFailure[] = [];
  const fail = (call: number, what: string, error: unknown): void => {
    calls.delete(call);
    failures.push({ call, what, ...describeError(error) });
  };
  for (const op of batch.opens) {
    try {
      calls.set(op.call, {
        decode: createDecoder({ encoding: op.encoding, sampleRate: op.sampleRate }),
        features: createCallerFeatureStream({ clock }),
        samplesPerByte: PIPELINE_SAMPLE_RATE / ((op.encoding === 'l16' ? 2 : 1) * op.sampleRate),
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
  /** Extracts the batch's payloads of the calls `pick` selects, in arrival order. */
  const extract = (pick: (call: number) => boolean): void => {
    for (let i = 0, k = 0; i + 1 < audio.length; i += 2, k++) {
      const call = audio[i]!;
      if (!pick(call)) continue;
      touched.add(call);
      const state = calls.get(call);
      if (state === undefined) continue; // failed earlier in this batch, or closed
      try {
        const t0 = performance.now();
        const samples = state.decode(bytes.subarray(offsets[k]!, offsets[k + 1]!));
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
    }
  };

  // Calls whose audio here ends a window go first, and their windows are scored and sent at once
  // (a `windows` message): a prompt then waits for its own call's extraction, not the whole batch's.
  const { urgent, open } = windowEndingCalls(audio);
  if (urgent.size > 0 && urgent.size < open) {
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
  return scoreAll(model, windows, windowCalls, failures, fail).then((scored) => {
    // Reported before the closes drop their state: a finishing call's last clock reading comes with its last audio.
    const seen = [...touched].filter((c) => calls.has(c));
    const samples = new Float64Array(seen.length * 2);
    seen.forEach((call, i) => {
      samples[i * 2] = call;
      samples[i * 2 + 1] = calls.get(call)!.features.samplesSeen;
    });
    for (const call of batch.closes) calls.delete(call);
    const deltas = clock.ms.slice();
    clock.ms.fill(0);
    // Memory for `undertone_thread_memory_bytes`: reading it costs a syscall, so at most once a second.
    const now = performance.now();
    const memory = now - memoryAt >= 1000 ? packMemory() : undefined;
    if (memory) memoryAt = now;
    return { type: 'scored', seq: batch.seq, clock: deltas, samples, failures, ...scored, ...(memory ? { memory } : {}) };
  });
}

/**
 * The calls whose audio in this batch crosses a window end, by the wire
 * length of their payloads (exact at 8 kHz; for a resampled format an
 * estimate: a window it misses still comes, with the batch's reply), and
 * how many open calls have audio in it.
 */
function windowEndingCalls(audio: Int32Array): { urgent: Set<number>; open: number } {
  const after = new Map<number, number>();
  for (let i = 0; i + 1 < audio.length; i += 2) {
    const call = audio[i]!;
    const state = calls.get(call);
    if (state === undefined) continue;
    after.set(call, (after.get(call) ?? state.features.samplesSeen) + audio[i + 1]! * state.samplesPerByte);
  }
  const out = new Set<number>();
  for (const [call, samples] of after) {
    if (windowEndsUpTo(Math.floor(samples)) > windowEndsUpTo(calls.get(call)!.features.samplesSeen)) out.add(call);
  }
  return { urgent: out, open: after.size };
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
    post({ type: 'ready', memory: packMemory() });
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
    post({ type: 'memory', memory: packMemory() });
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

