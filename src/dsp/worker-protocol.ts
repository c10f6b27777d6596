/**
 * Messages between the main thread and a DSP worker. One message per worker
 * per event-loop turn each way, with typed arrays (transferred, not copied)
 * for the bulk: the payload bytes of every call going in, the windows and
 * scores of every call coming back.
 */
import type { AudioEncoding } from '../ingest/call-event.js';
import type { ModelCard } from '../model/model-card.js';
import type { EmotionScores } from '../model/types.js';
import { FEATURE_NAMES } from '../features/feature-names.js';
import type { DspWindow } from './dsp-engine.js';

/** What every worker is started with. */
export interface DspWorkerData {
  /** ONNX file the worker opens its own session from. */
  modelPath: string;
  /** The card, already checked at start-up by the main thread. */
  card: ModelCard;
  /** For the worker's errors and logs. */
  index: number;
  /** The thread's array-buffer nudge interval, ms; 0 or absent = off. */
  gcNudgeMs?: number;
  /** Its growth threshold, bytes; absent = the default. */
  gcNudgeMinBytes?: number | undefined;
}

/** A call pinned to the worker, opened in this batch. */
export interface OpenOp {
  /** The call's number on this pool (never reused). */
  call: number;
  callId: string;
  encoding: AudioEncoding;
  sampleRate: number;
}

/** Main → worker: one event-loop turn of work. */
export interface BatchMessage {
  type: 'batch';
  seq: number;
  /** Calls opened this turn; processed before the audio. */
  opens: OpenOp[];
  /** [call, byteLength] pairs in arrival order; the bytes lie back to back in `bytes`. */
  audio: Int32Array;
  bytes: ArrayBuffer;
  /** Calls finished or aborted: their state is dropped after this batch's audio. */
  closes: number[];
  /** Test hook: the worker throws an uncaught error instead of processing the batch. */
  crash?: boolean;
}

/** One call's DSP failure inside the worker. */
export interface CallFailure {
  call: number;
  what: string;
  name: string;
  message: string;
  code?: string;
}

/** Numbers per scored window in `ScoredMessage.scores`, in this order. */
export const SCORE_FIELDS = ['neutral', 'anger', 'happiness', 'sadness', 'arousal', 'agitation', 'angerVsRest', 'absoluteAgitation'] as const;
const NO_VALUE = Number.NaN;

/** Worker → main: the results of one batch. */
export interface ScoredMessage {
  type: 'scored';
  seq: number;
  /** The worker's stage-clock deltas since its previous reply, ms per stage. */
  clock: Float64Array;
  /** The batched model run of this batch (packing, run, unpacking), ms; 0 when it scored nothing. */
  inferenceMs: number;
  /** [call, samples] for every call that had audio in the batch and is still open: pipeline samples extracted or held. */
  samples: Float64Array;
  /** Pipeline samples the worker holds after the batch, received and not yet extracted (dsp-worker.ts, "hold"). */
  heldSamples: number;
  /** Per window: its call. */
  windowCalls: Int32Array;
  /** Per window: startSample, endSample, speechRatio. */
  positions: Float64Array;
  /** Per window: the feature vector (featureCount values). */
  values: Float32Array;
  /** Per window: SCORE_FIELDS.length numbers (NaN = field absent). */
  scores: Float64Array;
  failures: CallFailure[];
  /** The worker thread's memory (observability/thread-memory.ts packMemory), at most once a second. */
  memory?: Float64Array;
}

/**
 * A batch's window-ending calls go ahead in their own `windows` message only
 * when at least this many payloads of other calls follow them. Why: the
 * message wakes the main thread once more per batch (at 100 calls, without
 * it for batches of ≈ 24 payloads: ≈ 6 % less CPU per call-second, alert
 * latency p50 +0.6–1.3 ms; docs/performance.md "Packing calls"), while the
 * rest of a small batch costs little, its audio mostly held (dsp-worker.ts).
 * Large batches, under load, still send their windows ahead.
 */
export const EARLY_MIN_REST_PAYLOADS = 64;

/**
 * Worker → main, before a batch's `scored` reply: the windows of the calls
 * whose audio in the batch completed a window, extracted and scored ahead of
 * the batch's other calls (dsp-worker.ts), when at least
 * EARLY_MIN_REST_PAYLOADS of theirs follow. The `scored` reply that follows
 * carries the rest; a call's windows never come in both.
 */
export interface EarlyWindowsMessage extends Pick<ScoredMessage, 'seq' | 'inferenceMs' | 'windowCalls' | 'positions' | 'values' | 'scores'> {
  type: 'windows';
}

export interface ReadyMessage {
  type: 'ready';
  /** The worker thread's memory once its model is open. */
  memory?: Float64Array;
  /** The young generation V8 gave this thread, MB (`resourceLimits.maxYoungGenerationSizeMb` as the thread reads it). */
  youngGenerationMb: number;
}

export interface InitErrorMessage {
  type: 'init-error';
  name: string;
  message: string;
  code?: string;
}

/** Main → worker: report this thread's memory now, after a full garbage collection when `gc` (and the process runs with --expose-gc). */
export interface MemoryRequest {
  type: 'memory';
  gc: boolean;
}

/** Worker → main: the answer to a MemoryRequest. */
export interface MemoryMessage {
  type: 'memory';
  memory: Float64Array;
}

export type ToWorker = BatchMessage | MemoryRequest;
export type FromWorker = ScoredMessage | EarlyWindowsMessage | ReadyMessage | InitErrorMessage | MemoryMessage;

/** Writes one window's scores at `offset` (exact: numbers go through as float64). */
export function packScores(s: EmotionScores, out: Float64Array, offset: number): void {
  for (let i = 0; i < SCORE_FIELDS.length; i++) out[offset + i] = s[SCORE_FIELDS[i]!] ?? NO_VALUE;
}

/** Reads one window's scores back; absent optional fields stay absent. */
export function unpackScores(data: Float64Array, offset: number): EmotionScores {
  const s: EmotionScores = {
    neutral: data[offset]!,
    anger: data[offset + 1]!,
    happiness: data[offset + 2]!,
    sadness: data[offset + 3]!,
    arousal: data[offset + 4]!,
    agitation: data[offset + 5]!,
  };
  const angerVsRest = data[offset + 6]!;
  if (!Number.isNaN(angerVsRest)) s.angerVsRest = angerVsRest;
  const absolute = data[offset + 7]!;
  if (!Number.isNaN(absolute)) s.absoluteAgitation = absolute;
  return s;
}

/** A message's scored windows, per call, in the worker's order. */
export function windowsByCall(message: Pick<ScoredMessage, 'windowCalls' | 'positions' | 'values' | 'scores'>): Map<number, DspWindow[]> {
  const windows = new Map<number, DspWindow[]>();
  for (let i = 0; i < message.windowCalls.length; i++) {
    const id = message.windowCalls[i]!;
    const window: DspWindow = {
      startSample: message.positions[i * 3]!,
      endSample: message.positions[i * 3 + 1]!,
      speechRatio: message.positions[i * 3 + 2]!,
      values: message.values.slice(i * FEATURE_NAMES.length, (i + 1) * FEATURE_NAMES.length),
      scores: unpackScores(message.scores, i * SCORE_FIELDS.length),
    };
    const list = windows.get(id);
    if (list === undefined) windows.set(id, [window]);
    else list.push(window);
  }
  return windows;
}

/** An error's fields, for a message (errors do not keep their class across threads). */
export function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}
