/**
 * Turns a manifest into calls and streams each call through the live path:
 * mu-law bytes in 20 ms payloads → the project's decoder →
 * createCallerFeatureStream → windows. `train-features`, `eval` and the
 * simulated-call check all use this module, so training sees exactly what a
 * live call produces.
 *
 * A speaker's clips make ONE call, in a seeded shuffled order, separated by
 * short pauses of low-level line noise: the caller baseline builds up over
 * the call as it would live. A clip without a speaker is a call on its own.
 */
import { createDecoder } from '../audio/decoder.js';
import { MU_LAW_TO_FLOAT, floatToMuLaw } from '../audio/g711.js';
import { loadCallAudioAsMuLaw } from '../audio/load-call-audio.js';
import { resampleAll } from '../audio/resample.js';
import { createCallerFeatureStream } from '../features/caller-feature-stream.js';
import { PIPELINE_SAMPLE_RATE, type FeatureWindow } from '../features/types.js';
import { addLineNoise, applyLineCondition, createRng, drawLineCondition, hashString, shuffle } from './augment.js';
import type { ManifestClip } from './manifest.js';

/** One call to assemble: a speaker's clips in playing order. */
export interface CallPlan {
  id: string;
  speaker: string;
  clips: ManifestClip[];
}

export interface PlanCallsOptions {
  /** Seed of the clip order; same seed, same calls. Default 1. */
  seed?: number;
  /**
   * One call per speaker AND label (the arousal level for clips without an
   * emotion label) instead of one per speaker: each caller holds one
   * emotion for the whole call, as on a corpus whose speakers are each
   * angry, or not, throughout (talk shows, real calls), rather than an
   * acted corpus's balanced mix. Default false.
   */
  perLabel?: boolean;
}

/** The call a clip belongs to under `perLabel`: its speaker and its label. */
function labelKey(c: ManifestClip): string {
  return `${c.speaker}~${c.label || `arousal-${c.arousal}`}`;
}

/** Clips by speaker id (or by `key`), and a call of its own for each clip without a speaker. */
export function groupBySpeaker(
  clips: readonly ManifestClip[],
  key: (c: ManifestClip) => string = (c) => c.speaker,
): { bySpeaker: Map<string, ManifestClip[]>; alone: CallPlan[] } {
  const bySpeaker = new Map<string, ManifestClip[]>();
  const alone: CallPlan[] = [];
  for (const c of clips) {
    if (!c.speaker) {
      alone.push({ id: `clip-${c.index}`, speaker: '', clips: [c] });
      continue;
    }
    const k = key(c);
    let list = bySpeaker.get(k);
    if (!list) bySpeaker.set(k, (list = []));
    list.push(c);
  }
  return { bySpeaker, alone };
}

/**
 * Groups clips by speaker into calls (sorted by speaker id; clips without a
 * speaker come last, one call each) and shuffles each call's clips with a
 * seed derived from the seed and the speaker, so adding a speaker does not
 * reorder the others.
 */
export function planCalls(clips: readonly ManifestClip[], options: PlanCallsOptions = {}): CallPlan[] {
  const seed = options.seed ?? 1;
  const { bySpeaker, alone } = groupBySpeaker(clips, options.perLabel === true ? labelKey : undefined);
  const calls: CallPlan[] = [];
  for (const key of [...bySpeaker.keys()].sort()) {
    const list = [...bySpeaker.get(key)!].sort((a, b) => a.index - b.index);
    shuffle(list, createRng(hashString(`${seed}:${key}`)));
    calls.push({ id: key, speaker: list[0]!.speaker, clips: list });
  }
  return [...calls, ...alone];
}

export interface StreamCallOptions {
  /** Pause between clips, seconds. Default 0.6. */
  pauseS?: number;
  /** Line-noise level in the pauses, dBFS RMS. Default −62 (a quiet line). */
  pauseNoiseDbfs?: number;
  /**
   * 0 = the clips as recorded; k > 0 = augmented pass k (gain, line noise,
   * packet loss drawn per call from the seed and k) with its own clip order.
   */
  augmentPass?: number;
  /**
   * Speed perturbation: every clip is played this many times faster (pitch,
   * formants and tempo scaled together, as Kaldi's speed perturbation does),
   * which makes new voices from the corpus's speakers. A pass with a speed
   * other than 1 gets no line condition, so each lever is measured alone.
   * Default 1 (as recorded).
   */
  speed?: number;
  /** Seed for pauses and augmentation. Default 1. */
  seed?: number;
  /** Bytes per push: 160 = 20 ms, as RTP delivers them. */
  payloadBytes?: number;
  /** Loads a clip's mu-law bytes; default reads the WAV file. */
  loadClip?: (clip: ManifestClip) => Promise<Uint8Array>;
  /** Called after each clip is streamed with its length in seconds (progress). */
  onClip?: (seconds: number) => void;
}

/** Where a clip sits on the call's audio clock. */
export interface ClipSpan {
  clip: ManifestClip;
  startSample: number;
  endSample: number;
}

/** A window with the clip it belongs to. */
export interface LabelledWindow {
  window: FeatureWindow;
  /** The clip the window overlaps most; undefined when it overlaps none. */
  clip: ManifestClip | undefined;
  /** That clip's share of the window's clip audio, 0..1 (1 = no other clip in the window). */
  share: number;
  /**
   * The share of the window's clip audio whose clips carry that clip's label
   * (and arousal), 0..1: a window across two anger clips is all anger
   * (training on episode calls keeps it; `share` would call it a mixture).
   */
  labelShare: number;
}

/** A clip that could not be read (missing file, not a WAV, unsupported format). */
export interface UnreadableClip {
  /** Manifest index of the clip. */
  index: number;
  reason: string;
}

export interface StreamedCall {
  plan: CallPlan;
  spans: ClipSpan[];
  windows: LabelledWindow[];
  /** Clips left out of the call because they could not be read; the rest of the call goes on. */
  unreadable: UnreadableClip[];
  /** Audio length of the call, samples. */
  samples: number;
}

/** The order a call is played in for augmented pass k (pass 0 keeps the plan's order). */
function orderForPass(plan: CallPlan, pass: number, seed: number): ManifestClip[] {
  if (pass === 0) return plan.clips;
  return shuffle([...plan.clips], createRng(hashString(`${seed}:${plan.id}:order:${pass}`)));
}

/**
 * Labels a window with the clip it overlaps most. `spans` must be sorted;
 * `from` is a hint (index of the first span that may overlap).
 */
export function labelWindow(window: FeatureWindow, spans: readonly ClipSpan[], from = 0): LabelledWindow {
  let best: ClipSpan | undefined;
  let bestOverlap = 0;
  let total = 0;
  let end = from;
  for (; end < spans.length; end++) {
    const s = spans[end]!;
    if (s.startSample >= window.endSample) break;
    const overlap = Math.min(s.endSample, window.endSample) - Math.max(s.startSample, window.startSample);
    if (overlap <= 0) continue;
    total += overlap;
    if (overlap > bestOverlap) {
      bestOverlap = overlap;
      best = s;
    }
  }
  let sameLabel = 0;
  if (best) {
    for (let i = from; i < end; i++) {
      const s = spans[i]!;
      if (s.clip.label !== best.clip.label || s.clip.arousal !== best.clip.arousal) continue;
      const overlap = Math.min(s.endSample, window.endSample) - Math.max(s.startSample, window.startSample);
      if (overlap > 0) sameLabel += overlap;
    }
  }
  return {
    window,
    clip: best?.clip,
    share: total > 0 ? bestOverlap / total : 0,
    labelShare: total > 0 ? sameLabel / total : 0,
  };
}

/**
 * Streams one call through decoder and feature stream and returns its
 * windows, each labelled with the clip it overlaps most.
 */
export async function streamCall(plan: CallPlan, options: StreamCallOptions = {}): Promise<StreamedCall> {
  const pauseSamples = Math.round((options.pauseS ?? 0.6) * PIPELINE_SAMPLE_RATE);
  const pass = options.augmentPass ?? 0;
  const seed = options.seed ?? 1;
  const payloadBytes = options.payloadBytes ?? 160;
  // Operators' recordings may be PCM at any rate: the loader brings them to the wire format.
  const load = options.loadClip ?? ((c: ManifestClip) => loadCallAudioAsMuLaw(c.file));
  const rng = createRng(hashString(`${seed}:${plan.id}:pass:${pass}`));
  const speed = options.speed ?? 1;
  if (!(speed > 0.5 && speed < 2)) throw new Error(`speed must be in (0.5, 2), got ${speed}`);
  const condition = pass > 0 && speed === 1 ? drawLineCondition(rng) : undefined;
  const pauseNoiseDbfs = condition ? condition.noiseDbfs : (options.pauseNoiseDbfs ?? -62);

  const decode = createDecoder({ encoding: 'pcmu', sampleRate: PIPELINE_SAMPLE_RATE });
  const stream = createCallerFeatureStream();
  const spans: ClipSpan[] = [];
  const windows: LabelledWindow[] = [];
  const unreadable: UnreadableClip[] = [];
  let position = 0;
  let firstOpen = 0;

  const feed = (bytes: Uint8Array): void => {
    for (let at = 0; at < bytes.length; at += payloadBytes) {
      const out = stream.push(decode(bytes.subarray(at, Math.min(bytes.length, at + payloadBytes))));
      for (const w of out) {
        while (firstOpen < spans.length && spans[firstOpen]!.endSample <= w.startSample) firstOpen++;
        windows.push(labelWindow(w, spans, firstOpen));
      }
    }
  };
  const pause = (): void => {
    if (pauseSamples <= 0) return;
    const noise = new Float32Array(pauseSamples);
    addLineNoise(noise, pauseNoiseDbfs, rng);
    position += pauseSamples;
    feed(floatToMuLaw(noise));
  };

  // A call opens with a moment of line noise before the caller speaks.
  pause();
  for (const clip of orderForPass(plan, pass, seed)) {
    let bytes: Uint8Array;
    try {
      bytes = await load(clip);
    } catch (err) {
      // One bad file in a corpus of thousands must not void the run: the
      // caller reports it, and the call goes on as if the clip were absent.
      unreadable.push({ index: clip.index, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    if (condition || speed !== 1) {
      let samples: Float32Array = Float32Array.from(bytes, (b) => MU_LAW_TO_FLOAT[b]!);
      if (condition) applyLineCondition(samples, condition, rng);
      // Read as if recorded at rate·speed and brought back to the pipeline
      // rate: the clip lasts 1/speed as long, every frequency × speed.
      else samples = resampleAll(samples, Math.round(PIPELINE_SAMPLE_RATE * speed), PIPELINE_SAMPLE_RATE);
      bytes = floatToMuLaw(samples);
    }
    // Spans are known before the clip's audio is pushed, so windows that
    // complete inside it can be labelled at once.
    spans.push({ clip, startSample: position, endSample: position + bytes.length });
    position += bytes.length;
    feed(bytes);
    pause();
    options.onClip?.(bytes.length / PIPELINE_SAMPLE_RATE);
  }
  // The call ends: offline tools take the extractor's last, shorter window.
  for (const w of stream.flush()) windows.push(labelWindow(w, spans, firstOpen));
  return { plan, spans, windows, unreadable, samples: position };
}
