/**
 * What the call-validation probes (score-mix-probe.ts, tau-nested-probe.ts)
 * share: the cached scored calls, the absolute-head grid, its replay with
 * progress, and the choice made on all corpora and nested (each corpus
 * judged with the setting chosen on the other three), by the `targets`
 * allowance of calibrate-policy.ts (pooled, or per kind as well). No demo
 * requirement: that stays in calibrate-policy.ts, whose choice ships.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createProgress } from '../../src/cli/progress.js';
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
} from '../../src/eval/call-validation.js';

/** The scored validation calls cached by calibrate-policy.ts in DIR/validation-scores.json. */
export function loadValidationCalls(locoDir: string): ValidationCall[] {
  return (JSON.parse(readFileSync(path.join(locoDir, 'validation-scores.json'), 'utf8')) as { calls: ValidationCall[] }).calls;
}

/** The absolute head alone, shifted by an offset, × smoothing τ × tier-2 threshold × dwell. */
export function absoluteHeadGrid(taus: readonly number[], enters: readonly number[]): ReplaySettings[] {
  const out: ReplaySettings[] = [];
  for (const absoluteOffset of [-1, -0.5, 0, 0.5, 1, 1.5])
    for (const tau of taus)
      for (const enter2 of enters)
        for (const dwell of [500, 1000, 1500])
          out.push({
            tracker: { relative: false, absoluteOffset },
            policy: { smoothingTimeConstantMs: tau, ...tiersFrom(enter2), enterDwellMs: dwell, maxLift: 0, maxDrop: 0 },
          });
  return out;
}

/** Every setting replayed over the calls, with progress and an ETA. */
export function replayGrid(calls: readonly ValidationCall[], points: readonly ReplaySettings[], label: string): Map<string, ValidationCounts>[] {
  const progress = createProgress({ label, total: points.length, unit: 'settings' });
  const results = points.map((p, i) => {
    const r = replayCalls(calls, p);
    progress.update(i + 1);
    return r;
  });
  progress.done();
  return results;
}

export interface ProbeChoice {
  /** Index of the setting chosen on all corpora. */
  index: number;
  all: ValidationCounts;
  nested: ValidationCounts;
}

/** The most calls detected in time within the targets' allowance, on all corpora and nested. */
export function chooseAndNest(results: readonly Map<string, ValidationCounts>[], perKind: boolean): ProbeChoice {
  const corpora = [...new Set(results.flatMap((r) => [...r.keys()]))];
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
  const index = best(() => true);
  const nested = new Map<string, ValidationCounts>();
  for (const corpus of corpora) nested.set(corpus, sumCounts(results[best((c) => c !== corpus)]!, (c) => c === corpus));
  return { index, all: sumCounts(results[index]!), nested: sumCounts(nested) };
}

/** One line of counts: detected in time, false-alarm calls, and what they are made of. */
export function countsLine(c: ValidationCounts): string {
  return `${detectedCalls(c)} in time, ${falseAlarmCalls(c)} FA (c→a ≤6 s ${c.calmToAngryWithin6s}, angry ≤10 s ${c.angryWithin10s}, @60 s ${c.angryTier2At60s}, c→a any ${c.calmToAngryDetected})`;
}

/** A grid point's settings, short. */
export function settingLabel(p: ReplaySettings): string {
  return `off ${p.tracker.absoluteOffset} tau ${p.policy.smoothingTimeConstantMs} enter ${p.policy.enterThresholds?.[2]} dwell ${p.policy.enterDwellMs}`;
}
