/**
 * The agitation validation and the choice of the policy's and the agitation
 * tracker's defaults (issue 8).
 *
 *   npx tsx scripts/calibrate-policy.ts --loco-dir DIR [--before-dir DIR2] [--corpora nemo,turev,kor,ravdess]
 *        [--json] [--rescore] [--manifest FILE] [--root DIR] [--no-grid] [--no-demo]
 *        [--demo-model F --demo-card F] [--top N] [--objective targets|budget|score] [--fa-budget R] [--write-card models/emotion.json] [--require-demo]
 *        [--svg FILE] [--max-step-ms MS [--step-level P]]
 *
 * The choice (--objective): `targets` (the default) takes the setting that
 * detects the most calls in time (calm→angry within 6 s + angry-from-the-start
 * within 10 s) with no more false-alarm calls (neutral, excited, low prompted
 * + calm→angry prompted before the anger) than the issue's targets allow on
 * the same calls (5 % of neutral, 10 % of excited and of low, 5 % of
 * calm→angry: 15.9 of the 212 calls), and no kind of false alarm over its
 * own share rounded up to whole calls (3, 6, 6 and 3 of 53: excited calls
 * may not take neutral calls' share); `--fa-budget R` sets the pooled allowance
 * to a share R of the calls that must stay silent instead (for the frontier:
 * what each budget buys); `budget` the same within the false-alarm calls
 * "before" has on the same corpora; `score` is the target-excess score
 * (selectionScore). The demo fixtures' verdict is reported for every row;
 * `--require-demo` restricts the choice to settings under which they behave:
 * the calm call silent, the angry one flagged within 6 s of its anger (the
 * issue's demo criterion; issue 8: the demo must not dictate the policy
 * beyond that; rebuild it instead).
 * `--max-step-ms MS` (issue 8, seventh round) restricts the choice to
 * settings whose chain flags a head stepping from the calm prior to
 * `--step-level` (default 0.95) within MS of the onset
 * (src/eval/step-response.ts): our corpora's weak evidence rewards slow
 * chains, and a chain slower than the 6-s target on a perfect head cannot
 * meet it on anyone. Every row reports its step response.
 *
 * For every speaker of the corpora (src/eval/validation-calls.ts): a neutral
 * call, an excited call (neutral with happiness and surprise stretches), a
 * low call (neutral with sadness and fear stretches), a calm→angry call and
 * a call angry from the first second (≥ 62 s). Each is streamed through the
 * live path (call assembly → mu-law decode → CallerFeatureStream → model →
 * caller score baseline) and scored by the leave-one-corpus-out model that
 * never saw the speaker's corpus (DIR/loco-<corpus>.onnx + .json). The
 * scored windows are cached (DIR/validation-scores.json); every setting of
 * the grid (AgitationTracker options × policy options) is then replayed
 * through the real tracker and the real policy (src/eval/call-validation.ts).
 *
 * Reported, overall and per corpus, each rate with its counts:
 *   neutral / excited / low calls prompted (false alarms);
 *   calm→angry flagged within 6 s of the first anger clip, prompted before it;
 *   angry-from-the-start flagged within 10 s, at tier ≥ 2 at 60 s.
 * Rows: the defaults before issue 8 (on the --before-dir models when given:
 * the same calls scored by the models before issue 8), the current defaults, the setting
 * chosen on all corpora, and the NESTED figures:
 * for each corpus the setting chosen on the other corpora, judged on it.
 * The nested row is the honest one; the chosen row is what ships.
 * `--json` prints one JSON object as the last line. With the grid, a picture
 * of it (false-alarm calls against calls detected in time, every setting,
 * the frontier and these rows marked) goes to --svg FILE, by default
 * DIR/validation-frontier.svg.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readWav } from '../src/audio/wav.js';
import { createProgress } from '../src/cli/progress.js';
import {
  budgetScore,
  targetFalseAlarmBudget,
  falseAlarmCalls,
  ratesOf,
  replayCalls,
  selectionScore,
  sumCounts,
  targetsMet,
  tiersFrom,
  type ReplaySettings,
  type ValidationCall,
  type ValidationCounts,
  type ValidationRates,
} from '../src/eval/call-validation.js';
import { readManifest } from '../src/eval/manifest.js';
import { streamCall } from '../src/eval/call-assembly.js';
import { clipStartMs, locoModelPaths, scoreMuLawCall } from '../src/eval/simulated-calls.js';
import { scoreCallWindows } from '../src/model/caller-score-baseline.js';
import { planValidationCalls, VALIDATION_CALLS } from '../src/eval/validation-calls.js';
import { DEFAULT_AGITATION_TRACKER } from '../src/model/agitation-tracker.js';
import { loadEmotionModel } from '../src/model/emotion-model.js';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions } from '../src/policy/options.js';
import { renderFrontierSvg } from '../src/eval/validation-frontier-svg.js';
import { CLEAR_ANGER_LEVEL, stepResponseMs } from '../src/eval/step-response.js';

const PAUSE_S = 0.6; // call assembly's default pause between clips
const CACHE_VERSION = 3;
const DEMO_DIR = 'audio-fixtures/demo';
const DEMO_PAUSE_MS = 500; // scripts/build-demo-fixtures.sh

/** The shipped defaults before issue 8 (agitation = the anger head, no tracker): the reference row. */
const BEFORE_ISSUE_8: ReplaySettings = {
  policy: {
    smoothingTimeConstantMs: 1000,
    enterThresholds: { 2: 0.75, 3: 0.88, 4: 0.95 },
    exitThresholds: { 2: 0.6, 3: 0.73, 4: 0.8 },
    enterDwellMs: 1500,
    maxLift: 0,
    maxDrop: 0,
  },
  // Pinned: inheriting the tracker's current offset made this row move with every calibration.
  tracker: { relative: false, absoluteOffset: 0 },
};

interface Cache {
  version: number;
  key: string;
  calls: ValidationCall[];
  /** The same calls scored by the --before-dir models. */
  beforeCalls?: ValidationCall[];
  demo?: { key: string; calls: ValidationCall[] };
}

async function fileDigest(files: string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) h.update(await readFile(f));
  return h.digest('hex').slice(0, 16);
}

/** The demo's two calls scored by the production model (trained on their speakers: keeps the demo honest to itself only). */
async function scoreDemo(modelPath: string, cardPath: string, corporaRoot: string): Promise<ValidationCall[]> {
  const model = await loadEmotionModel({ modelPath, cardPath });
  try {
    const out: ValidationCall[] = [];
    for (const name of ['calm-then-angry', 'stays-calm'] as const) {
      const wav = readWav(await readFile(path.join(DEMO_DIR, `${name}.wav`)));
      if (!wav.muLaw) throw new Error(`${name}.wav is not mu-law`);
      let onsetMs: number | null = null;
      if (name === 'calm-then-angry') {
        const clips = (await readFile(path.join(DEMO_DIR, `${name}.clips.txt`), 'utf8')).trim().split('\n');
        onsetMs = 0;
        for (const clip of clips.slice(0, clips.findIndex((c) => c.includes('_anger_')))) {
          const w = readWav(await readFile(path.join(corporaRoot, clip)));
          onsetMs += ((w.muLaw?.length ?? w.samples.length) / w.sampleRate) * 1000 + DEMO_PAUSE_MS;
        }
      }
      out.push({
        corpus: 'demo',
        speaker: name,
        kind: name === 'stays-calm' ? 'neutral' : 'calm-then-angry',
        onsetMs,
        durationMs: (wav.muLaw.length / 8000) * 1000,
        ...(model.agitationTracker ? { tracker: model.agitationTracker } : {}),
        windows: await scoreMuLawCall(model, wav.muLaw, false),
      });
    }
    return out;
  } finally {
    await model.close();
  }
}

/**
 * Streams every call once and scores it with each model set's LOCO model of
 * the speaker's corpus (dirs[0] = the models judged, dirs[1] = the "before"
 * models, when given): one extraction, the same windows for both.
 */
async function scoreAll(manifest: string, root: string | undefined, dirs: string[], corpora: string[]): Promise<ValidationCall[][]> {
  const clips = await readManifest(manifest, root !== undefined ? { root } : {});
  const plans = planValidationCalls(clips, corpora);
  const totalS = plans.reduce((s, p) => s + p.clips.reduce((t, c) => t + c.durationS, 0), 0);
  const progress = createProgress({ label: 'scoring validation calls', total: totalS, unit: 's audio' });
  let doneS = 0;
  const out: ValidationCall[][] = dirs.map(() => []);
  for (const corpus of corpora) {
    const models = await Promise.all(dirs.map((d) => loadEmotionModel(locoModelPaths(d, corpus))));
    for (const p of plans.filter((x) => x.corpus === corpus)) {
      const res = await streamCall({ id: `${p.speaker}-${p.kind}`, speaker: p.speaker, clips: p.clips }, { pauseS: PAUSE_S });
      if (res.unreadable.length > 0) throw new Error(`call ${p.speaker}-${p.kind}: ${res.unreadable[0]!.reason}`);
      const vectors = res.windows.map((w) => w.window.values);
      for (const [k, model] of models.entries()) {
        const scores = await scoreCallWindows(model, vectors, 512, false);
        out[k]!.push({
          corpus,
          speaker: p.speaker,
          kind: p.kind,
          onsetMs: p.onsetClip >= 0 ? clipStartMs(res, p.onsetClip) : null,
          durationMs: (res.samples / 8000) * 1000,
          ...(model.agitationTracker ? { tracker: model.agitationTracker } : {}),
          windows: res.windows.map((w, i) => ({ audioMs: (w.window.endSample / 8000) * 1000, scores: scores[i]! })),
        });
      }
      doneS += p.clips.reduce((t, c) => t + c.durationS, 0);
      progress.update(doneS);
    }
    for (const m of models) await m.close();
  }
  progress.done();
  return out;
}

interface GridPoint {
  label: string;
  settings: ReplaySettings;
}

/** Tracker settings × policy settings explored. */
function grid(): GridPoint[] {
  const out: GridPoint[] = [];
  const policy = (tau: number, enter2: number, dwell: number): ReplaySettings['policy'] => ({
    smoothingTimeConstantMs: tau,
    ...tiersFrom(enter2),
    enterDwellMs: dwell,
    maxLift: 0,
    maxDrop: 0,
  });
  // The absolute head alone, shifted by an offset (< 0 raises it): a wide policy grid.
  for (const absoluteOffset of [-1, -0.5, 0, 0.5, 1, 1.5])
    for (const tau of [500, 1000, 2000, 3000])
      for (const enter2 of [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
        for (const dwell of [500, 1000, 1500])
          out.push({
            label: `abs-only off ${absoluteOffset} | tau ${tau} enter ${enter2.toFixed(2)} dwell ${dwell}`,
            settings: { tracker: { relative: false, absoluteOffset }, policy: policy(tau, enter2, dwell) },
          });
  // CUSUM evidence on either head, max with the absolute path: a narrower policy grid.
  const priorWindows = 40;
  for (const evidenceFrom of ['agitation', 'anger'] as const)
    for (const calmMargin of [0.5, 1.5])
      for (const maxNormLift of [0.5, 3])
        for (const drift of [0.5, 1, 1.5, 2])
          for (const evidenceHalf of [1, 2, 4])
            for (const absoluteOffset of [0, 1])
              for (const tau of [500, 2000])
                for (const enter2 of [0.55, 0.65, 0.75, 0.85, 0.95])
                  out.push({
                    label: `cusum(${evidenceFrom}) m ${calmMargin} lift ${maxNormLift} k ${drift} h ${evidenceHalf} off ${absoluteOffset} | tau ${tau} enter ${enter2.toFixed(2)} dwell 1000`,
                    settings: {
                      tracker: { relative: true, evidenceFrom, priorWindows, calmMargin, maxNormLift, drift, evidenceHalf, maxEvidence: 9 * evidenceHalf, absoluteOffset },
                      policy: policy(tau, enter2, 1000),
                    },
                  });
  return out;
}

const pct = (r: { rate: number | null; n: number; of: number }): string =>
  `${r.n}/${r.of}${r.rate === null ? '' : ` ${(100 * r.rate).toFixed(0)}%`}`;

const COLUMNS: [keyof ValidationRates, string][] = [
  ['neutral_prompted', 'neutral FA'],
  ['excited_prompted', 'excited FA'],
  ['low_prompted', 'low FA'],
  ['calm_to_angry_within_6s', 'c→a ≤6 s'],
  ['calm_to_angry_before_onset', 'c→a early'],
  ['calm_to_angry_detected', 'c→a any'],
  ['angry_first_within_10s', 'angry ≤10 s'],
  ['angry_first_tier2_at_60s', 'angry @60 s'],
];

function header(): string {
  return ['row'.padEnd(26), ...COLUMNS.map(([, h]) => h.padStart(12)), 'lat s'.padStart(6)].join(' ');
}

function line(name: string, r: ValidationRates): string {
  return [
    name.padEnd(26),
    ...COLUMNS.map(([k]) => pct(r[k] as { rate: number | null; n: number; of: number }).padStart(12)),
    String(r.calm_to_angry_median_latency_s ?? '—').padStart(6),
  ].join(' ');
}

function report(byCorpus: ReadonlyMap<string, ValidationCounts>) {
  const overall = ratesOf(sumCounts(byCorpus));
  return {
    overall,
    targets_met: targetsMet(overall),
    by_corpus: Object.fromEntries([...byCorpus].map(([c, v]) => [c, ratesOf(v)])),
  };
}

const USAGE = `usage: npx tsx scripts/calibrate-policy.ts --loco-dir DIR [--before-dir DIR2] [--corpora nemo,turev,kor,ravdess]
       [--json] [--rescore] [--manifest FILE] [--root DIR] [--cache FILE] [--no-grid] [--no-demo] [--require-demo]
       [--demo-model F --demo-card F] [--top N] [--objective targets|budget|score] [--fa-budget R]
       [--write-card models/emotion.json] [--svg FILE] [--max-step-ms MS [--step-level P]]
(the file's header says what each does)
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      'loco-dir': { type: 'string', default: 'models/training/.work/loco' },
      'before-dir': { type: 'string' },
      manifest: { type: 'string', default: '../shared/corpora/manifest.csv' },
      root: { type: 'string' },
      corpora: { type: 'string', default: 'nemo,turev,kor,ravdess' },
      cache: { type: 'string' },
      top: { type: 'string', default: '10' },
      rescore: { type: 'boolean', default: false },
      'no-grid': { type: 'boolean', default: false },
      'demo-model': { type: 'string', default: 'models/emotion.onnx' },
      'demo-card': { type: 'string', default: 'models/emotion.json' },
      'no-demo': { type: 'boolean', default: false },
      'require-demo': { type: 'boolean', default: false },
      objective: { type: 'string' },
      'fa-budget': { type: 'string' },
      json: { type: 'boolean', default: false },
      'write-card': { type: 'string' },
      svg: { type: 'string' },
      'max-step-ms': { type: 'string' },
      'step-level': { type: 'string', default: String(CLEAR_ANGER_LEVEL) },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const locoDir = values['loco-dir'];
  const corpora = values.corpora.split(',').filter(Boolean);
  const beforeDir = values['before-dir'];
  const dirs = beforeDir ? [locoDir, beforeDir] : [locoDir];
  const modelFiles = dirs.flatMap((d) => corpora.flatMap((c) => Object.values(locoModelPaths(d, c))));
  const key = `${CACHE_VERSION}:${await fileDigest([...modelFiles, values.manifest])}:${corpora.join(',')}:${JSON.stringify(VALIDATION_CALLS)}`;
  const cachePath = values.cache ?? path.join(locoDir, 'validation-scores.json');
  let cache: Cache | undefined;
  if (!values.rescore) {
    try {
      cache = JSON.parse(await readFile(cachePath, 'utf8')) as Cache;
    } catch {
      // no cache yet
    }
  }
  const hit = cache?.version === CACHE_VERSION && cache.key === key;
  let calls = hit ? cache!.calls : undefined;
  let beforeCalls = hit ? cache!.beforeCalls : undefined;
  let dirty = false;
  if (!calls) {
    const scored = await scoreAll(values.manifest, values.root, dirs, corpora);
    calls = scored[0]!;
    beforeCalls = scored[1];
    dirty = true;
  } else process.stderr.write(`using cached scored windows from ${cachePath}\n`);
  let demo: ValidationCall[] | undefined;
  let demoEntry: Cache['demo'];
  if (!values['no-demo']) {
    const demoKey = await fileDigest([
      values['demo-model'],
      values['demo-card'],
      ...['calm-then-angry', 'stays-calm'].map((n) => path.join(DEMO_DIR, `${n}.wav`)),
    ]).catch(() => 'unreadable');
    demo = cache?.demo?.key === demoKey ? cache.demo.calls : undefined;
    if (!demo) {
      try {
        demo = await scoreDemo(values['demo-model'], values['demo-card'], path.dirname(values.manifest));
        dirty = true;
      } catch (err) {
        process.stderr.write(`demo check skipped: ${(err as Error).message.split('\n')[0]}\n`);
      }
    }
    if (demo) demoEntry = { key: demoKey, calls: demo };
  }
  if (dirty) {
    await writeFile(cachePath, JSON.stringify({ version: CACHE_VERSION, key, calls, beforeCalls, ...(demoEntry ? { demo: demoEntry } : {}) }));
    process.stderr.write(`scored windows cached in ${cachePath}\n`);
  }
  /** The demo behaves: stays-calm silent; calm-then-angry flagged after its onset (within 6 s counted apart). */
  const demoCheck = (s: ReplaySettings): { ok: boolean; latencyS: number | null } | undefined => {
    if (!demo) return undefined;
    const c = sumCounts(replayCalls(demo, s));
    return {
      // Issue 8's demo criterion: the calm call silent, the angry one flagged within 6 s of its anger.
      ok: c.neutralPrompted === 0 && c.calmToAngryBeforeOnset === 0 && c.calmToAngryWithin6s === 1,
      latencyS: c.calmToAngryLatencyS[0] ?? null,
    };
  };

  if (!calls) throw new Error('no calls scored');
  const maxStepMs = values['max-step-ms'] !== undefined ? Number(values['max-step-ms']) : undefined;
  if (maxStepMs !== undefined && !(maxStepMs > 0)) throw new Error(`--max-step-ms must be a positive number of ms (got ${values['max-step-ms']})`);
  const stepLevel = Number(values['step-level']);
  if (!(stepLevel > 0 && stepLevel < 1)) throw new Error(`--step-level must lie between 0 and 1 (got ${values['step-level']})`);
  // The shipped model's prior (the demo calls are scored by it); else the first held-out model's.
  const stepPrior = demo?.[0]?.tracker ?? calls.find((c) => c.tracker)?.tracker ?? { calmLogit: 0 };
  const stepMs = (s: ReplaySettings): number => stepResponseMs(s, stepPrior, { level: stepLevel });
  const stepText = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : ms > 0 ? 'never' : 'trips on calm');
  const stepOkMs = (ms: number): boolean => maxStepMs === undefined || (Number.isFinite(ms) && ms <= maxStepMs);
  const speakers = new Set(calls.map((c) => `${c.corpus}/${c.speaker}`));
  const current: ReplaySettings = {
    policy: DEFAULT_POLICY_OPTIONS as Partial<PolicyOptions>,
    tracker: { ...DEFAULT_AGITATION_TRACKER },
  };
  const rows: { name: string; settings: ReplaySettings; byCorpus: Map<string, ValidationCounts> }[] = [
    // With --before-dir: the old models (and defaults) on the same calls; else the judged models with the old defaults.
    { name: beforeCalls ? 'before (old models)' : 'old defaults', settings: BEFORE_ISSUE_8, byCorpus: replayCalls(beforeCalls ?? calls, BEFORE_ISSUE_8) },
    { name: 'current defaults', settings: current, byCorpus: replayCalls(calls, current) },
  ];
  const out: Record<string, unknown> = {
    loco_dir: locoDir,
    corpora,
    speakers: speakers.size,
    calls: calls.length,
    calls_by_kind: Object.fromEntries(['neutral', 'excited', 'low', 'calm-then-angry', 'angry'].map((k) => [k, calls.filter((c) => c.kind === k).length])),
    before: { models: beforeDir ?? locoDir, settings: BEFORE_ISSUE_8, ...report(rows[0]!.byCorpus) },
    current: { settings: current, demo: demoCheck(current), step_response_ms: stepMs(current), ...report(rows[1]!.byCorpus) },
    step_response: { level: stepLevel, calm_logit: stepPrior.calmLogit, max_ms: maxStepMs ?? null },
  };

  process.stdout.write(
    `agitation validation: ${speakers.size} unseen speakers (${corpora.join(', ')}), ${calls.length} calls, LOCO models in ${locoDir}\n` +
      `FA = calls with a prompt; c→a ≤6 s = calm→angry flagged within 6 s of the first anger clip; early = prompted before it; ` +
      `angry ≤10 s = angry-from-the-start flagged within 10 s; @60 s = at tier ≥ 2 at 60 s; lat = median s over flagged c→a\n\n${header()}\n`,
  );
  for (const r of rows) process.stdout.write(`${line(r.name, ratesOf(sumCounts(r.byCorpus)))}\n`);
  process.stdout.write(
    `step response (head ${stepLevel} after the calm prior): old defaults ${stepText(stepMs(BEFORE_ISSUE_8))}, current defaults ${stepText(stepMs(current))}` +
      `${maxStepMs !== undefined ? `; required ≤ ${maxStepMs} ms` : ''}\n`,
  );

  if (!values['no-grid']) {
    const points = grid();
    const progress = createProgress({ label: 'replaying settings', total: points.length, unit: 'sets' });
    const results = points.map((g, i) => {
      const byCorpus = replayCalls(calls, g.settings);
      progress.update(i + 1);
      return { ...g, byCorpus };
    });
    progress.done();
    // The demo verdict depends on the settings only: once per point, on demand.
    const demoOk = new Map<number, boolean>();
    const okAt = (i: number): boolean => {
      if (!demo) return true;
      if (!demoOk.has(i)) demoOk.set(i, demoCheck(results[i]!.settings)!.ok);
      return demoOk.get(i)!;
    };
    const stepAt = new Map<number, number>();
    const stepOf = (i: number): number => {
      if (!stepAt.has(i)) stepAt.set(i, stepMs(results[i]!.settings));
      return stepAt.get(i)!;
    };
    // targets (the default): the most calls detected in time within the false-alarm
    // calls the issue's targets allow on the same corpora; budget: within "before"'s
    // false-alarm calls; score: the target-excess score.
    const objective = values.objective ?? 'targets';
    if (objective !== 'targets' && objective !== 'budget' && objective !== 'score') {
      throw new Error(`--objective must be targets, budget or score (got ${objective})`);
    }
    const beforeByCorpus = rows[0]!.byCorpus;
    // --fa-budget R: a share of the calls that must stay silent (so a nested fold gets its share).
    const faShare = values['fa-budget'] !== undefined ? Number(values['fa-budget']) : undefined;
    if (faShare !== undefined && !(faShare >= 0 && faShare <= 1)) throw new Error('--fa-budget must be a share between 0 and 1');
    const silentCalls = (c: ValidationCounts): number => c.neutral + c.excited + c.low + c.calmToAngry;
    const budgetOf = (keep: (corpus: string) => boolean): number =>
      faShare !== undefined
        ? faShare * silentCalls(sumCounts(beforeByCorpus, keep))
        : objective === 'targets'
          ? targetFalseAlarmBudget(sumCounts(beforeByCorpus, keep))
          : falseAlarmCalls(sumCounts(beforeByCorpus, keep));
    const scoreOf = (byCorpus: ReadonlyMap<string, ValidationCounts>, keep: (corpus: string) => boolean): number =>
      objective === 'score' ? selectionScore(sumCounts(byCorpus, keep)) : budgetScore(sumCounts(byCorpus, keep), budgetOf(keep), objective === 'targets' && faShare === undefined);
    const cmp = (a: { i: number; s: number }, b: { i: number; s: number }): number => (a.s === b.s ? a.i - b.i : b.s > a.s ? 1 : -1);
    const ranking = (keep: (corpus: string) => boolean) => results.map((r, i) => ({ i, s: scoreOf(r.byCorpus, keep) })).sort(cmp);
    const requireDemo = values['require-demo'];
    const pick = (keep: (corpus: string) => boolean, withDemo = requireDemo): number => {
      const order = ranking(keep).filter((o) => stepOkMs(stepOf(o.i)));
      if (order.length === 0) throw new Error(`no setting of the grid flags a step to ${stepLevel} within ${maxStepMs} ms`);
      return withDemo ? (order.find((o) => okAt(o.i)) ?? order[0]!).i : order[0]!.i;
    };
    const chosenIndex = pick(() => true);
    const chosen = results[chosenIndex]!;
    // The other side of the demo constraint: what requiring (or not requiring) the demo to behave would pick.
    const altIndex = pick(() => true, !requireDemo);
    const alt = results[altIndex]!;
    const altName = requireDemo ? 'best, demo not required' : 'best with the demo behaving';
    process.stdout.write(`${line('chosen (all corpora)', ratesOf(sumCounts(chosen.byCorpus)))}\n`);
    if (altIndex !== chosenIndex) process.stdout.write(`${line(altName, ratesOf(sumCounts(alt.byCorpus)))}\n`);
    // Nested: for each corpus, the setting chosen on the other corpora, judged on it.
    const nestedByCorpus = new Map<string, ValidationCounts>();
    const nestedChoice: Record<string, string> = {};
    for (const corpus of corpora) {
      const i = pick((c) => c !== corpus);
      nestedChoice[corpus] = results[i]!.label;
      nestedByCorpus.set(corpus, sumCounts(results[i]!.byCorpus, (c) => c === corpus));
    }
    process.stdout.write(`${line('nested (held-out corpora)', ratesOf(sumCounts(nestedByCorpus)))}\n\nper corpus:\n`);
    for (const corpus of corpora) {
      for (const r of rows) process.stdout.write(`${line(`${corpus}: ${r.name}`, ratesOf(r.byCorpus.get(corpus)!))}\n`);
      process.stdout.write(`${line(`${corpus}: chosen`, ratesOf(chosen.byCorpus.get(corpus)!))}\n`);
      process.stdout.write(`${line(`${corpus}: nested`, ratesOf(nestedByCorpus.get(corpus)!))}\n`);
    }
    process.stdout.write(
      `\nobjective: ${objective}; chosen: ${chosen.label}${demo ? ` (demo ${JSON.stringify(demoCheck(chosen.settings))})` : ''}; step response ${stepText(stepOf(chosenIndex))}\n`,
    );
    if (altIndex !== chosenIndex) process.stdout.write(`${altName}: ${alt.label}\n`);
    for (const corpus of corpora) process.stdout.write(`nested choice without ${corpus}: ${nestedChoice[corpus]}\n`);
    const ranked = ranking(() => true)
      .slice(0, Number(values.top))
      .map(({ i, s }) => ({ r: results[i]!, i, s }));
    const what =
      objective === 'score'
        ? 'score = detection − 3 × false-alarm excess over target'
        : `score = 10⁶ × calls detected in time − 10³ × false-alarm calls + held at 60 s, within ${budgetOf(() => true).toFixed(1)} false-alarm calls (${faShare !== undefined ? `--fa-budget ${faShare}` : objective === 'targets' ? "the targets' allowance" : '"before"\'s'})`;
    process.stdout.write(`\ntop ${values.top} on all corpora (${what}):\n`);
    for (const { r, s, i } of ranked) {
      const dm = demo ? demoCheck(r.settings)! : undefined;
      const tag = `${dm ? ` [demo ${dm.ok ? 'ok' : 'no'}${dm.latencyS !== null ? ` ${dm.latencyS.toFixed(1)} s` : ''}]` : ''} [step ${stepText(stepOf(i))}]`;
      process.stdout.write(`${line(s.toFixed(3), ratesOf(sumCounts(r.byCorpus)))}  ${r.label}${tag}${i === chosenIndex ? ' ← chosen' : ''}\n`);
    }
    out.grid = points.length;
    out.chosen = { label: chosen.label, settings: chosen.settings, demo: demoCheck(chosen.settings), step_response_ms: stepOf(chosenIndex), ...report(chosen.byCorpus) };
    out.objective = objective;
    out[requireDemo ? 'best_without_demo' : 'best_with_demo'] = { label: alt.label, settings: alt.settings, demo: demoCheck(alt.settings), ...report(alt.byCorpus) };
    out.nested = { choice_without: nestedChoice, ...report(nestedByCorpus) };
    const currentCounts = sumCounts(rows[1]!.byCorpus);
    const svgPath = values.svg ?? path.join(locoDir, 'validation-frontier.svg');
    await writeFile(
      svgPath,
      renderFrontierSvg({
        title: `Agitation validation: ${speakers.size} unseen speakers, ${calls.length} calls, ${points.length} settings (LOCO models)`,
        grid: results.map((r) => sumCounts(r.byCorpus)),
        // What the choice may take: the step response within its limit, and the demo behaving when required.
        eligible: results.map((_, i) => stepOkMs(stepOf(i)) && (!requireDemo || okAt(i))),
        ineligibleWhy: [maxStepMs !== undefined ? `step response over ${maxStepMs / 1000} s` : '', requireDemo ? 'demo misbehaving' : '']
          .filter(Boolean)
          .join(' or '),
        marks: [
          { label: rows[0]!.name, counts: sumCounts(rows[0]!.byCorpus), color: '#7f7f7f' },
          { label: 'current defaults', counts: currentCounts, color: '#d62728' },
          { label: `chosen (${objective})`, counts: sumCounts(chosen.byCorpus), color: '#ff7f0e' },
          { label: 'nested (held-out corpora)', counts: sumCounts(nestedByCorpus), color: '#9467bd' },
        ],
        allowance: targetFalseAlarmBudget(currentCounts),
        silentCalls: silentCalls(currentCounts),
        detectableCalls: currentCounts.calmToAngry + currentCounts.angry,
      }),
    );
    process.stdout.write(`\npicture: ${svgPath}\n`);
  }
  if (values['write-card']) await writeCardValidation(values['write-card'], out);
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

/**
 * Records the call-level validation in a model card (`validation.simulatedCalls`):
 * the current defaults' figures, and with the grid the chosen and nested rows,
 * so the card carries the figures its shipped defaults were judged by.
 */
async function writeCardValidation(cardPath: string, out: Record<string, unknown>): Promise<void> {
  const card = JSON.parse(await readFile(cardPath, 'utf8')) as { validation?: Record<string, unknown> };
  const keep = ['calls', 'calls_by_kind', 'before', 'current', 'step_response', 'objective', 'chosen', 'nested'];
  card.validation = {
    ...card.validation,
    simulatedCalls: {
      command: `npx tsx scripts/calibrate-policy.ts ${process.argv.slice(2).join(' ')}`,
      what:
        'per unseen speaker neutral / excited / low / calm->angry / angry-from-the-first-second (>= 62 s) calls, scored by ' +
        'the LOCO model that never saw the speaker\'s corpus, through the AgitationTracker and the escalation policy; rates as {rate, n, of}',
      ...Object.fromEntries(keep.filter((k) => out[k] !== undefined).map((k) => [k, out[k]])),
    },
  };
  await writeFile(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  process.stdout.write(`call-level validation written to ${cardPath} (validation.simulatedCalls)\n`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A mistyped option is the user's, not a bug: say what and how to call it, without a stack.
    if (String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`calibrate-policy: ${(err as Error).message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`calibrate-policy: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
