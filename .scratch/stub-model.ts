// SCRATCH ONLY: a stand-in so the test mechanics can be checked before the real model lands.
import { FEATURE_NAMES } from '../src/features/feature-names.js';
import { ModelError } from '../src/shared/errors.js';
const i = FEATURE_NAMES.indexOf('rms_db_mean');
export async function loadEmotionModel(o: { modelPath: string }) {
  if (o.modelPath.startsWith('/nonexistent')) throw new ModelError('no model');
  return {
    card: {}, featureNames: FEATURE_NAMES, version: 'stub',
    async score(batch: readonly Float32Array[]) {
      return batch.map((v) => { const a = Math.min(1, Math.max(0, (v[i]! + 36) / 6)); return { neutral: 1 - a, anger: a, happiness: 0, sadness: 0, arousal: a, agitation: a }; });
    },
    async close() {},
  };
}
