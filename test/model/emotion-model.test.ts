import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/features/feature-names.js';
import { loadEmotionModel, type LoadedEmotionModel } from '../../src/model/emotion-model.js';
import { ModelError } from '../../src/shared/errors.js';

const modelPath = fileURLToPath(new URL('../../models/emotion.onnx', import.meta.url));
const cardPath = fileURLToPath(new URL('../../models/emotion.json', import.meta.url));

/** Feature vectors near the training distribution: the card's mean ± k·std. */
function vectors(model: LoadedEmotionModel, ks: number[]): Float32Array[] {
  const { mean, std } = model.card.normalisation;
  return ks.map((k, j) =>
    Float32Array.from(mean, (m, i) => m + k * std[i]! * (((i + j) % 3) - 1)),
  );
}

describe('loadEmotionModel', () => {
  let model: LoadedEmotionModel;
  beforeAll(async () => {
    model = await loadEmotionModel({ modelPath, cardPath });
  });
  afterAll(async () => {
    await model.close();
  });

  it('exposes the card feature names and version', () => {
    expect(model.featureNames).toEqual([...FEATURE_NAMES]);
    expect(model.version).toBe(model.card.version);
  });

  it('scores a batch: four-way probabilities sum to 1, every score in 0..1', async () => {
    const batch = vectors(model, [0, 1, -1, 3, -3, 10]);
    const scores = await model.score(batch);
    expect(scores).toHaveLength(batch.length);
    for (const s of scores) {
      expect(s.neutral + s.anger + s.happiness + s.sadness).toBeCloseTo(1, 5);
      for (const v of [s.neutral, s.anger, s.happiness, s.sadness, s.arousal, s.agitation, s.angerVsRest!]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    // Different inputs give different outputs (the graph is not constant).
    expect(new Set(scores.map((s) => s.agitation.toFixed(6))).size).toBeGreaterThan(1);
    if (model.card.agitationTracker) {
      // Issue 8: agitation is its own head (no caller-relative inputs), not a mix of the anger head and arousal.
      expect(scores.some((s) => Math.abs(s.agitation - s.angerVsRest!) > 1e-3)).toBe(true);
      expect(Number.isFinite(model.agitationTracker!.calmLogit)).toBe(true);
    } else {
      // Older cards: agitation follows the card's formula.
      const { angerWeight, arousalWeight } = model.card.agitation;
      for (const s of scores) expect(s.agitation).toBeCloseTo(angerWeight * s.angerVsRest! + arousalWeight * s.arousal, 5);
    }
  });

  it('scores the same vector the same alone or in a batch', async () => {
    const [a, b] = vectors(model, [1, 2]);
    const [alone] = await model.score([b!]);
    const [, inBatch] = await model.score([a!, b!]);
    expect(inBatch!.agitation).toBeCloseTo(alone!.agitation, 6);
    expect(await model.score([])).toEqual([]);
  });

  it('rejects a vector of the wrong length with ModelError', async () => {
    await expect(model.score([new Float32Array(3)])).rejects.toBeInstanceOf(ModelError);
  });
});

describe('loadEmotionModel failures', () => {
  it('fails with ModelError for a missing model file', async () => {
    await expect(loadEmotionModel({ modelPath: '/nonexistent/emotion.onnx', cardPath })).rejects.toThrow(ModelError);
  });

  it('fails with ModelError for a corrupt model file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-model-'));
    const bad = path.join(dir, 'emotion.onnx');
    await writeFile(bad, Buffer.from('this is not an onnx model'));
    await expect(loadEmotionModel({ modelPath: bad, cardPath })).rejects.toThrow(/cannot load ONNX model/);
  });

  it('fails with ModelError for a missing or non-JSON card', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-model-'));
    await expect(loadEmotionModel({ modelPath, cardPath: path.join(dir, 'none.json') })).rejects.toThrow(ModelError);
    const bad = path.join(dir, 'card.json');
    await writeFile(bad, '{ not json');
    await expect(loadEmotionModel({ modelPath, cardPath: bad })).rejects.toThrow(/not valid JSON/);
  });

  it('fails loudly when the card was trained on other features (stale model)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-model-'));
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { featureNames: string[]; featureCount: number };
    card.featureNames = [...card.featureNames.slice(0, -1), 'old_feature'];
    const stale = path.join(dir, 'card.json');
    await writeFile(stale, JSON.stringify(card));
    const err = await loadEmotionModel({ modelPath, cardPath: stale }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toContain('not produced by the extractor: old_feature');
    expect((err as Error).message).toContain(`not in the model card: ${FEATURE_NAMES.at(-1)}`);
  });

  it('refuses a model trained on another extractor version (same names, different analysis)', async () => {
    const err = await loadEmotionModel({ modelPath, cardPath, featureConfigVersion: 'ut-features-0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/trained on extractor ut-features-\d+, the running extractor is ut-features-0/);
  });

  it('checks against the feature list it is given', async () => {
    const err = await loadEmotionModel({ modelPath, cardPath, featureNames: ['a', 'b'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/model expects \d+ features, the extractor produces 2/);
  });
});
