/**
 * The inline DSP engine: decode, features and scoring on the calling thread,
 * exactly as CallSession always did it. Decoding and feature extraction run
 * synchronously in `push`; the windows a push completes are scored through
 * one serial promise chain per call, and a chain step scores everything
 * queued as one batch. Tests and offline tools use it; `DSP_THREADS=0`
 * serves with it.
 */
import { createDecoder } from '../audio/decoder.js';
import { createCallerFeatureStream } from '../features/caller-feature-stream.js';
import type { CallerFeatureStream, FeatureWindow } from '../features/types.js';
import type { EmotionModel } from '../model/types.js';
import { Stage, type StageClock } from '../observability/stage-clock.js';
import type { DspCall, DspCallSink, DspCallSpec, DspEngine, DspWindow } from './dsp-engine.js';
import { scoreMeasured } from './score-timing.js';

export interface InlineDspEngineOptions {
  /** The model every call is scored with (the process's one session, or a test fake). */
  model: Pick<EmotionModel, 'score'>;
}

class InlineCall implements DspCall {
  private readonly decode: (payload: Uint8Array) => Float32Array;
  private readonly features: CallerFeatureStream;
  private readonly clock: StageClock | undefined;
  /** The serial scoring chain; never rejects (each step catches). */
  private tail: Promise<void> = Promise.resolve();
  /** Windows extracted but not yet taken by a chain step. */
  private queued: FeatureWindow[] = [];
  private pending = 0;
  private failed = false;
  private resolveAborted!: () => void;
  private readonly aborted = new Promise<void>((resolve) => {
    this.resolveAborted = resolve;
  });
  private finishing: Promise<void> | undefined;

  constructor(
    spec: DspCallSpec,
    private readonly model: Pick<EmotionModel, 'score'>,
    private readonly sink: DspCallSink,
  ) {
    this.clock = spec.clock;
    this.decode = createDecoder(spec.format);
    this.features = createCallerFeatureStream(spec.clock ? { clock: spec.clock } : {});
  }

  get samplesSeen(): number {
    return this.features.samplesSeen;
  }

  get pendingWindows(): number {
    return this.pending;
  }

  push(payload: Uint8Array): void {
    if (this.finishing) throw new Error('DspCall: push after finish');
    if (this.failed) return;
    let windows: FeatureWindow[];
    const clock = this.clock;
    try {
      if (clock === undefined) {
        // The decoder may reuse its output buffer: push it before decoding again.
        windows = this.features.push(this.decode(payload));
      } else {
        const t0 = performance.now();
        const samples = this.decode(payload);
        const t1 = performance.now();
        const pitch0 = clock.ms[Stage.pitch]!;
        windows = this.features.push(samples);
        const t2 = performance.now();
        clock.add(Stage.decode, t1 - t0);
        // The stream adds its pitch tracker's time itself; the rest is "features".
        clock.add(Stage.features, t2 - t1 - (clock.ms[Stage.pitch]! - pitch0));
      }
    } catch (error) {
      this.fail(error, 'decoding or feature extraction failed');
      return;
    }
    if (windows.length === 0) return;
    for (const w of windows) {
      // Copy: scoring happens later, and an extractor may reuse its value buffer.
      this.queued.push({ startSample: w.startSample, endSample: w.endSample, speechRatio: w.speechRatio, values: w.values.slice() });
    }
    this.pending += windows.length;
    this.tail = this.tail.then(() => this.scoreQueued());
  }

  finish(): Promise<void> {
    this.finishing ??= Promise.race([this.tail, this.aborted]);
    return this.finishing;
  }

  abort(): void {
    this.failed = true;
    this.queued = [];
    this.pending = 0;
    this.resolveAborted();
  }

  /** One chain step: score everything queued as one batch and hand it to the sink. */
  private async scoreQueued(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0 || this.failed) return;
    try {
      const { scores, ms } = await scoreMeasured(this.model, batch.map((w) => w.values));
      this.clock?.add(Stage.model, ms);
      if (scores.length !== batch.length) {
        throw new Error(`model returned ${scores.length} scores for ${batch.length} windows`);
      }
      if (this.failed) return;
      const out: DspWindow[] = batch.map((w, i) => ({ ...w, scores: scores[i]! }));
      this.pending -= out.length;
      this.sink.onScored(out);
    } catch (error) {
      this.fail(error, 'scoring failed');
    }
  }

  private fail(error: unknown, what: string): void {
    if (this.failed) return;
    this.abort();
    this.sink.onError(error, what);
  }
}

/** The engine that runs every call on the calling thread. */
export function createInlineDspEngine(options: InlineDspEngineOptions): DspEngine {
  return {
    mode: 'inline',
    threads: 0,
    open: (spec, sink) => new InlineCall(spec, options.model, sink),
    close: async () => {},
  };
}
