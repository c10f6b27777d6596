import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createCallerScoreBaseline,
  scoreCallWindows,
  type CallerScoreBaselineSpec,
} from '../../src/model/caller-score-baseline.js';
import type { EmotionScores } from '../../src/model/types.js';

interface Fixture {
  spec: CallerScoreBaselineSpec;
  raw: { emotion: number[][]; anger: number[]; agitation: number[]; arousal: number[] };
  relative: { emotion: number[][]; anger: number[]; arousal: number[] };
}

/** Written by models/training/make_caller_scores_fixture.py from caller_scores.py (the training side). */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/caller-score-baseline.json', import.meta.url), 'utf8'),
) as Fixture;

function scoresOf(emotion: readonly number[], anger: number, extra: Partial<EmotionScores> = {}): EmotionScores {
  return {
    neutral: emotion[0]!,
    anger: emotion[1]!,
    happiness: emotion[2]!,
    sadness: emotion[3]!,
    arousal: 0.4,
    agitation: anger,
    angerVsRest: anger,
    ...extra,
  };
}

const SPEC: CallerScoreBaselineSpec = {
  priorWindows: 20,
  strength: 1,
  reference: { emotionLogProbs: [-1.2, -1.6, -1.5, -1.3], angerLogit: -1.1 },
};

describe('caller score baseline', () => {
  it('matches the training-side implementation (caller_scores.py) window by window', () => {
    const baseline = createCallerScoreBaseline(fixture.spec);
    fixture.raw.emotion.forEach((e, i) => {
      const out = baseline.apply(
        scoresOf(e, fixture.raw.anger[i]!, { arousal: fixture.raw.arousal[i]!, agitation: fixture.raw.agitation[i]! }),
      );
      const want = fixture.relative.emotion[i]!;
      expect([out.neutral, out.anger, out.happiness, out.sadness].map((v, k) => v - want[k]!)).toEqual(
        want.map(() => expect.closeTo(0, 5)),
      );
      expect(out.angerVsRest).toBeCloseTo(fixture.relative.anger[i]!, 5);
      expect(out.arousal).toBeCloseTo(fixture.relative.arousal[i]!, 5);
    });
  });

  it('leaves the first window alone, and agitation always (and arousal without arousalFromEmotion)', () => {
    const baseline = createCallerScoreBaseline(SPEC);
    const first = scoresOf([0.1, 0.2, 0.1, 0.6], 0.3, { arousal: 0.9, agitation: 0.77 });
    const out = baseline.apply(first);
    expect(out.sadness).toBeCloseTo(0.6, 6);
    expect(out.angerVsRest).toBeCloseTo(0.3, 6);
    for (let i = 0; i < 50; i++) {
      const later = baseline.apply(first);
      expect(later.arousal).toBe(0.9);
      expect(later.agitation).toBe(0.77);
    }
  });

  it('judges a caller against their own norm: a constant lean fades, a change stands out', () => {
    const baseline = createCallerScoreBaseline(SPEC);
    // A caller the model always hears as rather sad and a little angry.
    const usual = scoresOf([0.2, 0.2, 0.1, 0.5], 0.45);
    let last = baseline.apply(usual);
    for (let i = 0; i < 60; i++) last = baseline.apply(usual);
    expect(last.sadness).toBeLessThan(0.5);
    expect(last.angerVsRest!).toBeLessThan(0.45);
    const sumsToOne = last.neutral + last.anger + last.happiness + last.sadness;
    expect(sumsToOne).toBeCloseTo(1, 9);
    // The same raw anger probability reads higher for a caller whose norm is calm.
    const calm = createCallerScoreBaseline(SPEC);
    for (let i = 0; i < 60; i++) calm.apply(scoresOf([0.6, 0.1, 0.2, 0.1], 0.1));
    const spike = scoresOf([0.3, 0.4, 0.1, 0.2], 0.6);
    expect(calm.apply(spike).angerVsRest!).toBeGreaterThan(createCallerScoreBaseline(SPEC).apply(spike).angerVsRest!);
  });

  it('with angerFromAgitation, a caller angry for the whole call is not judged against an angry norm', () => {
    // Every window the same: anger head and agitation head both lean angry.
    const angry = scoresOf([0.1, 0.6, 0.2, 0.1], 0.8, { agitation: 0.85 });
    const relativeOnly = createCallerScoreBaseline(SPEC);
    const blended = createCallerScoreBaseline({ ...SPEC, angerFromAgitation: 0.5 });
    let r = relativeOnly.apply(angry);
    let b = blended.apply(angry);
    for (let i = 0; i < 60; i++) {
      r = relativeOnly.apply(angry);
      b = blended.apply(angry);
    }
    // Re-centred alone, 30 s of steady anger reads as this caller's normal.
    expect(r.angerVsRest!).toBeLessThan(0.5);
    expect(b.angerVsRest!).toBeGreaterThan(0.5);
    // The blend is in log-odds: half the re-centred anger head, half agitation as it comes.
    const logit = (p: number): number => Math.log(p / (1 - p));
    const want = 1 / (1 + Math.exp(-(0.5 * logit(r.angerVsRest!) + 0.5 * logit(0.85))));
    expect(b.angerVsRest!).toBeCloseTo(want, 9);
    // The four-way mix and agitation itself are untouched by the blend.
    expect(b.anger).toBeCloseTo(r.anger, 12);
    expect(b.agitation).toBe(0.85);
    // At strength 0 the blend still applies (nothing is re-centred).
    const blendOnly = createCallerScoreBaseline({ ...SPEC, strength: 0, angerFromAgitation: 0.5 }).apply(angry);
    expect(blendOnly.angerVsRest!).toBeCloseTo(1 / (1 + Math.exp(-(0.5 * logit(0.8) + 0.5 * logit(0.85)))), 9);
    expect(blendOnly.sadness).toBeCloseTo(0.1, 6);
  });

  it('passes a window with non-finite scores through without learning from it', () => {
    const clean = createCallerScoreBaseline(SPEC);
    const dirty = createCallerScoreBaseline(SPEC);
    const usual = scoresOf([0.2, 0.2, 0.1, 0.5], 0.45);
    for (let i = 0; i < 10; i++) {
      clean.apply(usual);
      dirty.apply(usual);
    }
    const broken = scoresOf([Number.NaN, 0.2, 0.1, 0.5], Number.NaN);
    expect(dirty.apply(broken)).toBe(broken);
    expect(dirty.apply(usual)).toEqual(clean.apply(usual));
  });

  it('passes scores through unchanged without a card section or at strength 0', () => {
    const s = scoresOf([0.1, 0.7, 0.1, 0.1], 0.8);
    for (const b of [createCallerScoreBaseline(undefined), createCallerScoreBaseline({ ...SPEC, strength: 0 })]) {
      for (let i = 0; i < 30; i++) expect(b.apply(s)).toEqual(s);
    }
  });

  it('scoreCallWindows runs one baseline across batches, in call order', async () => {
    const vectors = fixture.raw.emotion.map((_, i) => Float32Array.of(i));
    const model = {
      callerScoreBaseline: fixture.spec,
      score: async (batch: readonly Float32Array[]) =>
        batch.map((v) =>
          scoresOf(fixture.raw.emotion[v[0]!]!, fixture.raw.anger[v[0]!]!, { agitation: fixture.raw.agitation[v[0]!]! }),
        ),
    };
    const out = await scoreCallWindows(model, vectors, 7);
    expect(out.map((s) => s.angerVsRest)).toEqual(fixture.relative.anger.map((a) => expect.closeTo(a, 5)));
  });
});
