/**
 * The simulated calls of the agitation validation (issue 8), per unseen
 * speaker: what real calls look like, one emotion at a time, rather than a
 * speaker's whole corpus shuffled into one call.
 *
 * | kind            | content                                                        | what counts                         |
 * |-----------------|----------------------------------------------------------------|-------------------------------------|
 * | neutral         | ~40 s neutral                                                  | any prompt is a false alarm         |
 * | excited         | neutral, happiness, neutral, surprise (else happiness), neutral | any prompt is a false alarm         |
 * | low             | neutral, sadness, neutral, fear (else sadness), neutral         | any prompt is a false alarm         |
 * | calm-then-angry | ~25 s neutral, then ~20 s anger                                | prompt ≤ 6 s after onset; before = FA |
 * | angry           | anger from the first second, ≥ 62 s of clips                   | prompt ≤ 10 s; tier ≥ 2 at 60 s      |
 *
 * Clips are drawn per label in a seeded shuffled order; a label whose clips
 * run out before its stretch is long enough is reshuffled and drawn again
 * (kor and ravdess speakers have 5–12 clips per label, so a 60-s angry call
 * repeats some; the two draws never put the same clip back to back).
 */
import { createRng, hashString } from './augment.js';
import { ClipDrawer } from './clip-drawer.js';
import type { ManifestClip } from './manifest.js';

export const VALIDATION_KINDS = ['neutral', 'excited', 'low', 'calm-then-angry', 'angry'] as const;
export type ValidationKind = (typeof VALIDATION_KINDS)[number];

/** One stretch of a call: a label (with a fallback when the speaker has none) and its length. */
interface Stretch {
  label: string;
  fallback?: string;
  seconds: number;
}

/** The calls' make-up; lengths are seconds of clip audio (pauses come on top). */
export const VALIDATION_CALLS: Readonly<Record<ValidationKind, readonly Stretch[]>> = {
  neutral: [{ label: 'neutral', seconds: 40 }],
  excited: [
    { label: 'neutral', seconds: 12 },
    { label: 'happiness', seconds: 10 },
    { label: 'neutral', seconds: 8 },
    { label: 'surprise', fallback: 'happiness', seconds: 10 },
    { label: 'neutral', seconds: 8 },
  ],
  low: [
    { label: 'neutral', seconds: 12 },
    { label: 'sadness', seconds: 10 },
    { label: 'neutral', seconds: 8 },
    { label: 'fear', fallback: 'sadness', seconds: 10 },
    { label: 'neutral', seconds: 8 },
  ],
  'calm-then-angry': [
    { label: 'neutral', seconds: 25 },
    { label: 'anger', seconds: 20 },
  ],
  angry: [{ label: 'anger', seconds: 62 }],
};

/** Clips of a label a speaker needs before their calls use it. */
const MIN_CLIPS = 3;

export interface ValidationCallPlan {
  corpus: string;
  speaker: string;
  kind: ValidationKind;
  clips: ManifestClip[];
  /** Index of the first anger clip (calm-then-angry, angry); −1 when none. */
  onsetClip: number;
}

/**
 * Every validation call the speaker's clips allow (all five kinds for a
 * speaker with neutral and anger clips and at least one of the stretch
 * labels), deterministic for the same clips.
 */
export function planSpeakerCalls(corpus: string, speaker: string, clips: readonly ManifestClip[]): ValidationCallPlan[] {
  const byLabel = new Map<string, ManifestClip[]>();
  for (const c of clips) {
    if (!c.label) continue;
    let l = byLabel.get(c.label);
    if (!l) byLabel.set(c.label, (l = []));
    l.push(c);
  }
  const has = (label: string): boolean => (byLabel.get(label)?.length ?? 0) >= MIN_CLIPS;
  const out: ValidationCallPlan[] = [];
  for (const kind of VALIDATION_KINDS) {
    const stretches = VALIDATION_CALLS[kind].map((s) => ({ ...s, label: has(s.label) ? s.label : (s.fallback ?? s.label) }));
    if (!stretches.every((s) => has(s.label))) continue;
    const drawers = new Map<string, ClipDrawer>();
    const list: ManifestClip[] = [];
    let onsetClip = -1;
    for (const s of stretches) {
      let d = drawers.get(s.label);
      if (!d) {
        const seed = `${speaker}:${kind}:${s.label}`;
        drawers.set(s.label, (d = new ClipDrawer(byLabel.get(s.label)!, (round) => createRng(hashString(`${seed}:${round}`)))));
      }
      if (s.label === 'anger' && onsetClip < 0) onsetClip = list.length;
      list.push(...d.take(s.seconds));
    }
    out.push({ corpus, speaker, kind, clips: list, onsetClip });
  }
  return out;
}

/** The calls of every speaker of `corpora`, sorted by corpus, speaker, kind. */
export function planValidationCalls(clips: readonly ManifestClip[], corpora: readonly string[]): ValidationCallPlan[] {
  const out: ValidationCallPlan[] = [];
  for (const corpus of corpora) {
    const bySpeaker = new Map<string, ManifestClip[]>();
    for (const c of clips) {
      if (c.corpus !== corpus || !c.speaker) continue;
      let l = bySpeaker.get(c.speaker);
      if (!l) bySpeaker.set(c.speaker, (l = []));
      l.push(c);
    }
    for (const speaker of [...bySpeaker.keys()].sort()) out.push(...planSpeakerCalls(corpus, speaker, bySpeaker.get(speaker)!));
  }
  return out;
}
