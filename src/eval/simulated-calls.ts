/**
 * Simulated calls for checking the model and the policy on labelled corpora:
 * pick a speaker's clips by label for a target length (seeded), stream the
 * call through the live path (call assembly → decoder → CallerFeatureStream)
 * and score its windows with an emotion model. Shared by
 * scripts/simulate-call.ts and scripts/calibrate-policy.ts.
 */
import path from 'node:path';
import { createDecoder } from '../audio/decoder.js';
import { createCallerFeatureStream } from '../features/caller-feature-stream.js';
import { PIPELINE_SAMPLE_RATE, type FeatureWindow } from '../features/types.js';
import type { EmotionModel, EmotionScores } from '../model/types.js';
import { scoreCallWindows } from '../model/caller-score-baseline.js';
import { createRng, hashString, shuffle } from './augment.js';
import { streamCall, type CallPlan, type StreamedCall } from './call-assembly.js';
import type { ManifestClip } from './manifest.js';

/** One scored window on the call's audio clock, as the policy is fed it. */
export interface ScoredCallWindow {
  /** Window end, ms of audio since the call started (the policy's `audioMs`). */
  audioMs: number;
  scores: EmotionScores;
}

export interface ScoredCall {
  res: StreamedCall;
  windows: ScoredCallWindow[];
}

/**
 * Up to about `seconds` of clips from `clips`, in a seeded shuffled order
 * (stable for the same clips and seed): clips are added until the total
 * reaches `seconds`, so the result may run over by one clip.
 */
export function pickClips(clips: readonly ManifestClip[], seconds: number, seed: string): ManifestClip[] {
  const rng = createRng(hashString(seed));
  const pool = shuffle([...clips].sort((a, b) => a.index - b.index), rng);
  const out: ManifestClip[] = [];
  let total = 0;
  for (const c of pool) {
    if (total >= seconds) break;
    out.push(c);
    total += c.durationS;
  }
  return out;
}

/** Clips with a speaker, grouped by speaker id (optionally of one corpus only). */
export function clipsBySpeaker(clips: readonly ManifestClip[], corpus?: string): Map<string, ManifestClip[]> {
  const bySpeaker = new Map<string, ManifestClip[]>();
  for (const c of clips) {
    if (!c.speaker || (corpus && c.corpus !== corpus)) continue;
    let list = bySpeaker.get(c.speaker);
    if (!list) bySpeaker.set(c.speaker, (list = []));
    list.push(c);
  }
  return bySpeaker;
}

/**
 * Streams a call through the live path and scores every window it produces.
 * `trackAgitation` false leaves the model's absolute agitation in place of
 * the per-call tracked one (for tools that replay the tracker themselves).
 */
export async function scoreCall(model: EmotionModel, plan: CallPlan, pauseS: number, trackAgitation = true): Promise<ScoredCall> {
  const res = await streamCall(plan, { pauseS });
  // Onsets are found by clip position: every clip must be there.
  if (res.unreadable.length > 0) {
    throw new Error(`call ${plan.id}: ${res.unreadable.length} clip(s) unreadable: ${res.unreadable[0]!.reason}`);
  }
  const scores = await scoreCallWindows(model, res.windows.map((w) => w.window.values), 512, trackAgitation);
  const windows = res.windows.map((w, i) => ({
    audioMs: (w.window.endSample / PIPELINE_SAMPLE_RATE) * 1000,
    scores: scores[i]!,
  }));
  return { res, windows };
}

/** Where a call's i-th clip starts, ms of audio. */
export function clipStartMs(res: StreamedCall, clipIndex: number): number {
  return (res.spans[clipIndex]!.startSample / PIPELINE_SAMPLE_RATE) * 1000;
}

/** Paths of the leave-one-corpus-out model that did not see `corpus`, in `dir`. */
export function locoModelPaths(dir: string, corpus: string): { modelPath: string; cardPath: string } {
  return { modelPath: path.join(dir, `loco-${corpus}.onnx`), cardPath: path.join(dir, `loco-${corpus}.json`) };
}

/**
 * Streams a whole call's mu-law bytes (e.g. a demo fixture) through the live
 * path in 20-ms payloads and scores its windows; the extractor's last,
 * shorter window is kept, as offline tools do.
 */
export async function scoreMuLawCall(model: EmotionModel, muLaw: Uint8Array, trackAgitation = true): Promise<ScoredCallWindow[]> {
  const decode = createDecoder({ encoding: 'pcmu', sampleRate: PIPELINE_SAMPLE_RATE });
  const stream = createCallerFeatureStream();
  const windows: FeatureWindow[] = [];
  for (let at = 0; at < muLaw.length; at += 160) windows.push(...stream.push(decode(muLaw.subarray(at, at + 160))));
  windows.push(...stream.flush());
  const scores = await scoreCallWindows(model, windows.map((w) => w.values), 512, trackAgitation);
  return windows.map((w, i) => ({ audioMs: (w.endSample / PIPELINE_SAMPLE_RATE) * 1000, scores: scores[i]! }));
}
