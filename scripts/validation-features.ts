/**
 * Streams the agitation validation calls (src/eval/validation-calls.ts: per
 * speaker a neutral, excited, low, calm→angry and angry-from-the-start call)
 * through the live feature path and writes their windows as a features.bin
 * (the train-features format), so that model candidates can be judged on
 * the CALL-level validation in Python without exporting each to ONNX
 * (models/training/call_probe.py). The calls and windows are exactly those
 * `scripts/calibrate-policy.ts` scores; only the model differs.
 *
 *   npx tsx scripts/validation-features.ts [--manifest F] [--root DIR] [--out F]
 *        [--corpora nemo,turev,kor,ravdess] [--jobs N]
 *
 * Meta per window: `call` (index into header.calls), `audioMs` (window end,
 * ms since the call started, the policy's clock), `clip` (manifest index of
 * the clip the window overlaps most, −1 in pauses), `speechRatio`.
 * header.calls[i] = { corpus, speaker, kind, onsetMs } with onsetMs the
 * start of the first anger clip (−1 when the call has none).
 */
import { parseArgs } from 'node:util';
import { createProgress } from '../src/cli/progress.js';
import { runCalls, type CallJob } from '../src/eval/call-runner.js';
import { writeFeaturesFile } from '../src/eval/features-file.js';
import { readManifest } from '../src/eval/manifest.js';
import { planValidationCalls } from '../src/eval/validation-calls.js';
import { FEATURE_CONFIG, FEATURE_NAMES } from '../src/features/feature-names.js';
import { PIPELINE_SAMPLE_RATE } from '../src/features/types.js';
import { loadCallAudioAsMuLaw } from '../src/audio/load-call-audio.js';

const PAUSE_S = 0.6; // the calibration tool's pause between clips
const META_NAMES = ['call', 'audioMs', 'clip', 'speechRatio'] as const;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      manifest: { type: 'string', default: '../shared/corpora/manifest.csv' },
      root: { type: 'string' },
      out: { type: 'string', default: 'models/training/.work/validation-features.bin' },
      corpora: { type: 'string', default: 'nemo,turev,kor,ravdess' },
      jobs: { type: 'string' },
    },
  });
  const corpora = values.corpora.split(',').filter(Boolean);
  const clips = await readManifest(values.manifest, values.root !== undefined ? { root: values.root } : {});
  const plans = planValidationCalls(clips, corpora);
  const jobs: CallJob[] = plans.map((p) => ({ plan: { id: `${p.speaker}-${p.kind}`, speaker: p.speaker, clips: p.clips }, pass: 0 }));
  // Onsets from the clips' exact lengths: the assembly plays a pause, then
  // clip, pause, clip, … (src/eval/call-assembly.ts).
  const pauseSamples = Math.round(PAUSE_S * PIPELINE_SAMPLE_RATE);
  const lengthOf = new Map<number, number>();
  const onsets: number[] = [];
  for (const p of plans) {
    if (p.onsetClip < 0) {
      onsets.push(-1);
      continue;
    }
    let at = pauseSamples;
    for (let i = 0; i < p.onsetClip; i++) {
      const c = p.clips[i]!;
      let n = lengthOf.get(c.index);
      if (n === undefined) {
        n = (await loadCallAudioAsMuLaw(c.file)).length;
        lengthOf.set(c.index, n);
      }
      at += n + pauseSamples;
    }
    onsets.push((at / PIPELINE_SAMPLE_RATE) * 1000);
  }
  const totalS = plans.reduce((s, p) => s + p.clips.reduce((t, c) => t + c.durationS, 0), 0);
  process.stderr.write(`validation-features: ${plans.length} calls, ${(totalS / 3600).toFixed(2)} h of audio\n`);
  const progress = createProgress({ label: 'streaming', total: totalS, unit: 's of audio' });
  let done = 0;
  const results = await runCalls(jobs, {
    pauseS: PAUSE_S,
    ...(values.jobs ? { jobs: Number(values.jobs) } : {}),
    onProgress: (s) => progress.update((done += s)),
  });
  progress.done();
  const nf = FEATURE_NAMES.length;
  const rows = results.reduce((s, r) => s + r.clipIndex.length, 0);
  const x = new Float32Array(rows * nf);
  const meta = new Float32Array(rows * META_NAMES.length);
  let row = 0;
  results.forEach((r, call) => {
    if (r.unreadable.length > 0) throw new Error(`call ${jobs[call]!.plan.id}: unreadable clips`);
    for (let i = 0; i < r.clipIndex.length; i++, row++) {
      x.set(r.values.subarray(i * nf, (i + 1) * nf), row * nf);
      meta.set([call, (r.endSample[i]! / PIPELINE_SAMPLE_RATE) * 1000, r.clipIndex[i]!, r.speechRatio[i]!], row * META_NAMES.length);
    }
  });
  await writeFeaturesFile(
    values.out,
    {
      featureNames: FEATURE_NAMES,
      metaNames: META_NAMES,
      rows,
      clips: clips.map((c) => ({ corpus: c.corpus, speaker: c.speaker, label: c.label })),
      options: {
        featureConfig: FEATURE_CONFIG,
        pauseS: PAUSE_S,
        calls: plans.map((p, i) => ({ corpus: p.corpus, speaker: p.speaker, kind: p.kind, onsetMs: onsets[i]! })),
      },
    },
    x,
    meta,
  );
  process.stderr.write(`validation-features: ${rows} windows → ${values.out}\n`);
  return 0;
}

process.exitCode = await main();
