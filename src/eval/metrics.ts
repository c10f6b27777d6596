/**
 * Evaluation maths: confusion matrices, unweighted average recall (UAR,
 * balanced accuracy) and the three tasks eval reports.
 */
import { EMOTION_LABELS } from '../model/types.js';

/** The tasks eval reports, with their classes in matrix order. */
export const TASKS = {
  anger: ['not-anger', 'anger'],
  emotion4: [...EMOTION_LABELS],
  arousal: ['low', 'mid', 'high'],
} as const satisfies Record<string, readonly string[]>;

export type TaskName = keyof typeof TASKS;
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

/** rows = true class, columns = predicted class. */
export interface Confusion {
  classes: readonly string[];
  matrix: number[][];
}

export function emptyConfusion(classes: readonly string[]): Confusion {
  return { classes, matrix: classes.map(() => classes.map(() => 0)) };
}

export function addToConfusion(c: Confusion, truth: number, predicted: number): void {
  const row = c.matrix[truth];
  if (!row || predicted < 0 || predicted >= row.length) throw new RangeError(`class out of range: ${truth} → ${predicted}`);
  row[predicted] = row[predicted]! + 1;
}

/** Number of samples counted in a confusion matrix. */
export function confusionTotal(c: Confusion): number {
  return c.matrix.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
}

/**
 * Unweighted average recall: the mean over classes present in the truth of
 * (correct / true count). Classes with no true samples are left out (their
 * recall is undefined); null when no class has samples.
 */
export function uar(c: Confusion): number | null {
  let sum = 0;
  let n = 0;
  c.matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) {
      sum += row[i]! / total;
      n++;
    }
  });
  return n === 0 ? null : sum / n;
}

/** Index of the largest value (first on ties). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** A clip's scores after aggregating its windows. */
export interface ClipPrediction {
  label: string;
  arousal: string;
  /** Mean of the windows' four-way probabilities (neutral, anger, happiness, sadness). */
  emotion: number[];
  /** Mean binary anger-head probability. */
  angerVsRest: number;
  /** Mean arousal 0..1. */
  arousalValue: number;
  /** Mean absolute agitation (the model's agitation head), 0..1; absent from older producers. */
  agitation?: number;
}

/**
 * Binary clip-level UAR of a score thresholded at 0.5 among the clips whose
 * label is `positive` or one of `negatives` (null when either side is empty):
 * `agitation` anger vs rest, and anger vs happiness for either head.
 */
export function binaryUar(
  clips: readonly ClipPrediction[],
  score: (c: ClipPrediction) => number | undefined,
  positive: string,
  negatives?: readonly string[],
): number | null {
  let tp = 0;
  let pos = 0;
  let tn = 0;
  let neg = 0;
  for (const c of clips) {
    const v = score(c);
    if (v === undefined || !c.label) continue;
    if (c.label === positive) {
      pos++;
      if (v >= 0.5) tp++;
    } else if (negatives === undefined || negatives.includes(c.label)) {
      neg++;
      if (v < 0.5) tn++;
    }
  }
  return pos > 0 && neg > 0 ? (tp / pos + tn / neg) / 2 : null;
}

/** Truth class of a clip for a task, or -1 when the clip does not take part. */
export function truthFor(task: TaskName, clip: Pick<ClipPrediction, 'label' | 'arousal'>): number {
  switch (task) {
    case 'anger':
      return clip.label ? (clip.label === 'anger' ? 1 : 0) : -1;
    case 'emotion4':
      return (EMOTION_LABELS as readonly string[]).indexOf(clip.label);
    case 'arousal':
      return ['low', 'mid', 'high'].indexOf(clip.arousal);
  }
}

/**
 * Predicted class of a clip for a task: anger when the binary head's mean is
 * ≥ 0.5; the four-way argmax; arousal split in thirds of the 0..1 scale.
 */
export function predictionFor(task: TaskName, clip: ClipPrediction): number {
  switch (task) {
    case 'anger':
      return clip.angerVsRest >= 0.5 ? 1 : 0;
    case 'emotion4':
      return argmax(clip.emotion);
    case 'arousal':
      return clip.arousalValue < 1 / 3 ? 0 : clip.arousalValue < 2 / 3 ? 1 : 2;
  }
}

export type TaskConfusions = Record<TaskName, Confusion>;

/** Confusion matrices of every task over a set of clips. */
export function confusionsFor(clips: readonly ClipPrediction[]): TaskConfusions {
  const out = {} as TaskConfusions;
  for (const task of TASK_NAMES) {
    const c = emptyConfusion(TASKS[task]);
    for (const clip of clips) {
      const t = truthFor(task, clip);
      if (t >= 0) addToConfusion(c, t, predictionFor(task, clip));
    }
    out[task] = c;
  }
  return out;
}

/** A confusion matrix as aligned text, with per-class recall. */
export function formatConfusion(title: string, c: Confusion): string {
  const width = Math.max(9, ...c.classes.map((s) => s.length + 1));
  const head = `${'true \\ pred'.padEnd(width + 2)}${c.classes.map((s) => s.padStart(width)).join('')}${'recall'.padStart(9)}`;
  const rows = c.matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total > 0 ? (row[i]! / total).toFixed(3) : '-';
    return `${c.classes[i]!.padEnd(width + 2)}${row.map((v) => String(v).padStart(width)).join('')}${recall.padStart(9)}`;
  });
  const u = uar(c);
  return [`${title}  (UAR ${u === null ? '-' : u.toFixed(3)}, n=${confusionTotal(c)})`, head, ...rows].join('\n');
}
