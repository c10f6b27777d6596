/**
 * Training calls shaped like real calls (issue 8), instead of one call per
 * speaker holding the whole corpus in a balanced shuffle.
 *
 * A real caller is mostly one way for a long stretch: calm, or angry from
 * the first second, or calm and then upset. When every training call is a
 * balanced mix, the caller-relative features (`rel_*`) learn "anger = a
 * departure from a mix of everything", and a caller who is angry throughout
 * looks like their own norm. So per speaker, for every label L the speaker
 * has clips of:
 *
 * - **one-emotion call**: all of the speaker's L clips, L from the first
 *   second (for anger: the angry-from-the-start caller; for neutral: the
 *   calm caller whose whole call must stay silent);
 * - **calm→L calls** (L ≠ neutral): the L clips cut into stretches of about
 *   `stretchS` seconds, each after a neutral lead-in of `leadInS` seconds
 *   drawn from the speaker's neutral clips (reshuffled as they run out), so
 *   the relative features see an onset against a calm norm, as on a call
 *   that turns angry.
 *
 * Every clip appears in its one-emotion call and once more after a calm
 * lead-in; neutral clips recur as lead-ins. A window's label share is then
 * counted per label (src/eval/call-assembly.ts `labelWindow`): a window that
 * straddles two anger clips is all anger, not a 50 % mixture to be dropped.
 * Speakers without neutral clips get one-emotion calls only.
 */
import { createRng, hashString, shuffle } from './augment.js';
import { ClipDrawer } from './clip-drawer.js';
import { groupBySpeaker, type CallPlan } from './call-assembly.js';
import type { ManifestClip } from './manifest.js';

export interface EpisodeOptions {
  /** Seed of every draw; same seed, same calls. Default 1. */
  seed?: number;
  /** Length of an emotional stretch after a calm lead-in, seconds of clip audio. Default 12. */
  stretchS?: number;
  /** Range of the neutral lead-in, seconds of clip audio. Default [8, 25]. */
  leadInS?: readonly [number, number];
}

/** The episode calls of one speaker's clips (labelled clips only), deterministic for the same clips. */
export function planSpeakerEpisodes(speaker: string, clips: readonly ManifestClip[], options: EpisodeOptions = {}): CallPlan[] {
  const seed = options.seed ?? 1;
  const stretchS = options.stretchS ?? 12;
  const [leadMin, leadMax] = options.leadInS ?? [8, 25];
  const rng = createRng(hashString(`${seed}:${speaker}:episodes`));
  const byLabel = new Map<string, ManifestClip[]>();
  for (const c of [...clips].sort((a, b) => a.index - b.index)) {
    const label = c.label || `arousal-${c.arousal}`;
    let l = byLabel.get(label);
    if (!l) byLabel.set(label, (l = []));
    l.push(c);
  }
  const neutral = byLabel.get('neutral');
  // One PRNG for every draw of the speaker, lead-ins included.
  const lead = neutral && neutral.length > 0 ? new ClipDrawer(neutral, () => rng) : undefined;
  const calls: CallPlan[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const pool = shuffle([...byLabel.get(label)!], rng);
    calls.push({ id: `${speaker}/${label}`, speaker, clips: pool });
    if (!lead || label === 'neutral' || label.startsWith('arousal-')) continue;
    let part = 0;
    for (let at = 0; at < pool.length; part++) {
      const stretch: ManifestClip[] = [];
      let total = 0;
      while (at < pool.length && total < stretchS) {
        stretch.push(pool[at]!);
        total += Math.max(pool[at]!.durationS, 0.1);
        at++;
      }
      const leadS = leadMin + rng() * (leadMax - leadMin);
      calls.push({ id: `${speaker}/neutral→${label}/${part}`, speaker, clips: [...lead.take(leadS), ...stretch] });
    }
  }
  return calls;
}

/**
 * Episode calls for a whole manifest: speakers in sorted order (clips
 * without a speaker are calls of their own, as in `planCalls`).
 */
export function planEpisodeCalls(clips: readonly ManifestClip[], options: EpisodeOptions = {}): CallPlan[] {
  const { bySpeaker, alone } = groupBySpeaker(clips);
  const calls: CallPlan[] = [];
  for (const s of [...bySpeaker.keys()].sort()) calls.push(...planSpeakerEpisodes(s, bySpeaker.get(s)!, options));
  return [...calls, ...alone];
}
