/**
 * Probe (issue 8, sixth round): does a longer smoothing time constant help
 * on held-out corpora, or only on the calls it was chosen on? Reads the
 * calibration cache (DIR/validation-scores.json, written by
 * calibrate-policy.ts) and, for each set of time constants, replays the
 * absolute-head grid through the real tracker and policy. Prints the choice
 * made on all corpora and the nested figure (each corpus judged with the
 * setting chosen on the other three), as calls detected in time and
 * false-alarm calls.
 *
 *   npx tsx scripts/tau-nested-probe.ts [--loco-dir models/training/.work/loco] [--per-kind]
 *
 * `--per-kind`: each kind of false alarm within its own share as well
 * (calibrate-policy's `targets` objective); without it, the pooled allowance
 * only. No demo requirement here (calibrate-policy's `--require-demo`).
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
import { createProgress } from '../src/cli/progress.js';

const { values } = parseArgs({
  options: {
    'loco-dir': { type: 'string', default: 'models/training/.work/loco' },
    'per-kind': { type: 'boolean', default: false },
  },
});
const cache = JSON.parse(readFileSync(path.join(values['loco-dir']!, 'validation-scores.json'), 'utf8')) as { calls: ValidationCall[] };
const calls = cache.calls;
const corpora = [...new Set(calls.map((c) => c.corpus))];
const perKind = values['per-kind'] === true;

const line = (c: ValidationCounts): string =>
  `${detectedCalls(c)} in time, ${falseAlarmCalls(c)} FA (c→a ≤6 s ${c.calmToAngryWithin6s}, angry ≤10 s ${c.angryWithin10s}, @60 s ${c.angryTier2At60s}, c→a any ${c.calmToAngryDetected})`;

for (const taus of [[2000], [3000], [4000], [6000], [500, 1000, 2000], [500, 1000, 2000, 3000], [500, 1000, 2000, 3000, 4000, 6000]]) {
  const points: ReplaySettings[] = [];
  for (const absoluteOffset of [-1, -0.5, 0, 0.5, 1, 1.5])
    for (const tau of taus)
      for (const enter2 of [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
        for (const dwell of [500, 1000, 1500])
          points.push({
            tracker: { relative: false, absoluteOffset },
            policy: { smoothingTimeConstantMs: tau, ...tiersFrom(enter2), enterDwellMs: dwell, maxLift: 0, maxDrop: 0 },
          });
  const progress = createProgress({ label: `tau ${taus.join(', ')}`, total: points.length, unit: 'settings' });
  const results = points.map((p, i) => {
    const r = replayCalls(calls, p);
    progress.update(i + 1);
    return r;
  });
  progress.done();
  const best = (keep: (c: string) => boolean): number => {
    let bi = 0;
    let bs = Number.NEGATIVE_INFINITY;
    results.forEach((r, i) => {
      const c = sumCounts(r, keep);
      const s = budgetScore(c, targetFalseAlarmBudget(c), perKind);
      if (s > bs) {
        bs = s;
        bi = i;
      }
    });
    return bi;
  };
  const nested = new Map<string, ValidationCounts>();
  for (const corpus of corpora) nested.set(corpus, sumCounts(results[best((c) => c !== corpus)]!, (c) => c === corpus));
  process.stdout.write(`tau ${taus.join(', ')}: all ${line(sumCounts(results[best(() => true)]!))} | nested ${line(sumCounts(nested))}\n`);
}
