import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostCallSummary, PromptRecord } from '../../src/calls/post-call-summary.js';
import { createSummaryStore, type SummaryStore } from '../../src/calls/summary-store.js';
import { buildReport } from '../../src/cli/report.js';
import { formatCallOutcomes } from '../../src/report/call-outcomes.js';
import { REDIS_URL, sampleSummary, uniqueQueueName } from '../queue/helpers.js';

const prompt = (callId: string, seq: number, scriptId: string): PromptRecord => ({
  promptId: `${callId}_${seq}_prompt`,
  seq,
  scriptId,
  tier: 2,
  emotion: 'anger',
  audioMs: seq * 1000,
  feedback: null,
});

function call(callId: string, endedAt: string, o: Partial<PostCallSummary>): PostCallSummary {
  return sampleSummary({ callId, endedAt, prompts: [], promptsSent: 0, promptsUsed: 0, promptsDismissed: 0, recoveryMs: [], ...o });
}

describe('npm run report on seeded summaries (real Redis)', () => {
  let redis: Redis;
  let namespace: string;
  let store: SummaryStore;
  let dir: string;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    namespace = uniqueQueueName();
    store = createSummaryStore({ redis, namespace, ttlS: 90 * 24 * 3600 });
    dir = await mkdtemp(join(tmpdir(), 'ut-report-'));
    // c1: tier 3, prompt A used, recovered in 20 s, csat 5 / ces 2 / nps 10.
    await store.save(call('c1', '2026-11-20T10:00:00.000Z', { maxTier: 3, prompts: [prompt('c1', 2, 'A'), prompt('c1', 4, 'B')], promptsSent: 2, recoveryMs: [20_000] }));
    await store.recordFeedback('c1', 'c1_2_prompt', 'used');
    await store.recordFeedback('c1', 'c1_4_prompt', 'dismissed');
    await store.saveSurvey('c1', { csat: 5, ces: 2, nps: 10 });
    // c2: tier 2, prompt A dismissed, recovered in 40 s, csat 2 / nps 3.
    await store.save(call('c2', '2026-11-21T10:00:00.000Z', { maxTier: 2, prompts: [prompt('c2', 2, 'A')], promptsSent: 1, recoveryMs: [40_000] }));
    await store.recordFeedback('c2', 'c2_2_prompt', 'dismissed');
    await store.saveSurvey('c2', { csat: 2, nps: 3 });
    // c3: tier 1, no prompt, csat 4 / nps 9.
    await store.save(call('c3', '2026-11-22T10:00:00.000Z', { maxTier: 1, msAtTier: { 1: 120_000, 2: 0, 3: 0, 4: 0 } }));
    await store.saveSurvey('c3', { csat: 4, nps: 9 });
    // c4: tier 4, prompt B without feedback, never recovered, no survey.
    await store.save(call('c4', '2026-11-23T10:00:00.000Z', { maxTier: 4, prompts: [prompt('c4', 2, 'B')], promptsSent: 1 }));
    // old: before --since.
    await store.save(call('old', '2026-10-01T10:00:00.000Z', { maxTier: 3 }));
  });

  afterAll(async () => {
    const keys = await redis.keys(`ut:${namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts calls and means per tier reached, per prompt answer and per script, and writes the SVG', async () => {
    const svgPath = join(dir, 'out', 'outcomes.svg');
    const o = await buildReport({ redisUrl: REDIS_URL, namespace, since: new Date('2026-11-01'), svgPath });
    expect(o.total.calls).toBe(4);
    expect(o.total.csat).toEqual({ mean: 11 / 3, n: 3 });
    // NPS answers 10, 3, 9: two promoters, one detractor.
    expect(o.total.nps).toBeCloseTo(100 / 3, 10);
    expect(o.total.recoveryMs).toEqual({ mean: 30_000, n: 2 });
    expect([1, 2, 3, 4].map((t) => o.byMaxTier[t as 1 | 2 | 3 | 4].calls)).toEqual([1, 1, 1, 1]);
    expect(o.byMaxTier[3]).toMatchObject({ csat: { mean: 5, n: 1 }, ces: { mean: 2, n: 1 }, recoveryMs: { mean: 20_000, n: 1 } });
    expect(o.byMaxTier[4]).toMatchObject({ csat: { mean: null, n: 0 }, nps: null });
    expect(Object.fromEntries(Object.entries(o.byFeedback).map(([g, s]) => [g, s.calls]))).toEqual({ used: 1, dismissed: 1, 'no-feedback': 1, 'no-prompts': 1 });
    expect(o.byFeedback.used.csat.mean).toBe(5);
    expect(o.byFeedback.dismissed).toMatchObject({ csat: { mean: 2, n: 1 }, nps: -100, recoveryMs: { mean: 40_000, n: 1 } });
    expect(o.byScript).toEqual([
      { scriptId: 'A', sent: 2, used: 1, dismissed: 1, csatWhenUsed: { mean: 5, n: 1 } },
      { scriptId: 'B', sent: 2, used: 0, dismissed: 1, csatWhenUsed: { mean: null, n: 0 } },
    ]);

    const svg = await readFile(svgPath, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('4 calls');
    expect(svg).toContain('5.00 (n 1)');
    expect(svg).toContain('prompts dismissed, none used');

    const text = formatCallOutcomes(o);
    expect(text).toMatch(/all calls\s+4 {2}3\.67 \(3\)/);

    // Without --since the old call counts too.
    expect((await buildReport({ redisUrl: REDIS_URL, namespace, since: null, svgPath })).total.calls).toBe(5);
  });
});
