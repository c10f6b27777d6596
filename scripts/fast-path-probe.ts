/**
 * A probe, not a tool of the service (issue 8, seventh round): would a fast
 * path for very high evidence help? Replays the cached validation calls
 * (calibrate-policy.ts's DIR/validation-scores.json) through the current
 * default tracker and policy, and adds an alert wherever the tracker's
 * output (unsmoothed) stays at or above F for k windows in a row. Prints
 * false alarms per kind (neutral / excited / low / before the onset),
 * calm→angry calls flagged within 6 s (per corpus), angry-from-the-start
 * calls within 10 s, for each F and k; then the nested figure: for each
 * corpus the fast path (or none) chosen on the other corpora within
 * calibrate-policy's per-kind allowances, judged on it.
 *
 *   npx tsx scripts/fast-path-probe.ts [--loco-dir models/training/.work/loco]
 */
import { parseArgs } from 'node:util';
import { isAlert } from '../src/eval/call-validation.js';
import { createAgitationTracker } from '../src/model/agitation-tracker.js';
import { createEscalationPolicy } from '../src/policy/create-escalation-policy.js';
import { DEFAULT_POLICY_OPTIONS } from '../src/policy/options.js';
import { loadValidationCalls } from './lib/validation-probe.js';

const { values } = parseArgs({ options: { 'loco-dir': { type: 'string', default: 'models/training/.work/loco' } } });
const calls = loadValidationCalls(values['loco-dir']!);

interface Seq {
  kind: string;
  corpus: string;
  onsetMs: number | null;
  alerts: number[];
  series: { t: number; a: number }[];
}
const seqs: Seq[] = calls.map((call) => {
  const tracker = createAgitationTracker(call.tracker, {});
  const policy = createEscalationPolicy({})({ callId: call.speaker, language: 'en' });
  const alerts: number[] = [];
  const series: { t: number; a: number }[] = [];
  for (const w of call.windows) {
    const s = tracker.apply(w.scores);
    series.push({ t: w.audioMs, a: s.agitation });
    for (const e of policy.observe(s, w.audioMs)) {
      if (isAlert(e)) alerts.push(e.audioMs);
    }
  }
  return { kind: call.kind, corpus: call.corpus, onsetMs: call.onsetMs, alerts, series };
});

function fastTriggers(series: { t: number; a: number }[], f: number, k: number): number[] {
  const out: number[] = [];
  let run = 0;
  let prevT = -Infinity;
  for (const { t, a } of series) {
    if (t - prevT > 1000) run = 0;
    prevT = t;
    run = a >= f ? run + 1 : 0;
    if (run === k) out.push(t);
  }
  return out;
}

interface Tally {
  neutral: number;
  excited: number;
  low: number;
  early: number;
  c6: number;
  a10: number;
  calls: Record<string, number>;
}

/** Counts per corpus for the shipped chain plus the fast path (F null: none). */
function tally(f: number | null, k: number): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const s of seqs) {
    let t = out.get(s.corpus);
    if (!t) out.set(s.corpus, (t = { neutral: 0, excited: 0, low: 0, early: 0, c6: 0, a10: 0, calls: {} }));
    t.calls[s.kind] = (t.calls[s.kind] ?? 0) + 1;
    const extra = f === null ? [] : fastTriggers(s.series, f, k);
    const all = [...s.alerts, ...extra].sort((x, y) => x - y);
    if (s.kind === 'neutral' || s.kind === 'excited' || s.kind === 'low') {
      if (all.length > 0) t[s.kind]++;
      continue;
    }
    const onset = s.onsetMs ?? 0;
    if (all.some((x) => x <= onset)) t.early++;
    const first = all.find((x) => x > onset);
    if (first === undefined) continue;
    if (s.kind === 'calm-then-angry' && first - onset <= 6000) t.c6++;
    if (s.kind === 'angry' && first - onset <= 10_000) t.a10++;
  }
  return out;
}

function sum(m: Map<string, Tally>, keep: (c: string) => boolean): Tally {
  const o: Tally = { neutral: 0, excited: 0, low: 0, early: 0, c6: 0, a10: 0, calls: {} };
  for (const [c, t] of m) {
    if (!keep(c)) continue;
    for (const key of ['neutral', 'excited', 'low', 'early', 'c6', 'a10'] as const) o[key] += t[key];
    for (const [kind, n] of Object.entries(t.calls)) o.calls[kind] = (o.calls[kind] ?? 0) + n;
  }
  return o;
}

/** calibrate-policy's per-kind allowances (5 / 10 / 10 / 5 %, rounded up), then the most in time. */
function score(t: Tally): number {
  const within =
    t.neutral <= Math.ceil(0.05 * (t.calls.neutral ?? 0)) &&
    t.excited <= Math.ceil(0.1 * (t.calls.excited ?? 0)) &&
    t.low <= Math.ceil(0.1 * (t.calls.low ?? 0)) &&
    t.early <= Math.ceil(0.05 * (t.calls['calm-then-angry'] ?? 0));
  const fa = t.neutral + t.excited + t.low + t.early;
  return within ? (t.c6 + t.a10) * 1000 - fa : Number.NEGATIVE_INFINITY;
}

/** One line: false alarms per kind, calm→angry within 6 s (and per corpus), angry-first within 10 s. */
function line(label: string, byCorpus: Map<string, Tally>): string {
  const t = sum(byCorpus, () => true);
  const c6 = Object.fromEntries([...byCorpus].filter(([, v]) => v.c6 > 0).map(([c, v]) => [c, v.c6]));
  const fa = t.neutral + t.excited + t.low + t.early;
  return `${label.padEnd(16)}FA ${t.neutral}/${t.excited}/${t.low}/${t.early} = ${fa}  c→a≤6 ${t.c6} ${JSON.stringify(c6)}  angry≤10 ${t.a10}  in time ${t.c6 + t.a10}`;
}

// The shipped chain alone, then with each fast path.
const options: { f: number | null; k: number }[] = [{ f: null, k: 0 }];
for (const f of [0.9, 0.93, 0.95, 0.97, 0.98, 0.99]) for (const k of [1, 2, 3, 4, 6]) options.push({ f, k });
const tallies = options.map((o) => tally(o.f, o.k));
process.stdout.write(`policy τ ${DEFAULT_POLICY_OPTIONS.smoothingTimeConstantMs} ms\n`);
options.forEach((o, i) => process.stdout.write(`${line(o.f === null ? 'shipped' : `F ${o.f} k ${o.k}`, tallies[i]!)}\n`));

// Nested: for each corpus, the fast path (or none) chosen on the other corpora, judged on it.
const corpora = [...tallies[0]!.keys()];
const nested: Tally[] = [];
for (const corpus of corpora) {
  let best = 0;
  tallies.forEach((t, i) => {
    if (score(sum(t, (c) => c !== corpus)) > score(sum(tallies[best]!, (c) => c !== corpus))) best = i;
  });
  const o = options[best]!;
  process.stdout.write(`nested choice without ${corpus}: ${o.f === null ? 'none' : `F ${o.f} k ${o.k}`}\n`);
  nested.push(sum(tallies[best]!, (c) => c === corpus));
}
const n = nested.reduce((a, t) => ({ ...a, neutral: a.neutral + t.neutral, excited: a.excited + t.excited, low: a.low + t.low, early: a.early + t.early, c6: a.c6 + t.c6, a10: a.a10 + t.a10 }));
const none = sum(tallies[0]!, () => true);
process.stdout.write(`nested: FA ${n.neutral}/${n.excited}/${n.low}/${n.early}, c→a≤6 ${n.c6}, angry≤10 ${n.a10}, in time ${n.c6 + n.a10} (no fast path: FA ${none.neutral}/${none.excited}/${none.low}/${none.early}, in time ${none.c6 + none.a10})\n`);
