/**
 * Runs one recorded call through the same chain a live call takes
 * (CallSession: decode → features → model → caller norm → policy), on the
 * call's audio clock and as fast as the CPU allows, collecting the policy
 * events instead of publishing them.
 */
import { loadCallAudioAsMuLaw } from '../audio/load-call-audio.js';
import { createCallPipeline } from '../calls/call-pipeline.js';
import { CallSession } from '../calls/call-session.js';
import type { CallStartEvent } from '../ingest/call-event.js';
import type { EmotionModel } from '../model/types.js';
import type { EscalationPolicyFactory } from '../policy/escalation-policy.js';
import type { PolicyEvent, Tier, TierTimes } from '../policy/types.js';
import type { EventPublisher } from '../queue/publisher.js';
import type { Logger } from '../shared/logger.js';

/** 1 s of 8 kHz mu-law per message: the feature stream does not depend on message size. */
const CHUNK_BYTES = 8000;

export interface SimulatedCall {
  file: string;
  callId: string;
  /** Caller audio length, ms. */
  audioMs: number;
  events: PolicyEvent[];
  finalTier: Tier;
  /** Time at each tier from the call start to its end, ms. */
  msAtTier: TierTimes;
  /** Highest per-window (unsmoothed) agitation of the call, 0..1. */
  peakWindowAgitation: number;
  counts: SimulationCounts;
}

export interface SimulationCounts {
  calls: number;
  prompts: number;
  /** Upward priority changes (tier 2/3) plus start-of-call customer-value priorities. */
  priorities: number;
  recoveries: number;
  handovers: number;
}

export const emptyCounts = (): SimulationCounts => ({ calls: 0, prompts: 0, priorities: 0, recoveries: 0, handovers: 0 });

export function countEvents(events: readonly PolicyEvent[], into: SimulationCounts = emptyCounts()): SimulationCounts {
  for (const e of events) {
    if (e.type === 'prompt') into.prompts += 1;
    else if (e.type === 'priority') into.priorities += 1;
    else if (e.type === 'recovered') into.recoveries += 1;
    else into.handovers += 1;
  }
  return into;
}

export interface SimulateOptions {
  model: EmotionModel;
  policyFactory: EscalationPolicyFactory;
  logger: Logger;
  /** Gateway metadata for every call (language, customerTier, customerName, botSession, …). */
  metadata: Readonly<Record<string, string>>;
  agentId: string | undefined;
}

export async function simulateCall(file: string, index: number, options: SimulateOptions): Promise<SimulatedCall> {
  const mulaw = await loadCallAudioAsMuLaw(file);
  const events: PolicyEvent[] = [];
  const publisher: EventPublisher = {
    publish: async (event) => {
      events.push(event);
    },
    close: async () => undefined,
  };
  const pipeline = createCallPipeline({ model: options.model, policyFactory: options.policyFactory, publisher });
  const callId = `sim-${index + 1}`;
  const start: CallStartEvent = {
    kind: 'start',
    callId,
    streamId: callId,
    agentId: options.agentId,
    language: options.metadata.language,
    tracks: ['caller'],
    format: { encoding: 'pcmu', sampleRate: 8000 },
    metadata: options.metadata,
    source: 'simulate',
  };
  const session = new CallSession(start, pipeline, options.logger.child({ callId, file }));
  for (let at = 0; at < mulaw.length; at += CHUNK_BYTES) {
    session.acceptAudio({ kind: 'audio', callId, track: 'caller', payload: mulaw.subarray(at, at + CHUNK_BYTES) });
    // Let the scoring chain run between chunks so the backlog stays small.
    if (session.pendingWindows > 16) await new Promise((r) => setImmediate(r));
  }
  await session.finish('hangup');
  const detail = session.detail();
  if (detail.endReason === 'error') throw new Error(`${file}: the call failed in the pipeline (see the log)`);
  const timelinePeak = detail.timeline.reduce((m, w) => Math.max(m, w.scores.agitation), 0);
  return {
    file,
    callId,
    audioMs: detail.audioMs,
    events,
    finalTier: detail.tier,
    msAtTier: session.msAtTier(),
    peakWindowAgitation: timelinePeak,
    counts: countEvents(events, { ...emptyCounts(), calls: 1 }),
  };
}
