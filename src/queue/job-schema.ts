import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { PostCallSummary } from '../calls/post-call-summary.js';
import type { HandoverEvent, PolicyEvent, PriorityEvent, PromptEvent, RecoveredEvent, Tier } from '../policy/types.js';
import type { PublishContext } from './publisher.js';
import { InvalidJobError } from './errors.js';
import { CALL_ROUTING_JOB_SCHEMA, JOB_SCHEMA_ID } from './job-json-schema.js';

/**
 * The payload of jobs on the `call-routing` queue, version 1.
 *
 * Producers (the pipeline, via the BullMQ publisher) and consumers (the
 * routing worker) may be deployed at different versions: the worker checks
 * every job with {@link validateJobData} and rejects what it cannot read.
 * Additive, optional fields keep `schemaVersion: 1`; anything else bumps it.
 * The JSON Schema (src/queue/job-json-schema.ts, published as
 * schemas/call-routing-job.v1.schema.json) is what the check runs; the
 * TypeScript types below mirror it.
 */
export const JOB_SCHEMA_VERSION = 1;

/** Default queue name. */
export const CALL_ROUTING_QUEUE = 'call-routing';

/** Job names; equal to the payload's `type`. */
export type RoutingJobName = 'prompt' | 'priority' | 'recovered' | 'handover' | 'summary';
export const ROUTING_JOB_NAMES: readonly RoutingJobName[] = ['prompt', 'priority', 'recovered', 'handover', 'summary'];

/**
 * What every job adds to its policy event: the schema version, the agent and
 * the publish time. A job's data is the event's own fields plus these, so
 * the payload says exactly what the policy decided (reason included).
 */
export interface JobEnvelope {
  /** Always 1 for this schema. */
  schemaVersion: typeof JOB_SCHEMA_VERSION;
  /** Agent whose softphone should get it; `null` when none is assigned (voicebot/IVR, or the gateway named none). */
  agentId: string | null;
  /**
   * The gateway's stream/session id (Twilio `streamSid`). A call may have
   * several streams over its life (transfer, TwiML redirect), each restarting
   * `seq` at 1: callId + streamId + seq is the event's identity. Optional for
   * jobs of older producers (treated as stream `''`).
   */
  streamId?: string;
  /** ISO-8601 wall-clock time the event was published. */
  at: string;
  /**
   * ISO-8601 time the call's stream ended, present only on an event decided
   * after it (a real-time call whose instance was behind when the gateway
   * stopped): the event is for the record, never live.
   */
  streamEndedAt?: string;
}

/** A calming script for the agent (job name `prompt`). */
export type PromptJobData = JobEnvelope & PromptEvent;
/** The routing priority was raised, or set at call start for a valued customer (job name `priority`). */
export type PriorityJobData = JobEnvelope & PriorityEvent;
/** The caller stayed calm long enough: tier stepped down, priority restored (job name `recovered`). */
export type RecoveredJobData = JobEnvelope & RecoveredEvent;
/** Hand the caller over now, with the context so far (job name `handover`). */
export type HandoverJobData = JobEnvelope & HandoverEvent;

/** Post-call summary for QA systems, once per call (job name `summary`); tier = final tier, audioMs = call length. */
export interface SummaryJobData extends JobEnvelope {
  type: 'summary';
  callId: string;
  tier: Tier;
  audioMs: number;
  /** The call's last policy event seq + 1. */
  seq: number;
  summary: PostCallSummary;
}

export type CallRoutingJobData = PromptJobData | PriorityJobData | RecoveredJobData | HandoverJobData | SummaryJobData;
/** The jobs a contact centre's router acts on (the webhook forwards these). */
export type RoutingChangeJobData = PriorityJobData | RecoveredJobData | HandoverJobData;

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

/** Builds the v1 payload of a policy event: the event plus the {@link JobEnvelope}. */
export function toJobData(event: PolicyEvent, ctx: PublishContext, at: Date): CallRoutingJobData {
  return {
    schemaVersion: JOB_SCHEMA_VERSION,
    agentId: ctx.agentId ?? null,
    ...(ctx.streamId !== undefined ? { streamId: ctx.streamId } : {}),
    at: at.toISOString(),
    ...(ctx.streamEndedAt !== undefined ? { streamEndedAt: ctx.streamEndedAt } : {}),
    ...event,
  } as CallRoutingJobData;
}

/**
 * BullMQ priority of a job (1 is BullMQ's most urgent): from the routing
 * priority level of tier changes (tier + customer-value boost), the tier of
 * prompts; every level ≥ 4 shares 1. Summaries go last ({@link SUMMARY_JOB_PRIORITY}).
 */
export function jobDataPriority(data: CallRoutingJobData): number {
  if (data.type === 'summary') return SUMMARY_JOB_PRIORITY;
  const level = data.type === 'prompt' ? data.tier : data.priority;
  return Math.max(1, 5 - Math.round(level));
}

/** QA summaries wait behind every live event. */
export const SUMMARY_JOB_PRIORITY = 5;

/**
 * The `summary` job of a finished call. Its seq follows the call's last
 * policy event, so the job id stays deterministic and distinct.
 */
export function toSummaryJobData(summary: PostCallSummary, seq: number, at: Date): SummaryJobData {
  return {
    schemaVersion: JOB_SCHEMA_VERSION,
    callId: summary.callId,
    agentId: summary.agentId,
    tier: summary.finalTier,
    audioMs: summary.audioMs,
    seq,
    at: at.toISOString(),
    type: 'summary',
    summary,
  };
}

// One compiled validator per job type: a payload is checked against its own
// definition, so the problems listed are about that type only.
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(CALL_ROUTING_JOB_SCHEMA);
const validators = new Map<string, { validate: ValidateFunction; keys: readonly string[] }>(
  ROUTING_JOB_NAMES.map((name) => {
    const validate = ajv.getSchema(`${JOB_SCHEMA_ID}#/$defs/${name}`);
    if (!validate) throw new Error(`job schema has no definition for ${name}`);
    return [name, { validate, keys: Object.keys(CALL_ROUTING_JOB_SCHEMA.$defs[name].properties) }];
  }),
);

/** One ajv error in plain words: `tier must be <= 4`, `summary.prompts.0.scriptId is required`. */
function describeError(e: ErrorObject): string {
  const path = e.instancePath.slice(1).replaceAll('/', '.');
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return `${path === '' ? '' : `${path}.`}${missing} is required`;
  }
  const where = path === '' ? 'payload' : path;
  if (e.keyword === 'pattern') return `${where} must be an ISO-8601 time`;
  if (e.keyword === 'anyOf') return `${where} must be a non-empty string or null`;
  // Every string of the schema is a non-empty one: say so rather than ajv's two messages.
  if ((e.keyword === 'type' && (e.params as { type: string }).type === 'string') || e.keyword === 'minLength') {
    return `${where} must be a non-empty string`;
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `${where} must be one of ${allowed}`;
  }
  return `${where} ${e.message ?? 'is invalid'}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a job (name + data) against schema v1, listing every problem at
 * once (as `<path> <what is wrong>`). Returns a copy holding only the
 * properties the schema names at the top level (nested objects as given).
 * @throws InvalidJobError when anything is missing, mistyped or out of range.
 */
export function validateJobData(name: string, data: unknown): CallRoutingJobData {
  if (!isRecord(data)) throw new InvalidJobError(name, ['payload is not an object']);
  if (data.schemaVersion !== JOB_SCHEMA_VERSION) {
    throw new InvalidJobError(name, [
      `unsupported schemaVersion ${JSON.stringify(data.schemaVersion)} (this worker reads ${JOB_SCHEMA_VERSION})`,
    ]);
  }
  const entry = validators.get(name);
  if (!entry) throw new InvalidJobError(name, [`unknown job name ${JSON.stringify(name)}`]);
  const problems: string[] = [];
  if (data.type !== name) problems.push(`type ${JSON.stringify(data.type)} does not match job name`);
  if (!entry.validate(data)) {
    for (const e of entry.validate.errors ?? []) {
      // `type` is reported above in plainer words.
      if (e.instancePath === '/type') continue;
      // anyOf branches (string | null) are summed up by the anyOf error itself.
      if (e.schemaPath.includes('/anyOf/')) continue;
      problems.push(describeError(e));
    }
  }
  if (problems.length > 0) throw new InvalidJobError(name, [...new Set(problems)]);
  const clean: Record<string, unknown> = {};
  for (const key of entry.keys) if (data[key] !== undefined) clean[key] = data[key];
  return clean as unknown as CallRoutingJobData;
}
