/**
 * A probe, not a tool of the service: would a deployment-level ("fleet")
 * level of agitation help the call-level validation? Reads the scored
 * windows calibrate-policy.ts cached, treats each held-out corpus as one
 * deployment, and shifts every window's agitation log-odds by how far that
 * deployment's q-quantile of window log-odds sits from the mean of the other
 * corpora's (a level learnt from other deployments, as a service would learn
 * it from the training data). Then replays the abs-only policy grid and
 * prints the most calls detected in time within false-alarm budgets.
 *
 *   npx tsx scripts/fleet-probe.ts [--cache models/training/.work/loco/validation-scores.json] [--q 0.3]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  detectedCalls,
  falseAlarmCalls,
  replayCalls,
  sumCounts,
  tiersFrom,
  type ReplaySettings,
  type ValidationCall,
} from '../src/eval/call-validation.js';

const { values } = parseArgs({
  options: {
    cache: { type: 'string', default: 'models/training/.work/loco/validation-scores.json' },
    q: { type: 'string', default: 'none,0.1,0.2,0.3,0.5' },
  },
});
const cache = JSON.parse(await readFile(values.cache, 'utf8')) as { calls: ValidationCall[] };
const calls = cache.calls;
const corpora = [...new Set(calls.map((c) => c.corpus))];
const logit = (p: number): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const points: { label: string; settings: ReplaySettings }[] = [];
for (const absoluteOffset of [-1, -0.5, 0, 0.5, 1, 1.5])
  for (const tau of [1000, 2000])
    for (const enter2 of [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
      for (const dwell of [500, 1000, 1500])
        points.push({
          label: `off ${absoluteOffset} tau ${tau} enter ${enter2} dwell ${dwell}`,
          settings: {
            tracker: { relative: false, absoluteOffset },
            policy: { smoothingTimeConstantMs: tau, ...tiersFrom(enter2), enterDwellMs: dwell, maxLift: 0, maxDrop: 0 },
          },
        });

const silent = calls.filter((c) => c.kind !== 'angry').length;
for (const qs of values.q.split(',')) {
  let shifted = calls;
  if (qs !== 'none') {
    const q = Number(qs);
    const level = new Map(corpora.map((c) => [c, quantile(calls.filter((x) => x.corpus === c).flatMap((x) => x.windows.map((w) => logit(w.scores.agitation))), q)]));
    const shift = new Map(corpora.map((c) => {
      const others = corpora.filter((o) => o !== c).map((o) => level.get(o)!);
      return [c, level.get(c)! - others.reduce((a, b) => a + b, 0) / others.length];
    }));
    process.stdout.write(`q ${q}: shift ${[...shift].map(([c, s]) => `${c} ${s.toFixed(2)}`).join(', ')}\n`);
    shifted = calls.map((c) => ({
      ...c,
      windows: c.windows.map((w) => ({ ...w, scores: { ...w.scores, agitation: 1 / (1 + Math.exp(-(logit(w.scores.agitation) - shift.get(c.corpus)!))) } })),
    }));
  }
  const results = points.map((p) => {
    const byCorpus = replayCalls(shifted, p.settings);
    const all = sumCounts(byCorpus);
    return { label: p.label, fa: falseAlarmCalls(all), det: detectedCalls(all), byCorpus };
  });
  const line: string[] = [];
  for (const budget of [0.075, 0.1, 0.2]) {
    const ok = results.filter((r) => r.fa <= budget * silent);
    const best = ok.sort((a, b) => b.det - a.det || a.fa - b.fa)[0];
    if (!best) continue;
    const per = [...best.byCorpus].map(([c, v]) => `${c} ${falseAlarmCalls(v)}/${detectedCalls(v)}`).join(' ');
    line.push(`FA≤${budget * 100}%: det ${best.det} fa ${best.fa} (${best.label}; per corpus fa/det ${per})`);
  }
  process.stdout.write(`q ${qs}:\n  ${line.join('\n  ')}\n`);
}
