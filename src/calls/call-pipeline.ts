/**
 * The shared, process-wide parts a CallSession runs on, and the factories for
 * its per-call parts. Built once by `buildApp`; each session opens its DSP
 * call (decoder, feature stream, scoring) on `dsp` and creates its policy.
 */
import { createInlineDspEngine } from '../dsp/inline-engine.js';
import type { DspEngine } from '../dsp/dsp-engine.js';
import type { EmotionModel } from '../model/types.js';
import type { EscalationPolicyFactory } from '../policy/escalation-policy.js';
import type { EventPublisher } from '../queue/publisher.js';
import type { StageClock } from '../observability/stage-clock.js';
import type { CallObserver } from './call-observer.js';
import type { PostCallSink } from './post-call-sink.js';

export interface CallPipeline {
  /**
   * The process's model: its card's per-call specs (caller score baseline,
   * agitation tracker), and the scorer of the inline DSP engine.
   */
  model: EmotionModel;
  /**
   * Where each call's caller audio is decoded, framed and scored: inline on
   * this thread, or on a pinned worker thread (src/dsp/).
   */
  dsp: DspEngine;
  /** Makes each call's policy state machine. */
  policyFactory: EscalationPolicyFactory;
  /** Where every call's policy events go. */
  publisher: EventPublisher;
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

/**
 * The pipeline with the real audio and feature stages: `parts.dsp` when
 * given (the worker pool `serve` starts), else the inline engine on `model`.
 */
export function createCallPipeline(
  parts: Pick<CallPipeline, 'model' | 'policyFactory' | 'publisher' | 'observer' | 'postCall' | 'clock' | 'onWindowLag'> & { dsp?: DspEngine | undefined },
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
    dsp: parts.dsp ?? createInlineDspEngine({ model: parts.model }),
  };
}
