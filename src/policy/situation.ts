import type { EmotionLabel } from '../model/types.js';
import type { Situation } from './types.js';

/**
 * Maps what the model hears to the playbook situation. The model knows four
 * emotions and arousal; the playbooks are written for four situations:
 * - anger-sounding, high arousal → `anger`; lower arousal → `frustration`
 *   (impatience: annoyed but not shouting);
 * - sad-sounding, high arousal → `anxiety` (fear is high-arousal negative;
 *   the model has no fear class), low arousal → `sadness` (distress);
 * - agitated while sounding neutral or happy → `frustration` (the usual
 *   case of a tense, clipped caller the four-way head does not call angry).
 */
export function situationFor(emotion: EmotionLabel, arousal: number, arousalSplit: number): Situation {
  const high = arousal >= arousalSplit;
  if (emotion === 'anger') return high ? 'anger' : 'frustration';
  if (emotion === 'sadness') return high ? 'anxiety' : 'sadness';
  return 'frustration';
}
