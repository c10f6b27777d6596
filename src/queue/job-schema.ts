import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { PostCallSummary } from '../calls/post-call-summary.js';
import type { EmotionLabel } from '../model/types.js';
import type { HandoverContext, PolicyEvent, Tier } from '../policy/types.js';
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
  /** Per-call event number from 1; with callId it is the event's identity. */
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
  /** Why, in words and numbers (optional, additive). */
  reason?: string;
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

/** The caller stayed calm long enough: the tier stepped down, priority restored (job name `recovered`). */
export interface RecoveredJobData extends RoutingJobBase {
  type: 'recovered';
  previousTier: Tier;
  reason: string;
  score: number;
  /** Caller audio time from the start of the escalation episode to this step down, ms (optional). */
  recoveryMs?: number;
}

/** Hand the caller over now, with the context so far (job name `handover`). */
export interface HandoverJobData extends RoutingJobBase {
  type: 'handover';
  previousTier: Tier;
  reason: string;
  score: number;
  context: HandoverContext;
}

/** Post-call summary for QA systems, once per call (job name `summary`); tier = final tier, audioMs = call length. */
export interface SummaryJobData extends RoutingJobBase {
  type: 'summary';
  summary: PostCallSummary;
}

export type CallRoutingJobData = PromptJobData | PriorityJobData | RecoveredJobData | HandoverJobData | SummaryJobData;
/** The jobs a contact centre's router acts on (the webhook forwards these). */
export type RoutingChangeJobData = PriorityJobData | RecoveredJobData | HandoverJobData;

/**
 * Deterministic job id: `${encodeURIComponent(callId)}_${seq}_${type}`.
 *
 * The same event always maps to the same id, so a retried publish never
 * makes a second job (BullMQ ignores an add whose id exists, as long as the
 * first job is still retained — see `removeOnComplete`). Why not
 * `${callId}:${seq}:${type}`: BullMQ 5/6 reserve `:` in custom ids (only
 * legacy three-part repeatable ids may contain it) and reject integer-looking
 * ids; `_` is allowed, and `encodeURIComponent` turns any `:` inside a call
 * id into `%3A`. The id never looks like an integer (it ends in the type).
 */
export function routingJobId(callId: string, seq: number, type: RoutingJobName): string {
  return `${encodeURIComponent(callId)}_${seq}_${type}`;
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
  // TODO(h11a): recovered and handover events map here once their PolicyEvent types land.
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
