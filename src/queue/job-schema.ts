import { EMOTION_LABELS, type EmotionLabel } from '../model/types.js';
import type { HandoverContext, PolicyEvent, Tier } from '../policy/types.js';
import type { PublishContext } from './publisher.js';
import { InvalidJobError } from './errors.js';

/**
 * The payload of jobs on the `call-routing` queue, version 1.
 *
 * Producers (the pipeline, via the BullMQ publisher) and consumers (the
 * routing worker) may be deployed at different versions: the worker checks
 * every job with {@link validateJobData} and rejects what it cannot read.
 * Additive, optional fields keep `schemaVersion: 1`; anything else bumps it.
 */
export const JOB_SCHEMA_VERSION = 1;

/** Default queue name. */
export const CALL_ROUTING_QUEUE = 'call-routing';

/** Job names; equal to the payload's `type`. */
export type RoutingJobName = 'prompt' | 'priority';

interface RoutingJobBase {
  /** Always 1 for this schema. */
  schemaVersion: typeof JOB_SCHEMA_VERSION;
  /** Call the event belongs to. */
  callId: string;
  /** Agent whose softphone should get it; `null` when the gateway named none (routing still gets priority jobs). */
  agentId: string | null;
  /** Tier after the event, 1..4. */
  tier: Tier;
  /** Caller audio position the event was decided at, ms since the call started. */
  audioMs: number;
  /**
   * The gateway's stream/session id (Twilio `streamSid`). A call may have
   * several streams over its life (transfer, TwiML redirect), each restarting
   * `seq` at 1: callId + streamId + seq is the event's identity. Optional for
   * jobs of older producers (treated as stream `''`).
   */
  streamId?: string;
  /** Per-stream event number from 1; with callId and streamId it is the event's identity. */
  seq: number;
  /** ISO-8601 wall-clock time the event was published. */
  at: string;
}

/** A calming script for the agent (job name `prompt`). */
export interface PromptJobData extends RoutingJobBase {
  type: 'prompt';
  /** Dominant caller emotion. */
  emotion: EmotionLabel;
  /** Smoothed agitation that triggered the prompt, 0..1. */
  score: number;
  /** Playbook script id, e.g. `en.t2.anger.1`. */
  scriptId: string;
  /** The line for the agent. */
  text: string;
  /** BCP-47 tag of `text` (`en` or `zh-CN`). */
  language: string;
}

/** The call's routing priority changed (job name `priority`). */
export interface PriorityJobData extends RoutingJobBase {
  type: 'priority';
  /** Tier before the change, 1..4. */
  previousTier: Tier;
  /** Human-readable cause, e.g. `agitation 0.82 ≥ 0.70 for 1.5 s`. */
  reason: string;
  /** Smoothed agitation when the change was decided, 0..1. */
  score: number;
  /** Only on changes to tier 4: the context for the special team. */
  handover?: HandoverContext;
}

export type CallRoutingJobData = PromptJobData | PriorityJobData;

/**
 * Deterministic job id: `${encodeURIComponent(callId)}_${encodeURIComponent(streamId)}_${seq}_${type}`
 * (`${encodeURIComponent(callId)}_${seq}_${type}` when there is no stream id).
 *
 * The stream id is part of the identity: a second stream on the same call id
 * restarts `seq` at 1, and without it BullMQ would drop the new stream's jobs
 * as duplicates of the first stream's for as long as those are retained.
 *
 * The same event always maps to the same id, so a retried publish never
 * makes a second job (BullMQ ignores an add whose id exists, as long as the
 * first job is still retained — see `removeOnComplete`). Why not
 * `${callId}:${seq}:${type}`: BullMQ 5/6 reserve `:` in custom ids (only
 * legacy three-part repeatable ids may contain it) and reject integer-looking
 * ids; `_` is allowed, and `encodeURIComponent` turns any `:` inside a call
 * id into `%3A`. The id never looks like an integer (it ends in the type).
 */
export function routingJobId(callId: string, seq: number, type: RoutingJobName, streamId?: string): string {
  if (streamId === undefined || streamId === '') return `${encodeURIComponent(callId)}_${seq}_${type}`;
  return `${encodeURIComponent(callId)}_${encodeURIComponent(streamId)}_${seq}_${type}`;
}

/**
 * BullMQ priority for a tier: 1 is BullMQ's highest, so tier 4 → 1,
 * 3 → 2, 2 → 3, 1 → 4. Every routing job gets a priority (BullMQ would run
 * un-prioritised jobs before all prioritised ones).
 */
export function jobPriority(tier: Tier): number {
  return 5 - tier;
}

/** Builds the v1 payload of a policy event. */
export function toJobData(event: PolicyEvent, ctx: PublishContext, at: Date): CallRoutingJobData {
  const base = {
    schemaVersion: JOB_SCHEMA_VERSION,
    callId: event.callId,
    agentId: ctx.agentId ?? null,
    ...(ctx.streamId !== undefined ? { streamId: ctx.streamId } : {}),
    tier: event.tier,
    audioMs: event.audioMs,
    seq: event.seq,
    at: at.toISOString(),
  } as const;
  if (event.type === 'prompt') {
    return {
      ...base,
      type: 'prompt',
      emotion: event.emotion,
      score: event.score,
      scriptId: event.scriptId,
      text: event.text,
      language: event.language,
    };
  }
  const data: PriorityJobData = {
    ...base,
    type: 'priority',
    previousTier: event.previousTier,
    reason: event.reason,
    score: event.score,
  };
  if (event.handover) data.handover = event.handover;
  return data;
}

type Record_ = Record<string, unknown>;
const isRecord = (v: unknown): v is Record_ => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTier = (v: unknown): v is Tier => v === 1 || v === 2 || v === 3 || v === 4;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks a job (name + data) against schema v1, listing every problem at
 * once. Returns a clean copy holding only the known fields.
 * @throws InvalidJobError when anything is missing, mistyped or out of range.
 */
export function validateJobData(name: string, data: unknown): CallRoutingJobData {
  const problems: string[] = [];
  if (!isRecord(data)) throw new InvalidJobError(name, ['payload is not an object']);
  if (data.schemaVersion !== JOB_SCHEMA_VERSION) {
    throw new InvalidJobError(name, [
      `unsupported schemaVersion ${JSON.stringify(data.schemaVersion)} (this worker reads ${JOB_SCHEMA_VERSION})`,
    ]);
  }
  if (name !== 'prompt' && name !== 'priority') problems.push(`unknown job name ${JSON.stringify(name)}`);
  if (data.type !== name) problems.push(`type ${JSON.stringify(data.type)} does not match job name`);

  const str = (key: string, allowEmpty = false): string => {
    const v = data[key];
    if (typeof v !== 'string' || (!allowEmpty && v.length === 0)) problems.push(`${key} must be a non-empty string`);
    return v as string;
  };
  const num = (key: string, min: number, max: number, integer = false): number => {
    const v = data[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      problems.push(`${key} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max} (got ${JSON.stringify(v)})`);
    }
    return v as number;
  };
  const tier = (key: string): Tier => {
    if (!isTier(data[key])) problems.push(`${key} must be 1, 2, 3 or 4 (got ${JSON.stringify(data[key])})`);
    return data[key] as Tier;
  };

  const callId = str('callId');
  if (data.agentId !== null && (typeof data.agentId !== 'string' || data.agentId.length === 0)) {
    problems.push('agentId must be a non-empty string or null');
  }
  const base = {
    schemaVersion: JOB_SCHEMA_VERSION,
    callId,
    agentId: (data.agentId ?? null) as string | null,
    ...(data.streamId !== undefined ? { streamId: str('streamId') } : {}),
    tier: tier('tier'),
    audioMs: num('audioMs', 0, Number.MAX_SAFE_INTEGER),
    seq: num('seq', 1, Number.MAX_SAFE_INTEGER, true),
    at: str('at'),
  } as const;
  if (typeof base.at === 'string' && !ISO_TIME.test(base.at)) problems.push('at must be an ISO-8601 time');

  let result: CallRoutingJobData;
  if (name === 'prompt') {
    const emotion = data.emotion;
    if (!(EMOTION_LABELS as readonly unknown[]).includes(emotion)) {
      problems.push(`emotion must be one of ${EMOTION_LABELS.join(', ')} (got ${JSON.stringify(emotion)})`);
    }
    result = {
      ...base,
      type: 'prompt',
      emotion: emotion as EmotionLabel,
      score: num('score', 0, 1),
      scriptId: str('scriptId'),
      text: str('text'),
      language: str('language'),
    };
  } else {
    const priority: PriorityJobData = {
      ...base,
      type: 'priority',
      previousTier: tier('previousTier'),
      reason: str('reason'),
      score: num('score', 0, 1),
    };
    if (data.handover !== undefined) {
      const handover = validateHandover(data.handover, problems);
      if (handover) priority.handover = handover;
    }
    result = priority;
  }
  if (problems.length > 0) throw new InvalidJobError(name, problems);
  return result;
}

function validateHandover(v: unknown, problems: string[]): HandoverContext | undefined {
  if (!isRecord(v)) {
    problems.push('handover must be an object');
    return undefined;
  }
  const before = problems.length;
  if (v.trigger !== 'level' && v.trigger !== 'repeated-escalations') {
    problems.push('handover.trigger must be "level" or "repeated-escalations"');
  }
  const ok = (x: unknown, min: number, max: number) => typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max;
  if (!ok(v.peakAgitation, 0, 1)) problems.push('handover.peakAgitation must be a number in 0..1');
  if (!ok(v.escalationCount, 0, Number.MAX_SAFE_INTEGER) || !Number.isInteger(v.escalationCount)) {
    problems.push('handover.escalationCount must be a non-negative integer');
  }
  const ms = v.msAtTier;
  if (!isRecord(ms) || ![1, 2, 3, 4].every((t) => ok(ms[t], 0, Number.MAX_SAFE_INTEGER))) {
    problems.push('handover.msAtTier must map tiers 1..4 to non-negative ms');
  }
  if (problems.length > before) return undefined;
  const m = ms as Record_;
  return {
    trigger: v.trigger as HandoverContext['trigger'],
    peakAgitation: v.peakAgitation as number,
    escalationCount: v.escalationCount as number,
    msAtTier: { 1: m[1] as number, 2: m[2] as number, 3: m[3] as number, 4: m[4] as number },
  };
}
