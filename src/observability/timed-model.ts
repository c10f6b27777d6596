/**
 * The shared model with each `score` call timed into
 * `undertone_inference_seconds`. A Proxy rather than a copy, so fields the
 * model gains later (card options, trackers) pass through untouched.
 */
import type { EmotionModel } from '../model/types.js';
import type { Metrics } from './metrics.js';

export function timedModel<M extends EmotionModel>(model: M, metrics: Metrics): M {
  const score: EmotionModel['score'] = async (batch) => {
    const stop = metrics.inferenceSeconds.startTimer();
    try {
      return await model.score(batch);
    } finally {
      stop();
    }
  };
  return new Proxy(model, {
    get(target, prop) {
      if (prop === 'score') return score;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
