/**
 * The shared, process-wide parts a CallSession runs on, and the factories for
 * its per-call parts. Built once by `buildApp`; each session creates its own
 * decoder, feature stream and policy from it.
 */
import { createDecoder } from '../audio/decoder.js';
import { createCallerFeatureStream } from '../features/caller-feature-stream.js';
import type { CallerFeatureStream } from '../features/types.js';
import type { AudioFormat } from '../ingest/call-event.js';
import type { EmotionModel } from '../model/types.js';
import type { EscalationPolicyFactory } from '../policy/escalation-policy.js';
import type { EventPublisher } from '../queue/publisher.js';
import type { StageClock } from '../observability/stage-clock.js';
import type { CallObserver } from './call-observer.js';
import type { PostCallSink } from './post-call-sink.js';

export interface CallPipeline {
  /** The one ONNX session of the process, shared by every call. */
  model: EmotionModel;
  /** Makes each call's policy state machine. */
  policyFactory: EscalationPolicyFactory;
  /** Where every call's policy events go. */
  publisher: EventPublisher;
  /** Per-call decoder: wire bytes → 8 kHz float samples. */
  createDecoder: (format: AudioFormat) => (payload: Uint8Array) => Float32Array;
  /** Per-call feature state. */
  createFeatureStream: () => CallerFeatureStream;
  /** Told of every call's start, scores, events and end (the supervisor feed); optional. */
  observer?: CallObserver;
  /** Keeps and publishes each call's post-call summary when it ends; optional. */
  postCall?: PostCallSink;
  /** Sums of time per stage over every call (exported on /metrics); optional. */
  clock?: StageClock;
  /**
   * Told, for every scored window, how late its scores came: wall time now
   * minus the wall time its last sample arrived (see CallSession). Feeds the
   * lag histogram and overload detection; optional.
   */
  onWindowLag?: (lagMs: number) => void;
}

/** The pipeline with the real audio and feature stages. */
export function createCallPipeline(
  parts: Pick<CallPipeline, 'model' | 'policyFactory' | 'publisher' | 'observer' | 'postCall' | 'clock' | 'onWindowLag'>,
): CallPipeline {
  const clock = parts.clock;
  return {
    ...(parts.observer ? { observer: parts.observer } : {}),
    ...(parts.postCall ? { postCall: parts.postCall } : {}),
    ...(clock ? { clock } : {}),
    ...(parts.onWindowLag ? { onWindowLag: parts.onWindowLag } : {}),
    model: parts.model,
    policyFactory: parts.policyFactory,
    publisher: parts.publisher,
    createDecoder,
    createFeatureStream: () => createCallerFeatureStream(clock ? { clock } : {}),
  };
}
