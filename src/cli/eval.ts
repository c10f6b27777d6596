/**
 * `undertone eval --manifest FILE [--root DIR] [--json]`
 *
 * Streams a manifest's clips through the live path — mu-law → decoder →
 * CallerFeatureStream → EmotionModel — each speaker's clips as one call
 * (the same call assembly as train-features; `--per-label`: one call per
 * speaker and label), aggregates window scores per
 * clip and reports clip-level UAR for `anger`, `emotion4` and `arousal`,
 * overall and per corpus, with confusion matrices (text and an SVG picture),
 * plus the absolute agitation head's anger-vs-rest UAR and the anger-vs-
 * happiness UAR of both heads (`agitation_uar`, `anger_vs_happiness_uar`,
 * `agitation_vs_happiness_uar`).
 * With --json the last line printed is one JSON object.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { planCalls } from '../eval/call-assembly.js';
import { runCalls } from '../eval/call-runner.js';
import { collectUnreadable, formatUnreadable } from '../eval/unreadable.js';
import { aggregateClips, type ClipResult, type ScoredClipWindow } from '../eval/clip-scores.js';
import { renderConfusionSvg, type ConfusionPanel } from '../eval/confusion-svg.js';
import { readManifest } from '../eval/manifest.js';
import { CALL_ASSEMBLY_OPTIONS, readCallAssemblyArgs } from './call-assembly-args.js';
import { TASK_NAMES, binaryUar, confusionsFor, formatConfusion, uar, type ClipPrediction, type TaskConfusions } from '../eval/metrics.js';
import { createProgress } from './progress.js';
import { loadEmotionModel } from '../model/emotion-model.js';
import { scoreCallWindows } from '../model/caller-score-baseline.js';

const USAGE = `usage: undertone eval --manifest FILE [options]

  --manifest FILE   clip manifest (CSV: path, corpus, speaker, label, arousal, ...)
  --root DIR        folder the manifest's paths are relative to (default: the manifest's folder)
  --json            print one JSON summary object as the last line
  --model FILE      ONNX model (default models/emotion.onnx)
  --card FILE       model card (default models/emotion.json)
  --figure FILE     confusion-matrix SVG (default <tmp>/undertone-eval/<manifest>-confusion.svg)
  --seed N          clip-order seed (default 1)
  --pause S         pause between clips in a call, seconds (default 0.6)
  --jobs N          worker threads for feature extraction (default: CPU count)
  --per-label       one call per speaker and label instead of per speaker: every caller holds one
                    emotion all call (a corpus whose speakers are each angry, or not, throughout)
`;

interface TaskUars {
  anger_uar: number | null;
  emotion4_uar: number | null;
  arousal_uar: number | null;
}

function uars(c: TaskConfusions): TaskUars {
  return { anger_uar: uar(c.anger), emotion4_uar: uar(c.emotion4), arousal_uar: uar(c.arousal) };
}

/** Issue 8's extra figures: the policy's score (absolute agitation) and the anger-vs-happiness split. */
function extraUars(clips: readonly ClipPrediction[]) {
  return {
    agitation_uar: round(binaryUar(clips, (c) => c.agitation, 'anger')),
    anger_vs_happiness_uar: round(binaryUar(clips, (c) => c.angerVsRest, 'anger', ['happiness'])),
    agitation_vs_happiness_uar: round(binaryUar(clips, (c) => c.agitation, 'anger', ['happiness'])),
  };
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10000) / 10000;
}

function fmt(v: number | null): string {
  return v === null ? '    -' : v.toFixed(3);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CALL_ASSEMBLY_OPTIONS,
      json: { type: 'boolean', default: false },
      model: { type: 'string', default: 'models/emotion.onnx' },
      card: { type: 'string', default: 'models/emotion.json' },
      figure: { type: 'string' },
      'per-label': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const args = readCallAssemblyArgs(values);
  if (typeof args === 'string') {
    process.stderr.write(`eval: ${args}\n\n${USAGE}`);
    return 2;
  }
  const out = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };

  const model = await loadEmotionModel({ modelPath: values.model, cardPath: values.card });
  try {
    const clips = await readManifest(args.manifest, args.root !== undefined ? { root: args.root } : {});
    const plans = planCalls(clips, { seed: args.seed, perLabel: values['per-label'] === true });
    const totalS = clips.reduce((s, c) => s + c.durationS, 0);
    process.stderr.write(
      `eval: ${clips.length} clips in ${plans.length} calls (${(totalS / 60).toFixed(1)} min), model ${model.version}\n`,
    );
    const progress = createProgress({ label: 'eval', total: totalS, unit: 's of audio' });
    let doneS = 0;
    const t0 = Date.now();
    const results = await runCalls(
      plans.map((plan) => ({ plan, pass: 0 })),
      {
        seed: args.seed,
        pauseS: args.pauseS,
        ...(args.jobs !== undefined ? { jobs: args.jobs } : {}),
        onProgress: (s) => progress.update((doneS += s)),
      },
    );
    progress.done();
    const unreadable = collectUnreadable(results, clips);
    process.stderr.write(formatUnreadable('eval', unreadable));
    const unreadableSet = new Set(unreadable.map((u) => u.clip.index));

    // Score every call's windows with the one shared model, each call in
    // order through its own caller score baseline, as on a live call.
    const windows: ScoredClipWindow[] = [];
    const nf = model.featureNames.length;
    let windowCount = 0;
    for (const r of results) {
      const n = r.clipIndex.length;
      windowCount += n;
      const vectors = Array.from({ length: n }, (_, i) => r.values.subarray(i * nf, (i + 1) * nf));
      // Absolute agitation per window (no per-call tracker): clip-level agitation UAR measures the model's head.
      const scores = await scoreCallWindows(model, vectors, 512, false);
      scores.forEach((sc, i) => {
        const ci = r.clipIndex[i]!;
        if (ci >= 0) windows.push({ clip: clips[ci]!, share: r.share[i]!, scores: sc });
      });
    }
    const agg = aggregateClips(clips, windows);
    const scored = agg.scored;
    const unscored = agg.unscored.filter((c) => !unreadableSet.has(c.index));
    const secs = (Date.now() - t0) / 1000;

    const corpora = [...new Set(scored.map((c) => c.clip.corpus))].sort();
    const byCorpus = new Map<string, ClipResult[]>(corpora.map((c) => [c, scored.filter((r) => r.clip.corpus === c)]));
    const overall = confusionsFor(scored);
    const perCorpus = new Map([...byCorpus].map(([c, list]) => [c, confusionsFor(list)]));

    out(`eval: model ${model.version}, ${scored.length}/${clips.length} clips scored from ${windowCount} windows in ${secs.toFixed(1)} s`);
    if (unreadable.length) out(`  ${unreadable.length} clip(s) could not be read and are not counted (listed on stderr)`);
    if (unscored.length) {
      out(`  ${unscored.length} clip(s) produced no speech window and are not counted: ` +
        `${unscored.slice(0, 5).map((c) => c.path).join(', ')}${unscored.length > 5 ? ', ...' : ''}`);
    }
    out('');
    out(`${'scope'.padEnd(10)}${'clips'.padStart(7)}${'anger'.padStart(9)}${'emotion4'.padStart(10)}${'arousal'.padStart(9)}   (clip-level UAR)`);
    const row = (name: string, n: number, u: TaskUars): string =>
      `${name.padEnd(10)}${String(n).padStart(7)}${fmt(u.anger_uar).padStart(9)}${fmt(u.emotion4_uar).padStart(10)}${fmt(u.arousal_uar).padStart(9)}`;
    for (const [c, list] of byCorpus) out(row(c, list.length, uars(perCorpus.get(c)!)));
    out(row('overall', scored.length, uars(overall)));
    out('');
    out(`${'scope'.padEnd(10)}${'agitation'.padStart(10)}${'anger/happy'.padStart(13)}${'agit/happy'.padStart(12)}   (clip-level UAR; x/happy = anger vs happiness clips only)`);
    for (const [c, list] of [...byCorpus, ['overall', scored] as const]) {
      const e = extraUars(list);
      out(`${String(c).padEnd(10)}${fmt(e.agitation_uar).padStart(10)}${fmt(e.anger_vs_happiness_uar).padStart(13)}${fmt(e.agitation_vs_happiness_uar).padStart(12)}`);
    }
    out('');
    for (const task of TASK_NAMES) {
      out(formatConfusion(`overall · ${task}`, overall[task]));
      out('');
    }
    for (const [c, conf] of perCorpus) {
      for (const task of TASK_NAMES) {
        if (conf[task].matrix.some((r) => r.some((v) => v > 0))) {
          out(formatConfusion(`${c} · ${task}`, conf[task]));
          out('');
        }
      }
    }

    const figure =
      values.figure ??
      path.join(os.tmpdir(), 'undertone-eval', `${path.basename(args.manifest, path.extname(args.manifest))}-confusion.svg`);
    const panels: ConfusionPanel[][] = TASK_NAMES.map((task) => [
      { title: `overall · ${task}`, confusion: overall[task] },
      ...[...perCorpus]
        .filter(([, conf]) => conf[task].matrix.some((r) => r.some((v) => v > 0)))
        .map(([c, conf]) => ({ title: `${c} · ${task}`, confusion: conf[task] })),
    ]);
    await mkdir(path.dirname(path.resolve(figure)), { recursive: true });
    await writeFile(figure, renderConfusionSvg(`Undertone eval — ${path.basename(args.manifest)} — model ${model.version}`, panels));
    out(`confusion matrices: ${path.resolve(figure)}`);

    if (values.json) {
      const u = uars(overall);
      const summary = {
        clips: scored.length,
        assembly: values['per-label'] === true ? 'per-label' : 'speaker',
        overall: { anger_uar: round(u.anger_uar), emotion4_uar: round(u.emotion4_uar), arousal_uar: round(u.arousal_uar), ...extraUars(scored) },
        by_corpus: Object.fromEntries(
          [...perCorpus].map(([c, conf]) => {
            const v = uars(conf);
            return [
              c,
              {
                anger_uar: round(v.anger_uar),
                emotion4_uar: round(v.emotion4_uar),
                arousal_uar: round(v.arousal_uar),
                ...extraUars(byCorpus.get(c)!),
                clips: byCorpus.get(c)!.length,
              },
            ];
          }),
        ),
      };
      out(JSON.stringify(summary));
    }
    return 0;
  } finally {
    await model.close();
  }
}
