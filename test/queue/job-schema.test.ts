import { describe, expect, it } from 'vitest';
import { InvalidJobError } from '../../src/queue/errors.js';
import { jobDataPriority, jobPriority, routingJobId, toJobData, toSummaryJobData, validateJobData } from '../../src/queue/job-schema.js';
import { handoverEvent, priorityEvent, promptEvent, recoveredEvent, sampleSummary } from './helpers.js';

const at = new Date('2025-03-01T10:00:00.000Z');

describe('job schema v1', () => {
  it('builds prompt payloads', () => {
    expect(toJobData(promptEvent(), { agentId: 'agent-7' }, at)).toEqual({
      schemaVersion: 1,
      type: 'prompt',
      callId: 'call-42',
      agentId: 'agent-7',
      tier: 2,
      audioMs: 12_000,
      seq: 2,
      at: '2025-03-01T10:00:00.000Z',
      emotion: 'anger',
      situation: 'anger',
      reason: 'tier 2 calming script for anger: agitation 0.71 above 0.55',
      score: 0.71,
      scriptId: 'en.t2.anger.1',
      text: 'I can hear how frustrating this has been.',
      language: 'en',
    });
  });

  it('builds handover payloads, with null agent and the context', () => {
    const event = handoverEvent({ target: 'human-queue', queue: 'human-agents' });
    const data = toJobData(event, { agentId: undefined }, at);
    expect(data).toMatchObject({ type: 'handover', agentId: null, tier: 4, previousTier: 3, target: 'human-queue', context: event.context });
    expect(validateJobData('handover', JSON.parse(JSON.stringify(data)))).toEqual(data);
  });

  it('gives BullMQ priorities from the routing priority level (tier + customer boost), summaries last', () => {
    expect(jobDataPriority(toJobData(priorityEvent({ tier: 2, priority: 2 }), { agentId: 'a' }, at))).toBe(3);
    expect(jobDataPriority(toJobData(priorityEvent({ tier: 2, priority: 3, customerTier: 'vip' }), { agentId: 'a' }, at))).toBe(2);
    expect(jobDataPriority(toJobData(handoverEvent({ priority: 5 }), { agentId: 'a' }, at))).toBe(1);
    expect(jobDataPriority(toJobData(recoveredEvent(), { agentId: 'a' }, at))).toBe(4);
    expect(jobDataPriority(toJobData(promptEvent({ tier: 3 }), { agentId: 'a' }, at))).toBe(2);
    expect(jobDataPriority(toSummaryJobData(sampleSummary(), 9, at))).toBe(5);
  });

  it('round-trips through JSON and validation', () => {
    const data = toJobData(promptEvent(), { agentId: 'a' }, at);
    expect(validateJobData('prompt', JSON.parse(JSON.stringify(data)))).toEqual(data);
  });

  it('carries streamEndedAt, for an event decided after its stream ended, through JSON and validation', () => {
    const data = toJobData(priorityEvent(), { agentId: 'a', streamId: 'MZ1', streamEndedAt: '2025-03-01T09:59:58.250Z' }, at);
    expect(data.streamEndedAt).toBe('2025-03-01T09:59:58.250Z');
    expect(validateJobData('priority', JSON.parse(JSON.stringify(data)))).toEqual(data);
    expect(toJobData(promptEvent(), { agentId: 'a' }, at)).not.toHaveProperty('streamEndedAt');
    expect(() => validateJobData('prompt', { ...toJobData(promptEvent(), { agentId: 'a' }, at), streamEndedAt: 'after the call' })).toThrow(
      /streamEndedAt must be an ISO-8601 time/,
    );
  });

  it('drops unknown fields', () => {
    const data = { ...toJobData(promptEvent(), { agentId: 'a' }, at), extra: 'x' };
    expect(validateJobData('prompt', data)).not.toHaveProperty('extra');
  });

  it('rejects malformed payloads listing every problem', () => {
    let error: unknown;
    try {
      validateJobData('prompt', { schemaVersion: 1, type: 'prompt', callId: '', tier: 7, seq: 0, score: 2, at: 'yesterday' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidJobError);
    const e = error as InvalidJobError;
    expect(e.code).toBe('UT_ERR_INVALID_JOB');
    expect(e.problems).toEqual([
      'agentId is required',
      'audioMs is required',
      'reason is required',
      'emotion is required',
      'situation is required',
      'scriptId is required',
      'text is required',
      'language is required',
      'callId must be a non-empty string',
      'tier must be <= 4',
      'seq must be >= 1',
      'at must be an ISO-8601 time',
      'score must be <= 1',
    ]);
    expect(e.message).toMatch(/^invalid "prompt" job: agentId is required; audioMs is required; /);
  });

  it('rejects other schema versions, non-objects, and names that do not match the type', () => {
    expect(() => validateJobData('prompt', { schemaVersion: 2 })).toThrow(/unsupported schemaVersion 2 \(this worker reads 1\)/);
    expect(() => validateJobData('prompt', 'hello')).toThrow(/payload is not an object/);
    const data = toJobData(priorityEvent(), { agentId: 'a' }, at);
    expect(() => validateJobData('prompt', data)).toThrow(/type "priority" does not match job name/);
    expect(() => validateJobData('summary', data)).toThrow(/type "priority" does not match job name; summary is required/);
    expect(() => validateJobData('escalate', data)).toThrow(/unknown job name "escalate"/);
  });

  it('makes ids BullMQ accepts: no colons, never an integer, one per (call, seq, type)', () => {
    expect(routingJobId('call-42', 3, 'prompt')).toBe('call-42_3_prompt');
    expect(routingJobId('CA:1:2', 3, 'priority')).toBe('CA%3A1%3A2_3_priority');
    expect(routingJobId('12', 3, 'prompt')).not.toMatch(/^\d+$/);
  });

  it('puts the stream id into the job id: a second stream of a call (seq restarts) gets new ids', () => {
    expect(routingJobId('CA1', 1, 'prompt', 'MZ-a')).toBe('CA1_MZ-a_1_prompt');
    expect(routingJobId('CA1', 1, 'prompt', 'MZ-b')).not.toBe(routingJobId('CA1', 1, 'prompt', 'MZ-a'));
    expect(routingJobId('CA1', 1, 'prompt', 'M:Z')).toBe('CA1_M%3AZ_1_prompt');
    const data = toJobData(promptEvent(), { agentId: 'a', streamId: 'MZ-a' }, at);
    expect(validateJobData('prompt', data).streamId).toBe('MZ-a');
    expect(() => validateJobData('prompt', { ...data, streamId: 7 })).toThrow(/streamId must be a non-empty string/);
  });

  it('maps tiers to BullMQ priorities, 1 most urgent', () => {
    expect([4, 3, 2, 1].map((t) => jobPriority(t as 1 | 2 | 3 | 4))).toEqual([1, 2, 3, 4]);
  });
});
