/**
 * The model card (models/emotion.json): what the ONNX file expects and
 * produces, how it was trained and how well it validated. Written by
 * models/training/train.py; checked here at load time so a model trained on
 * another feature set fails loudly instead of scoring garbage.
 */
import { ModelError } from '../shared/errors.js';
import type { AgitationTrackerSpec } from './agitation-tracker.js';
import type { CallerScoreBaselineSpec } from './caller-score-baseline.js';

/** One validation block: clip-level UAR per task (null when no eligible clips). */
export interface ValidationFigures {
  clips: number;
  anger: number | null;
  emotion4: number | null;
  arousal: number | null;
  [extra: string]: unknown;
}

export interface ModelCard {
  name: string;
  version: string;
  /** ISO-8601 time the model was trained. */
  createdAt: string;
  /** Command line that produced the model. */
  command: string;
  /** Licence terms inherited from the training corpora. */
  licenceNotice: string;
  /** Input feature names, in input order; must equal the extractor's FEATURE_NAMES. */
  featureNames: string[];
  featureCount: number;
  /**
   * `FEATURE_CONFIG.version` of the extractor the model was trained on; the
   * loader rejects the model when the running extractor reports another.
   */
  featureConfigVersion?: string | null;
  /** Features the model multiplies by zero (kept in the input for a stable contract). */
  featuresIgnored?: string[];
  window: { sampleRate: number; windowS: number | null; hopS: number | null; note?: string };
  input: { name: string; dtype: 'float32'; shape: [string, number] };
  normalisation: {
    type: string;
    inGraph: boolean;
    formula: string;
    clip: number;
    mean: number[];
    std: number[];
  };
  labels: { emotion: string[]; arousal: string[]; arousalValue: number[] };
  /** Output tensor name → shape and meaning. */
  outputs: Record<string, { shape: [string, number]; meaning: string }>;
  agitation: { formula: string; angerWeight: number; arousalWeight: number; note?: string };
  /** Per-call re-centring of the emotion and anger outputs (absent in older cards: none). */
  callerScoreBaseline?: CallerScoreBaselineSpec & { formula?: string; note?: string };
  /** Prior of the per-call agitation tracker (absent in older cards: agitation used as it comes). */
  agitationTracker?: AgitationTrackerSpec & { note?: string };
  architecture: Record<string, unknown>;
  training: { corpora: { name: string; licence: string; clips: number; [k: string]: unknown }[]; [k: string]: unknown };
  validation: {
    metric: string;
    peer?: Record<string, unknown>;
    loco: Record<string, ValidationFigures> | null;
    speakerIndependent: { overall: ValidationFigures; by_corpus: Record<string, ValidationFigures> } | null;
    [k: string]: unknown;
  };
}

/** Output tensors the runtime reads; the card must declare each. */
export const REQUIRED_OUTPUTS = ['emotion_probs', 'anger_prob', 'arousal_probs', 'arousal', 'agitation'] as const;

const EXPECTED_EMOTION_LABELS = ['neutral', 'anger', 'happiness', 'sadness'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function agitationTrackerProblems(v: unknown): string[] {
  if (!isObject(v) || !isFiniteNumber(v.calmLogit)) return [`'agitationTracker' must be { calmLogit: number, ...options }`];
  const problems: string[] = [];
  for (const k of ['priorWindows', 'calmMargin', 'maxNormLift', 'drift', 'evidenceHalf', 'maxEvidence', 'absoluteOffset', 'angerCalmLogit']) {
    if (v[k] !== undefined && !isFiniteNumber(v[k])) problems.push(`'agitationTracker.${k}' must be a finite number`);
  }
  if (v.evidenceHalf !== undefined && !((v.evidenceHalf as number) > 0)) problems.push(`'agitationTracker.evidenceHalf' must be > 0`);
  if (v.relative !== undefined && typeof v.relative !== 'boolean') problems.push(`'agitationTracker.relative' must be a boolean`);
  if (v.evidenceFrom !== undefined && v.evidenceFrom !== 'agitation' && v.evidenceFrom !== 'anger') {
    problems.push(`'agitationTracker.evidenceFrom' must be 'agitation' or 'anger'`);
  }
  return problems;
}

function callerBaselineProblems(v: unknown): string[] {
  const bad = `'callerScoreBaseline' must be { priorWindows >= 0, strength >= 0, angerFromAgitation? 0..1, arousalFromEmotion? 0..1, reference: { emotionLogProbs: 4 numbers, angerLogit } }`;
  if (!isObject(v) || !isObject(v.reference)) return [bad];
  const ref = v.reference;
  const ok =
    isFiniteNumber(v.priorWindows) &&
    v.priorWindows >= 0 &&
    isFiniteNumber(v.strength) &&
    v.strength >= 0 &&
    Array.isArray(ref.emotionLogProbs) &&
    ref.emotionLogProbs.length === EXPECTED_EMOTION_LABELS.length &&
    ref.emotionLogProbs.every(isFiniteNumber) &&
    isFiniteNumber(ref.angerLogit) &&
    (v.angerFromAgitation === undefined || (isFiniteNumber(v.angerFromAgitation) && v.angerFromAgitation >= 0 && v.angerFromAgitation <= 1)) &&
    (v.arousalFromEmotion === undefined || (isFiniteNumber(v.arousalFromEmotion) && v.arousalFromEmotion >= 0 && v.arousalFromEmotion <= 1));
  return ok ? [] : [bad];
}

/**
 * Checks a parsed card's shape and returns it typed. Lists every problem at
 * once in one `ModelError`.
 */
export function parseModelCard(raw: unknown, source = 'model card'): ModelCard {
  const problems: string[] = [];
  if (!isObject(raw)) throw new ModelError(`${source}: not a JSON object`);
  const str = (k: string): void => {
    if (typeof raw[k] !== 'string' || (raw[k] as string).length === 0) problems.push(`'${k}' must be a non-empty string`);
  };
  str('name');
  str('version');
  str('createdAt');
  str('licenceNotice');
  const names = raw.featureNames;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    problems.push(`'featureNames' must be a non-empty array of strings`);
  } else {
    if (raw.featureCount !== names.length) {
      problems.push(`'featureCount' (${String(raw.featureCount)}) differs from featureNames.length (${names.length})`);
    }
    if (new Set(names).size !== names.length) problems.push(`'featureNames' has duplicates`);
  }
  const input = raw.input;
  if (!isObject(input) || typeof input.name !== 'string' || input.dtype !== 'float32') {
    problems.push(`'input' must be { name, dtype: 'float32', shape }`);
  }
  const labels = raw.labels;
  if (!isObject(labels) || JSON.stringify(labels.emotion) !== JSON.stringify(EXPECTED_EMOTION_LABELS)) {
    problems.push(`'labels.emotion' must be ${JSON.stringify(EXPECTED_EMOTION_LABELS)}`);
  }
  const outputs = raw.outputs;
  if (!isObject(outputs)) {
    problems.push(`'outputs' must be an object`);
  } else {
    for (const o of REQUIRED_OUTPUTS) if (!isObject(outputs[o])) problems.push(`'outputs.${o}' is missing`);
  }
  const agitation = raw.agitation;
  if (!isObject(agitation) || typeof agitation.formula !== 'string') problems.push(`'agitation.formula' is missing`);
  if (raw.callerScoreBaseline !== undefined) problems.push(...callerBaselineProblems(raw.callerScoreBaseline));
  if (raw.agitationTracker !== undefined) problems.push(...agitationTrackerProblems(raw.agitationTracker));
  const norm = raw.normalisation;
  if (!isObject(norm) || !Array.isArray(norm.mean) || !Array.isArray(norm.std)) {
    problems.push(`'normalisation' must carry mean and std arrays`);
  } else if (Array.isArray(names) && (norm.mean.length !== names.length || norm.std.length !== names.length)) {
    problems.push(`'normalisation' mean/std length differs from featureNames`);
  }
  if (!isObject(raw.training) || !Array.isArray((raw.training as Record<string, unknown>).corpora)) {
    problems.push(`'training.corpora' is missing`);
  }
  if (!isObject(raw.validation)) problems.push(`'validation' is missing`);
  if (problems.length > 0) throw new ModelError(`${source} is invalid:\n  - ${problems.join('\n  - ')}`);
  return raw as unknown as ModelCard;
}

/**
 * Describes how the card's feature list differs from the extractor's, or
 * returns undefined when they are identical (same names, same order).
 */
export function describeFeatureMismatch(
  cardNames: readonly string[],
  extractorNames: readonly string[],
): string | undefined {
  if (cardNames.length === extractorNames.length && cardNames.every((n, i) => n === extractorNames[i])) {
    return undefined;
  }
  const lines: string[] = [];
  if (cardNames.length !== extractorNames.length) {
    lines.push(`model expects ${cardNames.length} features, the extractor produces ${extractorNames.length}`);
  }
  const card = new Set(cardNames);
  const ext = new Set(extractorNames);
  const missing = extractorNames.filter((n) => !card.has(n));
  const extra = cardNames.filter((n) => !ext.has(n));
  if (missing.length) lines.push(`not in the model card: ${missing.join(', ')}`);
  if (extra.length) lines.push(`not produced by the extractor: ${extra.join(', ')}`);
  if (!missing.length && !extra.length) {
    const moved: string[] = [];
    for (let i = 0; i < cardNames.length && moved.length < 8; i++) {
      if (cardNames[i] !== extractorNames[i]) moved.push(`#${i}: card '${cardNames[i]}' vs extractor '${extractorNames[i]}'`);
    }
    lines.push(`same features in a different order: ${moved.join('; ')}`);
  }
  return lines.join('\n  - ');
}
