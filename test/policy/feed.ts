import type { EmotionLabel, EmotionScores } from '../../src/model/types.js';
import type { EscalationPolicy } from '../../src/policy/escalation-policy.js';
import type { PolicyEvent } from '../../src/policy/types.js';

/** Scores with the given agitation; the class probabilities lean to `emotion` in proportion. */
export function scores(agitation: number, emotion: EmotionLabel = 'anger'): EmotionScores {
  const lead = 0.25 + 0.6 * agitation;
  const rest = (1 - lead) / 3;
  const s: EmotionScores = { neutral: rest, anger: rest, happiness: rest, sadness: rest, arousal: agitation, agitation };
  s[emotion] = lead;
  return s;
}

/** Deterministic pseudo-random noise in [-1, 1] (LCG), so "noisy" tests are reproducible. */
export function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 0xffffffff) * 2 - 1;
  };
}

export interface Window {
  audioMs: number;
  agitation: number;
  emotion?: EmotionLabel;
}

/** Windows every `hopMs` from `startMs`, agitation from `level(audioMs)`. */
export function windows(fromMs: number, toMs: number, level: (audioMs: number) => number, hopMs = 500): Window[] {
  const out: Window[] = [];
  for (let t = fromMs; t <= toMs; t += hopMs) out.push({ audioMs: t, agitation: level(t) });
  return out;
}

export function feed(policy: EscalationPolicy, input: readonly Window[]): PolicyEvent[] {
  const events: PolicyEvent[] = [];
  for (const w of input) events.push(...policy.observe(scores(w.agitation, w.emotion), w.audioMs));
  return events;
}

/** Compact view for assertions: `priority 1→2 @12500`, `recovered 2→1 @30000`, `handover 3→4 @40000`, `prompt t2 @12500`. */
export function summary(events: readonly PolicyEvent[]): string[] {
  return events.map((e) =>
    e.type === 'prompt' ? `prompt t${e.tier} @${e.audioMs}` : `${e.type} ${e.previousTier}→${e.tier} @${e.audioMs}`,
  );
}
