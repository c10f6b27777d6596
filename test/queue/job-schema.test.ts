import { describe, expect, it } from 'vitest';
import { InvalidJobError } from '../../src/queue/errors.js';
import { jobPriority, routingJobId, toJobData, validateJobData } from '../../src/queue/job-schema.js';
import { priorityEvent, promptEvent } from './helpers.js';

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
      score: 0.71,
      scriptId: 'en.t2.anger.1',
      text: 'I can hear how frustrating this has been.',
      language: 'en',
    });
  });

  it('builds priority payloads, with null agent and the handover context', () => {
    const handover = { trigger: 'level' as const, peakAgitation: 0.9, msAtTier: { 1: 1500, 2: 0, 3: 0, 4: 0 }, escalationCount: 1 };
    const data = toJobData(priorityEvent({ tier: 4, handover }), { agentId: undefined }, at);
    expect(data).toMatchObject({ type: 'priority', agentId: null, tier: 4, previousTier: 1, handover });
    expect(validateJobData('priority', JSON.parse(JSON.stringify(data)))).toEqual(data);
  });

  it('round-trips through JSON and validation', () => {
    const data = toJobData(promptEvent(), { agentId: 'a' }, at);
    expect(validateJobData('prompt', JSON.parse(JSON.stringify(data)))).toEqual(data);
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
      'callId must be a non-empty string',
      'agentId must be a non-empty string or null',
      'tier must be 1, 2, 3 or 4 (got 7)',
      'audioMs must be a number in 0..9007199254740991 (got undefined)',
      'seq must be an integer in 1..9007199254740991 (got 0)',
      'at must be an ISO-8601 time',
      'emotion must be one of neutral, anger, happiness, sadness (got undefined)',
      'score must be a number in 0..1 (got 2)',
      'scriptId must be a non-empty string',
      'text must be a non-empty string',
      'language must be a non-empty string',
    ]);
    expect(e.message).toMatch(/^invalid "prompt" job: callId must be a non-empty string; /);
  });

  it('rejects other schema versions, non-objects, and names that do not match the type', () => {
    expect(() => validateJobData('prompt', { schemaVersion: 2 })).toThrow(/unsupported schemaVersion 2 \(this worker reads 1\)/);
    expect(() => validateJobData('prompt', 'hello')).toThrow(/payload is not an object/);
    const data = toJobData(priorityEvent(), { agentId: 'a' }, at);
    expect(() => validateJobData('prompt', data)).toThrow(/type "priority" does not match job name/);
    expect(() => validateJobData('summary', data)).toThrow(/unknown job name "summary"/);
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
