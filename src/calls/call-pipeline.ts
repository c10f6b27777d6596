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
import type { CallObserver } from './call-observer.js';

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
}

/** The pipeline with the real audio and feature stages. */
export function createCallPipeline(parts: Pick<CallPipeline, 'model' | 'policyFactory' | 'publisher' | 'observer'>): CallPipeline {
  return {
    ...(parts.observer ? { observer: parts.observer } : {}),
    model: parts.model,
    policyFactory: parts.policyFactory,
    publisher: parts.publisher,
    createDecoder,
    createFeatureStream: () => createCallerFeatureStream(),
  };
}
