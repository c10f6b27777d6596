import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaFileText, SCHEMA_FILE } from '../../scripts/write-job-schema.js';
import { toJobData, toSummaryJobData, validateJobData } from '../../src/queue/job-schema.js';
import { handoverEvent, priorityEvent, promptEvent, recoveredEvent, sampleSummary } from './helpers.js';
import { publishedSchemaValidator } from './schema-validator.js';

const at = new Date('2025-03-01T10:00:00.000Z');

describe('published JSON Schema of routing jobs', () => {
  it('is the file the code validates with (run scripts/write-job-schema.ts after changing it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaFileText());
  });

  it('accepts every job kind the code builds, and the worker accepts them too', () => {
    const check = publishedSchemaValidator();
    const payloads = [
      toJobData(promptEvent(), { agentId: 'agent-7' }, at),
      toJobData(priorityEvent(), { agentId: undefined }, at),
      toJobData(priorityEvent({ cause: 'customer-value', customerTier: 'vip', priority: 2, previousPriority: 2, tier: 1, previousTier: 1 }), { agentId: 'a' }, at),
      toJobData(recoveredEvent(), { agentId: 'a' }, at),
      toJobData(handoverEvent(), { agentId: 'a' }, at),
      toJobData(handoverEvent({ target: 'human-queue', queue: 'human-agents', context: { ...handoverEvent().context, trigger: 'bot-unresolved-turns', unresolvedBotTurns: 3 } }), { agentId: undefined }, at),
      toSummaryJobData(sampleSummary(), 5, at),
      toSummaryJobData(sampleSummary({ meanAgitation: null, prompts: [], agentId: null, language: null }), 1, at),
    ];
    for (const p of payloads) {
      expect(check(p), `${p.type}: ${JSON.stringify(check.errors)}`).toBe(true);
      expect(validateJobData(p.type, JSON.parse(JSON.stringify(p)))).toMatchObject({ type: p.type });
    }
  });

  it('rejects what the worker rejects', () => {
    const check = publishedSchemaValidator();
    const good = toJobData(promptEvent(), { agentId: 'a' }, at);
    const bad: unknown[] = [
      { ...good, tier: 5 },
      { ...good, score: -0.1 },
      { ...good, schemaVersion: 2 },
      { ...good, at: 'yesterday' },
      { ...good, agentId: '' },
      { ...good, emotion: 'rage' },
      { ...good, type: 'escalate' },
      { ...good, situation: 'rage' },
      { ...toJobData(handoverEvent(), { agentId: 'a' }, at), context: { ...handoverEvent().context, trigger: 'boredom' } },
      { ...toJobData(recoveredEvent(), { agentId: 'a' }, at), recoveryMs: undefined },
      { ...toSummaryJobData(sampleSummary(), 2, at), summary: { ...sampleSummary(), finalTier: 0 } },
      { ...toSummaryJobData(sampleSummary(), 2, at), summary: { ...sampleSummary(), prompts: [{ promptId: 'x' }] } },
    ];
    for (const p of bad) {
      expect(check(p), JSON.stringify(p)).toBe(false);
      const name = (p as { type: string }).type;
      expect(() => validateJobData(name, p)).toThrow(/UT_ERR_INVALID_JOB|invalid|unknown/);
    }
  });

  it('lists nested problems of a summary by path', () => {
    const data = { ...toSummaryJobData(sampleSummary(), 2, at), summary: { ...sampleSummary(), peakAgitation: 3, recoveryMs: [-1] } };
    expect(() => validateJobData('summary', data)).toThrow(/summary\.peakAgitation must be <= 1; summary\.recoveryMs\.0 must be >= 0/);
  });
});
