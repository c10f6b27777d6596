import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURE_CONFIG, FEATURE_NAMES } from '../../src/features/feature-names.js';
import { describeFeatureMismatch, parseModelCard } from '../../src/model/model-card.js';
import { ModelError } from '../../src/shared/errors.js';

const cardJson = JSON.parse(readFileSync(new URL('../../models/emotion.json', import.meta.url), 'utf8')) as unknown;

describe('committed model card', () => {
  const card = parseModelCard(cardJson);

  it('lists exactly the extractor FEATURE_NAMES, in order (a stale model fails here)', () => {
    expect(card.featureCount).toBe(FEATURE_NAMES.length);
    expect(card.featureNames).toEqual([...FEATURE_NAMES]);
    expect(describeFeatureMismatch(card.featureNames, FEATURE_NAMES)).toBeUndefined();
    expect(card.featureConfigVersion).toBe(FEATURE_CONFIG.version);
  });

  it('documents labels, outputs, agitation, licences and validation', () => {
    expect(card.labels.emotion).toEqual(['neutral', 'anger', 'happiness', 'sadness']);
    expect(Object.keys(card.outputs)).toEqual(
      expect.arrayContaining(['emotion_probs', 'anger_prob', 'arousal_probs', 'arousal', 'agitation']),
    );
    expect(card.agitation.formula).toMatch(/agitation =/);
    expect(card.callerScoreBaseline?.strength).toBeGreaterThan(0);
    expect(card.licenceNotice).toMatch(/non-commercial/);
    expect(card.training.corpora.length).toBeGreaterThan(0);
    for (const c of card.training.corpora) expect(c.licence).toBeTruthy();
    expect(card.window.sampleRate).toBe(8000);
    expect(card.normalisation.mean).toHaveLength(FEATURE_NAMES.length);
  });
});

describe('describeFeatureMismatch', () => {
  it('names missing and extra features', () => {
    const msg = describeFeatureMismatch(['a', 'b', 'x'], ['a', 'b', 'c', 'd']);
    expect(msg).toContain('model expects 3 features, the extractor produces 4');
    expect(msg).toContain('not in the model card: c, d');
    expect(msg).toContain('not produced by the extractor: x');
  });

  it('names reordered features', () => {
    const msg = describeFeatureMismatch(['a', 'c', 'b'], ['a', 'b', 'c']);
    expect(msg).toContain("#1: card 'c' vs extractor 'b'");
  });
});

describe('parseModelCard', () => {
  it('lists every problem at once', () => {
    let err: unknown;
    try {
      parseModelCard({ name: 'x', featureNames: ['a', 'a'], featureCount: 3 }, 'card.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    const msg = (err as ModelError).message;
    expect((err as ModelError).code).toBe('UT_ERR_MODEL');
    expect(msg).toContain("'version' must be a non-empty string");
    expect(msg).toContain("'featureCount' (3) differs from featureNames.length (2)");
    expect(msg).toContain("'featureNames' has duplicates");
    expect(msg).toContain("'outputs' must be an object");
  });

  it('rejects a malformed caller score baseline and accepts the committed one', () => {
    const good = parseModelCard(cardJson);
    expect(good.callerScoreBaseline?.reference.emotionLogProbs).toHaveLength(4);
    const bad = { ...(cardJson as Record<string, unknown>), callerScoreBaseline: { priorWindows: -1, strength: 1, reference: {} } };
    expect(() => parseModelCard(bad, 'card.json')).toThrow(/'callerScoreBaseline' must be/);
    const blend = (v: unknown) => ({
      ...(cardJson as Record<string, unknown>),
      callerScoreBaseline: { ...(cardJson as { callerScoreBaseline: object }).callerScoreBaseline, angerFromAgitation: v },
    });
    expect(parseModelCard(blend(0.5)).callerScoreBaseline?.angerFromAgitation).toBe(0.5);
    expect(() => parseModelCard(blend(1.5), 'card.json')).toThrow(/angerFromAgitation\? 0\.\.1/);
    expect(() => parseModelCard(blend('half'), 'card.json')).toThrow(/'callerScoreBaseline' must be/);
  });
});
