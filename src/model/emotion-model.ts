/**
 * The shared emotion model: one onnxruntime-node session for the process,
 * loaded once at start-up, its card checked against the extractor's feature
 * list. Per-call state lives elsewhere (CallerFeatureStream, the policy).
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { FEATURE_CONFIG, FEATURE_NAMES } from '../features/feature-names.js';
import { ModelError } from '../shared/errors.js';
import { describeFeatureMismatch, parseModelCard, type ModelCard } from './model-card.js';
import type { EmotionModel, EmotionScores } from './types.js';

export interface LoadEmotionModelOptions {
  /** Path of the ONNX file (models/emotion.onnx). */
  modelPath: string;
  /** Path of the model card (models/emotion.json). */
  cardPath: string;
  logger?: Pick<Logger, 'info'>;
  /**
   * Feature names the extractor produces, in order. Defaults to the
   * extractor's `FEATURE_NAMES`; only tests pass something else.
   */
  featureNames?: readonly string[];
  /**
   * The extractor's `FEATURE_CONFIG.version`. Defaults to the running
   * extractor's; a card recording another version is refused (same names,
   * different analysis = a stale model).
   */
  featureConfigVersion?: string;
  /** ONNX intra-op threads. Default 1: calls run in parallel, not one window. */
  intraOpNumThreads?: number;
}

/** A loaded model also exposes its card (for /readyz, eval reports). */
export interface LoadedEmotionModel extends EmotionModel {
  readonly card: ModelCard;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

async function readCard(cardPath: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(cardPath, 'utf8');
  } catch (err) {
    throw new ModelError(`cannot read model card ${cardPath}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`model card ${cardPath} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseModelCard(raw, `model card ${cardPath}`);
}

/**
 * Reads the card and checks it against the extractor's feature list and
 * version: the start-up check, done once per process (DSP workers reuse the
 * checked card through `openEmotionModel`).
 */
export async function readCheckedModelCard(options: Pick<LoadEmotionModelOptions, 'cardPath' | 'featureNames' | 'featureConfigVersion'>): Promise<ModelCard> {
  const card = await readCard(options.cardPath);
  const expected = options.featureNames ?? FEATURE_NAMES;
  const mismatch = describeFeatureMismatch(card.featureNames, expected);
  if (mismatch !== undefined) {
    throw new ModelError(
      `model card ${options.cardPath} (version ${card.version}) does not match the feature extractor; ` +
        `retrain with npm run train:\n  - ${mismatch}`,
    );
  }
  const version = options.featureConfigVersion ?? FEATURE_CONFIG.version;
  if (card.featureConfigVersion && card.featureConfigVersion !== version) {
    throw new ModelError(
      `model card ${options.cardPath} (version ${card.version}) was trained on extractor ${card.featureConfigVersion}, ` +
        `the running extractor is ${version}; retrain with npm run train`,
    );
  }
  return card;
}

/**
 * Loads the card, checks it against the extractor's feature list, then
 * opens the ONNX session and checks its input and outputs. Every failure is
 * a `ModelError`: a stale or corrupt model must stop start-up, not score.
 */
export async function loadEmotionModel(options: LoadEmotionModelOptions): Promise<LoadedEmotionModel> {
  const card = await readCheckedModelCard(options);
  return openEmotionModel({ ...options, card });
}

/** Options of `openEmotionModel`: a card already checked (`readCheckedModelCard`) instead of its path. */
export interface OpenEmotionModelOptions extends Pick<LoadEmotionModelOptions, 'modelPath' | 'logger' | 'intraOpNumThreads'> {
  card: ModelCard;
}

/**
 * Opens the ONNX session for a card that was already checked, and checks the
 * session's input and outputs against it. What a DSP worker runs: the card
 * is checked once at start-up, each worker only opens its own session.
 */
export async function openEmotionModel(options: OpenEmotionModelOptions): Promise<LoadedEmotionModel> {
  const { card } = options;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(options.modelPath);
  } catch (err) {
    throw new ModelError(`cannot read model ${options.modelPath}: ${(err as Error).message}`, { cause: err });
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new ModelError(`cannot load ONNX model ${options.modelPath}: ${(err as Error).message}`, { cause: err });
  }
  const inputName = card.input.name;
  const missing = [
    ...(session.inputNames.includes(inputName) ? [] : [`input '${inputName}'`]),
    ...['emotion_probs', 'anger_prob', 'arousal', 'agitation']
      .filter((o) => !session.outputNames.includes(o))
      .map((o) => `output '${o}'`),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new ModelError(`ONNX model ${options.modelPath} lacks ${missing.join(', ')} declared by its card`);
  }

  const featureCount = card.featureNames.length;
  let closed = false;
  options.logger?.info(
    { modelVersion: card.version, features: featureCount, modelPath: options.modelPath },
    'emotion model loaded',
  );

  async function score(batch: readonly Float32Array[]): Promise<EmotionScores[]> {
    if (closed) throw new ModelError('emotion model is closed');
    if (batch.length === 0) return [];
    const data = new Float32Array(batch.length * featureCount);
    batch.forEach((v, i) => {
      if (v.length !== featureCount) {
        throw new ModelError(`feature vector ${i} has ${v.length} values, the model expects ${featureCount}`);
      }
      data.set(v, i * featureCount);
    });
    const feeds = { [inputName]: new ort.Tensor('float32', data, [batch.length, featureCount]) };
    const out = await session.run(feeds);
    const emo = out.emotion_probs!.data as Float32Array;
    const anger = out.anger_prob!.data as Float32Array;
    const arousal = out.arousal!.data as Float32Array;
    const agitation = out.agitation!.data as Float32Array;
    const scores: EmotionScores[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      scores[i] = {
        neutral: emo[i * 4]!,
        anger: emo[i * 4 + 1]!,
        happiness: emo[i * 4 + 2]!,
        sadness: emo[i * 4 + 3]!,
        arousal: clamp01(arousal[i]!),
        agitation: clamp01(agitation[i]!),
        angerVsRest: anger[i]!,
      };
    }
    return scores;
  }

  return {
    card,
    featureNames: card.featureNames,
    version: card.version,
    ...(card.callerScoreBaseline ? { callerScoreBaseline: card.callerScoreBaseline } : {}),
    ...(card.agitationTracker
      ? {
          // The anger head's calm prior, when the card gives none: the caller score baseline's reference.
          agitationTracker: {
            ...(card.callerScoreBaseline ? { angerCalmLogit: card.callerScoreBaseline.reference.angerLogit } : {}),
            ...card.agitationTracker,
          },
        }
      : {}),
    score,
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

