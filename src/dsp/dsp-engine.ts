/**
 * The DSP engine port: the per-call audio work before the policy (decode →
 * CallerFeatureStream → EmotionModel.score), behind one interface so a call
 * does not care which thread runs it.
 *
 * - `createInlineDspEngine` (inline-engine.ts): everything on the calling
 *   thread, as the service always did; tests and offline tools use it.
 * - `createWorkerPoolEngine` (worker-pool.ts): K worker threads; each call is
 *   pinned to one of them at `open`, so its audio stays one ordered chain,
 *   only on another thread.
 *
 * Either way a call's scored windows come back through its sink in audio
 * order, and `finish()` resolves once every payload pushed has been scored
 * and delivered.
 */
import { FEATURE_CONFIG } from '../features/feature-names.js';
import type { AudioFormat } from '../ingest/call-event.js';
import type { EmotionScores } from '../model/types.js';
import type { StageClock } from '../observability/stage-clock.js';
import type { ThreadMemory } from '../observability/thread-memory.js';

/** One scored window of a call, on the call's audio clock (8 kHz pipeline samples). */
export interface DspWindow {
  /** First sample of the window, counted on the caller track from the start of the call. */
  startSample: number;
  /** One past the last sample of the window. */
  endSample: number;
  /** Share of the window's frames judged speech, 0..1. */
  speechRatio: number;
  /** The feature vector the model scored (FEATURE_NAMES order); the caller's own copy. */
  values: Float32Array;
  /** The model's scores for `values`, as `EmotionModel.score` gives them. */
  scores: EmotionScores;
}

/** Where one call's results go. Called on the thread that opened the call, never re-entrantly from `push`. */
export interface DspCallSink {
  /**
   * The windows one step completed and scored, oldest first (possibly none:
   * a step of silence). Called in audio order, one step after the other.
   */
  onScored(windows: DspWindow[]): void;
  /**
   * The call's DSP failed (decoder, features, model or its worker): nothing
   * more is delivered for it. `what` says which part, for the call's log.
   */
  onError(error: unknown, what: string): void;
}

/** What a call is opened with. */
export interface DspCallSpec {
  /** For logs and errors. */
  callId: string;
  /** The caller track's wire format (encoding, rate). */
  format: AudioFormat;
  /**
   * Where decode / features / pitch / model time is summed (the pipeline's
   * clock); worker threads' times are merged into it. Optional.
   */
  clock?: StageClock;
}

/** One open call on an engine. */
export interface DspCall {
  /**
   * Takes one caller payload (wire bytes; the engine copies what it keeps).
   * Throws only for a call that is no longer open; DSP errors go to the sink.
   */
  push(payload: Uint8Array): void;
  /**
   * Pipeline samples (8 kHz) pushed so far: the call's audio clock. Exact and
   * synchronous for 8 kHz formats; for resampled formats, while audio is in
   * flight on a worker, the in-flight part is estimated from the wire rate.
   */
  readonly samplesSeen: number;
  /**
   * Windows the engine holds for this call that its sink has not yet had:
   * extracted and awaiting their scores (inline), or, for audio still in
   * flight on a worker, the window boundaries that audio crosses (an upper
   * bound: windows with too little speech are never scored).
   */
  readonly pendingWindows: number;
  /**
   * No more audio: resolves once everything pushed has been scored and
   * delivered to the sink (or the call failed). Idempotent.
   */
  finish(): Promise<void>;
  /** Drops the call now (it failed): nothing more is delivered; `finish()` resolves. */
  abort(): void;
}

export interface DspEngine {
  /** `inline`, or `workers` with `threads` worker threads. */
  readonly mode: 'inline' | 'workers';
  /** Worker threads (0 when inline). */
  readonly threads: number;
  /**
   * Opens one call. Throws (e.g. AudioFormatError for an unknown encoding)
   * synchronously, before any audio, as the decoder always did.
   */
  open(spec: DspCallSpec, sink: DspCallSink): DspCall;
  /**
   * How long the oldest audio the engine holds unprocessed has waited, ms
   * (worker threads: since it was queued for the batch now in flight, or for
   * the batch gathering). A few ms on an engine that keeps up, whether or
   * not anyone speaks; under overload it is the backlog, even while no
   * window comes back at all (a batch that takes seconds). Absent when
   * inline: windows are scored on the calling thread as audio comes.
   */
  backlogMs?(nowMs: number): number;
  /**
   * How many real-time calls the engine carries while it is kept busy: call
   * audio done per ms of its workers' time over their recent batches
   * (undefined until measured). Under overload they are always busy, so it
   * is the capacity, read directly rather than from how fast the lag grows.
   * Absent when inline.
   */
  throughputCalls?(): number | undefined;
  /** Batches posted to worker threads so far, one message each (`undertone_dsp_batches_total`); absent for the inline engine. */
  batchesPosted?(): number;
  /** Open calls on each live worker thread, by the thread's index (`undertone_dsp_worker_calls`); absent for the inline engine. */
  callsByWorker?(): { worker: number; calls: number }[];
  /** Memory of the engine's worker threads, as they last reported it (absent or empty when inline). */
  threadMemory?(): ThreadMemory[];
  /** Memory of the engine's worker threads asked now, after a full GC in each when `gc` (and the process runs with --expose-gc). */
  measureThreadMemory?(gc: boolean): Promise<ThreadMemory[]>;
  /** Stops the engine (terminates its workers); open calls should have finished first. */
  close(): Promise<void>;
}

const { windowSamples: WINDOW, windowHopSamples: WINDOW_HOP } = FEATURE_CONFIG;

/** How many window ends (sample 16000, 20000, …) lie in [1, samples]: the windows that much audio can complete. */
export function windowEndsUpTo(samples: number): number {
  return samples < WINDOW ? 0 : Math.floor((samples - WINDOW) / WINDOW_HOP) + 1;
}

/** The first window end (sample 16000, 20000, …) after `samples`: where the next window completes. */
export function nextWindowEnd(samples: number): number {
  return WINDOW + WINDOW_HOP * windowEndsUpTo(samples);
}
