/**
 * From scored windows to one prediction per clip: the mean of the
 * probabilities of the windows that clearly belong to the clip (one clip
 * holds ≥ `minShare` of the window's clip audio); a clip with no such window
 * falls back to the windows it overlaps most. Clips with no window at all
 * (too short or too quiet for the extractor) stay unscored.
 */
import type { EmotionScores } from '../model/types.js';
import type { ManifestClip } from './manifest.js';
import type { ClipPrediction } from './metrics.js';

export interface ScoredClipWindow {
  clip: ManifestClip;
  share: number;
  scores: EmotionScores;
}

export interface ClipResult extends ClipPrediction {
  clip: ManifestClip;
  windows: number;
}

function mean(scores: readonly EmotionScores[]): Omit<ClipPrediction, 'label' | 'arousal'> {
  const n = scores.length;
  const emotion = [0, 0, 0, 0];
  let anger = 0;
  let arousal = 0;
  let agitation = 0;
  for (const s of scores) {
    emotion[0]! += s.neutral;
    emotion[1]! += s.anger;
    emotion[2]! += s.happiness;
    emotion[3]! += s.sadness;
    // Without the binary head (other producers), fall back to the policy's input.
    anger += s.angerVsRest ?? s.agitation;
    arousal += s.arousal;
    // The model's own per-window agitation, before any per-call tracking.
    agitation += s.absoluteAgitation ?? s.agitation;
  }
  return { emotion: emotion.map((v) => v / n), angerVsRest: anger / n, arousalValue: arousal / n, agitation: agitation / n };
}

/** Aggregates scored windows per clip; returns scored clips (manifest order) and the unscored ones. */
export function aggregateClips(
  clips: readonly ManifestClip[],
  windows: readonly ScoredClipWindow[],
  minShare = 0.75,
): { scored: ClipResult[]; unscored: ManifestClip[] } {
  const clear = new Map<number, EmotionScores[]>();
  const loose = new Map<number, EmotionScores[]>();
  for (const w of windows) {
    const map = w.share >= minShare ? clear : loose;
    let list = map.get(w.clip.index);
    if (!list) map.set(w.clip.index, (list = []));
    list.push(w.scores);
  }
  const scored: ClipResult[] = [];
  const unscored: ManifestClip[] = [];
  for (const clip of clips) {
    const list = clear.get(clip.index) ?? loose.get(clip.index);
    if (!list || list.length === 0) {
      unscored.push(clip);
      continue;
    }
    scored.push({ clip, label: clip.label, arousal: clip.arousal, windows: list.length, ...mean(list) });
  }
  return { scored, unscored };
}
