/**
 * The JSON Schema (draft 2020-12) of `call-routing` job payloads, version 1:
 * the one source of truth for what a job carries. The worker validates every
 * job against it (src/queue/job-schema.ts); the published copy,
 * `schemas/call-routing-job.v1.schema.json`, is written from this object
 * (`npx tsx scripts/write-job-schema.ts`) and a test keeps the two equal, so
 * a contact centre validating with the file checks exactly what we check.
 *
 * Compatibility rule: consumers must ignore properties they do not know
 * (`additionalProperties` is open); adding an optional property keeps
 * `schemaVersion: 1`, anything else bumps it.
 */
import { EMOTION_LABELS } from '../model/types.js';

export const JOB_SCHEMA_ID = 'https://undertone.dev/schemas/call-routing-job.v1.schema.json';

const tier = { type: 'integer', minimum: 1, maximum: 4 } as const;
const unit = { type: 'number', minimum: 0, maximum: 1 } as const;
const nonNegativeMs = { type: 'number', minimum: 0 } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
/** ISO-8601 with a zone, as `Date.prototype.toISOString` writes it (a pattern, so any validator checks it). */
const isoTime = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
} as const;
const msAtTier = {
  description: 'Caller audio time spent at each tier, ms (silence included).',
  type: 'object',
  required: ['1', '2', '3', '4'],
  properties: { '1': nonNegativeMs, '2': nonNegativeMs, '3': nonNegativeMs, '4': nonNegativeMs },
} as const;

/** Properties every job has; `type` equals the BullMQ job name. */
const base = {
  schemaVersion: { const: 1, description: 'Always 1 for this schema.' },
  callId: { ...nonEmpty, description: 'The call the event belongs to.' },
  agentId: {
    description: "Agent whose softphone gets the event; null when the gateway named none (a voicebot/IVR leg or unassigned call).",
    anyOf: [nonEmpty, { type: 'null' }],
  },
  tier: { ...tier, description: 'Tier after the event: 1 routine, 2 operational, 3 serious, 4 critical.' },
  audioMs: { ...nonNegativeMs, description: 'Caller audio position the event was decided at, ms since the call started.' },
  streamId: { ...nonEmpty, description: "The gateway's stream id (Twilio streamSid); a call's later stream restarts seq at 1 (optional)." },
  seq: { type: 'integer', minimum: 1, description: 'Per-stream event number from 1; with callId and streamId the event identity.' },
  at: { ...isoTime, description: 'Wall-clock time the event was published.' },
  streamEndedAt: {
    ...isoTime,
    description:
      "Present when the event was decided after its call's stream had ended (the instance was behind when the gateway stopped): when it ended. For the record, not live: the agent gets it marked stale and routing is not told (optional).",
  },
} as const;
const baseRequired = ['schemaVersion', 'type', 'callId', 'agentId', 'tier', 'audioMs', 'seq', 'at'] as const;

const situation = { enum: ['anger', 'frustration', 'anxiety', 'sadness'], description: 'Playbook situation.' } as const;
const reason = { ...nonEmpty, description: 'Why, in plain words and numbers, e.g. "agitation 0.82 above 0.70 for 6.0 s".' } as const;
const score = { ...unit, description: 'Smoothed agitation when the event was decided.' } as const;

/** Fields of every event that changes (or sets) the tier or routing priority. */
const tierChange = {
  previousTier: { ...tier, description: 'Tier before the event.' },
  priority: { type: 'number', minimum: 1, description: 'Routing priority level after the event: tier + customer-value boost; higher = more urgent.' },
  previousPriority: { type: 'number', minimum: 1 },
  customerTier: { description: 'Customer value tier from call metadata (e.g. vip), or null.', anyOf: [nonEmpty, { type: 'null' }] },
  msAtTier: { ...msAtTier, description: 'Audio time at each tier from the start of the call up to the event, ms.' },
} as const;
const tierChangeRequired = ['previousTier', 'reason', 'score', 'priority', 'previousPriority', 'customerTier', 'msAtTier'] as const;

const handoverContext = {
  description: "The call's context for whoever takes the call over, so the caller need not start again.",
  type: 'object',
  required: ['trigger', 'peakAgitation', 'meanAgitation', 'msAtTier', 'escalationCount', 'timeline', 'promptsTried', 'unresolvedBotTurns', 'customerTier'],
  properties: {
    trigger: { enum: ['level', 'repeated-escalations', 'bot-agitation', 'bot-unresolved-turns'] },
    peakAgitation: { ...unit, description: 'Highest smoothed agitation so far.' },
    meanAgitation: { ...unit, description: 'Mean smoothed agitation over the scored windows so far (0 with none).' },
    msAtTier: { ...msAtTier, description: 'Audio time at each tier from the start of the call until the handover, ms.' },
    escalationCount: { type: 'integer', minimum: 0, description: 'Escalation episodes since the call last recovered to tier 1, this one included.' },
    timeline: {
      description: 'Score timeline summary: fixed-length buckets from the call start, newest last.',
      type: 'array',
      items: {
        type: 'object',
        required: ['startMs', 'endMs', 'meanAgitation', 'peakAgitation', 'tier'],
        properties: { startMs: nonNegativeMs, endMs: nonNegativeMs, meanAgitation: unit, peakAgitation: unit, tier },
      },
    },
    promptsTried: {
      description: 'Prompts already sent on the call, oldest first.',
      type: 'array',
      items: {
        type: 'object',
        required: ['seq', 'audioMs', 'tier', 'situation', 'scriptId'],
        properties: { seq: { type: 'integer', minimum: 1 }, audioMs: nonNegativeMs, tier, situation, scriptId: nonEmpty },
      },
    },
    unresolvedBotTurns: { type: 'integer', minimum: 0 },
    customerTier: { anyOf: [nonEmpty, { type: 'null' }] },
  },
} as const;

const promptRecord = {
  type: 'object',
  required: ['promptId', 'seq', 'scriptId', 'tier', 'audioMs', 'feedback'],
  properties: {
    promptId: nonEmpty,
    seq: { type: 'integer', minimum: 1 },
    scriptId: nonEmpty,
    tier,
    emotion: { enum: [...EMOTION_LABELS] },
    audioMs: nonNegativeMs,
    feedback: { description: "The agent's ack, if any.", enum: ['used', 'dismissed', null] },
  },
} as const;

const postCallSummary = {
  description: 'Post-call summary (also kept in Redis and served at GET /v1/calls/:callId).',
  type: 'object',
  required: [
    'callId', 'startedAt', 'endedAt', 'endReason', 'audioMs', 'finalTier', 'maxTier', 'peakAgitation', 'meanAgitation',
    'scoredWindows', 'msAtTier', 'prompts', 'promptsSent', 'promptsUsed', 'promptsDismissed', 'escalations', 'handovers', 'recoveryMs',
  ],
  properties: {
    callId: nonEmpty,
    streamId: nonEmpty,
    agentId: { anyOf: [nonEmpty, { type: 'null' }] },
    source: nonEmpty,
    language: { anyOf: [nonEmpty, { type: 'null' }] },
    startedAt: isoTime,
    endedAt: isoTime,
    endReason: { enum: ['hangup', 'disconnect', 'error', 'shutdown', 'overload'] },
    audioMs: { ...nonNegativeMs, description: 'Caller audio length of the call, ms.' },
    finalTier: tier,
    maxTier: { ...tier, description: 'Highest tier the call reached.' },
    peakAgitation: { ...unit, description: 'Highest smoothed agitation over the scored windows (0 with none).' },
    meanAgitation: { description: 'Mean smoothed agitation over the scored windows; null with none.', anyOf: [unit, { type: 'null' }] },
    scoredWindows: { type: 'integer', minimum: 0 },
    msAtTier,
    prompts: { type: 'array', items: promptRecord, description: 'Prompts sent, oldest first (at most 200 listed).' },
    promptsSent: { type: 'integer', minimum: 0 },
    promptsUsed: { type: 'integer', minimum: 0 },
    promptsDismissed: { type: 'integer', minimum: 0 },
    escalations: { type: 'integer', minimum: 0, description: 'Upward tier changes.' },
    handovers: { type: 'integer', minimum: 0 },
    recoveryMs: {
      description: 'Per escalation episode that ended back at tier 1: caller audio time from leaving tier 1 to returning, ms.',
      type: 'array',
      items: nonNegativeMs,
    },
  },
} as const;

function job(type: string, description: string, properties: Record<string, unknown>, required: readonly string[]) {
  return {
    description,
    type: 'object',
    required: [...baseRequired, ...required],
    properties: { ...base, type: { const: type }, ...properties },
  } as const;
}

export const CALL_ROUTING_JOB_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: JOB_SCHEMA_ID,
  title: 'Undertone call-routing job payload, schema version 1',
  description:
    'The data of a BullMQ job on the call-routing queue (job name = type) and the body of a routing webhook POST. Ignore unknown properties: optional ones may be added within version 1.',
  oneOf: [
    { $ref: '#/$defs/prompt' },
    { $ref: '#/$defs/priority' },
    { $ref: '#/$defs/recovered' },
    { $ref: '#/$defs/handover' },
    { $ref: '#/$defs/summary' },
  ],
  $defs: {
    prompt: job(
      'prompt',
      'A calming script for the agent to use now.',
      {
        reason,
        score: { ...unit, description: 'Smoothed agitation that triggered the prompt.' },
        emotion: { enum: [...EMOTION_LABELS], description: 'Dominant caller emotion of the model\'s four.' },
        situation,
        scriptId: { ...nonEmpty, description: 'Playbook script id, e.g. en-US.anger.t2.1; the agent\'s promptId is the job id.' },
        text: { ...nonEmpty, description: 'The line for the agent, placeholders filled.' },
        language: { ...nonEmpty, description: 'BCP-47 tag of text.' },
      },
      ['reason', 'score', 'emotion', 'situation', 'scriptId', 'text', 'language'],
    ),
    priority: job(
      'priority',
      "The call's routing priority was raised (tier 2 or 3), or set at call start for a valued customer.",
      {
        reason,
        score,
        ...tierChange,
        cause: { enum: ['agitation', 'customer-value'] },
        supervisorAlert: { type: 'boolean', description: 'True at tier ≥ 3: alert the supervisor.' },
        seniorAssist: { type: 'boolean', description: "True at tier ≥ 3: suggest a senior agent's assist." },
      },
      [...tierChangeRequired, 'cause', 'supervisorAlert', 'seniorAssist'],
    ),
    recovered: job(
      'recovered',
      'The caller stayed calm long enough: the tier stepped down and the priority is restored.',
      {
        reason,
        score,
        ...tierChange,
        recoveryMs: { ...nonNegativeMs, description: 'Audio time from the escalation to previousTier until this step down, ms.' },
        episodeMs: { ...nonNegativeMs, description: 'Audio time since the call last left tier 1, ms.' },
        calmForMs: { ...nonNegativeMs, description: 'How long the caller stayed below the exit level first, ms.' },
      },
      [...tierChangeRequired, 'recoveryMs', 'episodeMs', 'calmForMs'],
    ),
    handover: job(
      'handover',
      'Hand the call over now: to the special team (tier 4), or from a voicebot/IVR to a human queue, with the context so far.',
      {
        reason,
        score,
        ...tierChange,
        target: { enum: ['special-team', 'human-queue'] },
        queue: { ...nonEmpty, description: 'Queue or team name from the policy file.' },
        context: handoverContext,
      },
      [...tierChangeRequired, 'target', 'queue', 'context'],
    ),
    summary: job(
      'summary',
      'Post-call summary for QA systems, emitted once when the call ends (tier = final tier, audioMs = call length).',
      { summary: postCallSummary },
      ['summary'],
    ),
  },
} as const;
