/**
 * Times `EmotionModel.score` as the synchronous work it is, without the wait
 * before it.
 *
 * onnxruntime-node's `session.run` defers the (synchronous, native) run to a
 * `setImmediate`; timing around the `await` would also count whatever the
 * event loop did before that immediate fired (other calls' sockets, under
 * load: a lot). So a marker immediate is queued just before `score` is
 * called: immediates run in order, so the marker fires right before the run,
 * and the promise settles in the run's own callback. The figure is the
 * synchronous part of `score` (tensor packing) plus marker → settled.
 * (A test fake that settles on something else counts its wait too.)
 */
import type { EmotionModel, EmotionScores } from '../model/types.js';

export interface MeasuredScores {
  scores: EmotionScores[];
  /** Synchronous time spent scoring, ms. */
  ms: number;
}

export async function scoreMeasured(model: Pick<EmotionModel, 'score'>, batch: readonly Float32Array[]): Promise<MeasuredScores> {
  let runFrom = -1;
  const marker = setImmediate(() => {
    runFrom = performance.now();
  });
  const t0 = performance.now();
  let pending: Promise<EmotionScores[]>;
  try {
    pending = model.score(batch);
  } catch (error) {
    clearImmediate(marker);
    throw error;
  }
  const syncMs = performance.now() - t0;
  try {
    const scores = await pending;
    const settled = performance.now();
    return { scores, ms: syncMs + (runFrom < 0 ? 0 : settled - runFrom) };
  } finally {
    clearImmediate(marker);
  }
}
