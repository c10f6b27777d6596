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
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  budgetScore,
  detectedCalls,
  falseAlarmCalls,
  replayCalls,
  sumCounts,
  targetFalseAlarmBudget,
  tiersFrom,
  type ReplaySettings,
  type ValidationCall,
  type ValidationCounts,
} from '../src/eval/call-validation.js';
import type { EmotionScores } from '../src/model/types.js';
import { createProgress } from '../src/cli/progress.js';

const { values } = parseArgs({ options: { 'loco-dir': { type: 'string', default: 'models/training/.work/loco' } } });
const cache = JSON.parse(readFileSync(path.join(values['loco-dir']!, 'validation-scores.json'), 'utf8')) as { calls: ValidationCall[] };
const calls = cache.calls;

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

function grid(): ReplaySettings[] {
  const out: ReplaySettings[] = [];
  for (const absoluteOffset of [-1, -0.5, 0, 0.5, 1, 1.5])
    for (const tau of [500, 1000, 2000, 3000])
      for (const enter2 of [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
        for (const dwell of [500, 1000, 1500])
          out.push({
            tracker: { relative: false, absoluteOffset },
            policy: { smoothingTimeConstantMs: tau, ...tiersFrom(enter2), enterDwellMs: dwell, maxLift: 0, maxDrop: 0 },
          });
  return out;
}

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

const corpora = [...new Set(calls.map((c) => c.corpus))];
const points = grid();
const line = (c: ValidationCounts): string => `${detectedCalls(c)} in time, ${falseAlarmCalls(c)} FA (c→a ≤6 s ${c.calmToAngryWithin6s}, angry ≤10 s ${c.angryWithin10s}, @60 s ${c.angryTier2At60s})`;

for (const mix of MIXES) {
  // Centre on the neutral calls' mean, so w shifts the scale little for calm speech.
  const xs = calls.filter((c) => c.kind === 'neutral').flatMap((c) => c.windows.map((w) => mix.x(w.scores)));
  const centre = xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const w of mix === MIXES[0] ? [0, 0.25, 0.5, 1] : [0.25, 0.5, 1]) {
    const cs = transform(w, mix, centre);
    const progress = createProgress({ label: `${mix.name} w ${w}`, total: points.length, unit: 'settings' });
    const results = points.map((p, i) => {
      const r = replayCalls(cs, p);
      progress.update(i + 1);
      return r;
    });
    progress.done();
    const best = (keep: (c: string) => boolean): number => {
      let bi = 0;
      let bs = Number.NEGATIVE_INFINITY;
      results.forEach((r, i) => {
        const s = budgetScore(sumCounts(r, keep), targetFalseAlarmBudget(sumCounts(r, keep)));
        if (s > bs) {
          bs = s;
          bi = i;
        }
      });
      return bi;
    };
    const all = results[best(() => true)]!;
    const nested = new Map<string, ValidationCounts>();
    for (const corpus of corpora) nested.set(corpus, sumCounts(results[best((c) => c !== corpus)]!, (c) => c === corpus));
    const p = points[best(() => true)]!;
    const label = `off ${p.tracker.absoluteOffset} tau ${p.policy.smoothingTimeConstantMs} enter ${p.policy.enterThresholds?.[2]} dwell ${p.policy.enterDwellMs}`;
    process.stdout.write(`${mix.name.padEnd(24)} w ${String(w).padEnd(4)} all: ${line(sumCounts(all))} [${label}] | nested: ${line(sumCounts(nested))}\n`);
  }
}
