/**
 * Probe (issue 8): would the policy's input gain from mixing other outputs of
 * the model into the agitation head's log-odds? Reads the calibration cache
 * (DIR/validation-scores.json, written by calibrate-policy.ts), replaces each
 * window's agitation by sigmoid(logit(agitation) + w · (logit(x) − c)) for a
 * mix x, and replays the absolute-head grid through the real tracker and
 * policy. Prints, per mix, the most calls detected in time within the
 * targets' false-alarm allowance, pooled (all corpora, and nested).
 *
 *   npx tsx scripts/score-mix-probe.ts [--loco-dir models/training/.work/loco]
 */
import { parseArgs } from 'node:util';
import type { ValidationCall } from '../src/eval/call-validation.js';
import type { EmotionScores } from '../src/model/types.js';
import { absoluteHeadGrid, chooseAndNest, countsLine, loadValidationCalls, replayGrid, settingLabel } from './lib/validation-probe.js';

const { values } = parseArgs({ options: { 'loco-dir': { type: 'string', default: 'models/training/.work/loco' } } });
const calls = loadValidationCalls(values['loco-dir']!);

const EPS = 1e-6;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q) - Math.log1p(-q);
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

type Mix = { name: string; x: (s: EmotionScores) => number };
const MIXES: Mix[] = [
  { name: 'arousal', x: (s) => logit(s.arousal) },
  { name: 'angerVsRest', x: (s) => logit(s.angerVsRest ?? 0.5) },
  { name: 'log p(anger)/p(happy)', x: (s) => Math.log(Math.max(EPS, s.anger)) - Math.log(Math.max(EPS, s.happiness)) },
  { name: 'emotion anger', x: (s) => logit(s.anger) },
];

function transform(w: number, mix: Mix, centre: number): ValidationCall[] {
  if (w === 0) return calls;
  return calls.map((c) => ({
    ...c,
    windows: c.windows.map((win) => ({
      ...win,
      scores: { ...win.scores, agitation: sigmoid(logit(win.scores.agitation) + w * (mix.x(win.scores) - centre)) },
    })),
  }));
}

const points = absoluteHeadGrid([500, 1000, 2000, 3000], [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);

for (const mix of MIXES) {
  // Centre on the neutral calls' mean, so w shifts the scale little for calm speech.
  const xs = calls.filter((c) => c.kind === 'neutral').flatMap((c) => c.windows.map((w) => mix.x(w.scores)));
  const centre = xs.reduce((a, b) => a + b, 0) / xs.length;
  // w = 0 (the head alone) once, with the first mix.
  for (const w of mix === MIXES[0] ? [0, 0.25, 0.5, 1] : [0.25, 0.5, 1]) {
    const choice = chooseAndNest(replayGrid(transform(w, mix, centre), points, `${mix.name} w ${w}`), false);
    process.stdout.write(
      `${mix.name.padEnd(24)} w ${String(w).padEnd(4)} all: ${countsLine(choice.all)} [${settingLabel(points[choice.index]!)}] | nested: ${countsLine(choice.nested)}\n`,
    );
  }
}
