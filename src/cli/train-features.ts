/**
 * `undertone train-features --manifest FILE [--root DIR] [--out FILE]`
 *
 * Extracts training windows from a manifest through the live path (mu-law →
 * decoder → CallerFeatureStream), each speaker's clips as one call, and
 * writes features.bin for models/training/train.py. Run by `npm run train`.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_CONFIG, FEATURE_NAMES } from '../features/feature-names.js';
import { planCalls } from '../eval/call-assembly.js';
import { planEpisodeCalls } from '../eval/episode-calls.js';
import { runCalls, type CallJob, type CallWindows } from '../eval/call-runner.js';
import { collectUnreadable, formatUnreadable } from '../eval/unreadable.js';
import { writeFeaturesFile } from '../eval/features-file.js';
import { readManifest } from '../eval/manifest.js';
import { CALL_ASSEMBLY_OPTIONS, readCallAssemblyArgs } from './call-assembly-args.js';
import { createProgress } from './progress.js';
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';

const USAGE = `usage: undertone train-features --manifest FILE [options]

  --manifest FILE    clip manifest (CSV: path, corpus, speaker, label, arousal, ...)
  --root DIR         folder the manifest's paths are relative to (default: the manifest's folder)
  --out FILE         output (default models/training/.work/features.bin)
  --seed N           clip-order and augmentation seed (default 1)
  --pause S          pause between clips in a call, seconds (default 0.6)
  --augment N        add N augmented passes of every call: gain, line noise, 20 ms packet loss (default 0)
  --speed LIST       add one pass per factor, every clip played that much faster (e.g. 0.9,1.1:
                     speed perturbation, new voices from the same speakers; no line condition)
  --min-share X      keep a window only if one clip (episodes: one label) holds ≥ X of its clip audio (default 0.75)
  --assembly A       how clips become calls: 'episodes' (per speaker, one call per emotion from the
                     first second, and calm→emotion calls; src/eval/episode-calls.ts), 'speaker' (each
                     speaker's clips shuffled into one call, the assembly before issue 8) or 'both'
                     (default: the two sets of calls, so the caller-relative features are seen in both)
  --jobs N           worker threads (default: CPU count)
`;

/** Per-window metadata columns written beside the features. */
export const META_NAMES = ['clip', 'aug', 'share', 'callTimeS', 'speechRatio', 'call', 'episode'] as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CALL_ASSEMBLY_OPTIONS,
      out: { type: 'string', default: 'models/training/.work/features.bin' },
      augment: { type: 'string', default: '0' },
      speed: { type: 'string', default: '' },
      'min-share': { type: 'string', default: '0.75' },
      assembly: { type: 'string', default: 'both' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const args = readCallAssemblyArgs(values);
  if (typeof args === 'string') {
    process.stderr.write(`train-features: ${args}\n\n${USAGE}`);
    return 2;
  }
  const { seed, pauseS, jobs } = args;
  const augment = Number(values.augment);
  const minShare = Number(values['min-share']);
  for (const [name, v] of [['augment', augment], ['min-share', minShare]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  }

  const speeds = values.speed ? values.speed.split(',').map(Number) : [];
  for (const f of speeds) if (!(f > 0.5 && f < 2) || f === 1) throw new Error(`--speed factors must be in (0.5, 2) and not 1, got '${values.speed}'`);

  const assembly = values.assembly;
  if (assembly !== 'episodes' && assembly !== 'speaker' && assembly !== 'both') {
    throw new Error(`--assembly must be 'episodes', 'speaker' or 'both', got '${assembly}'`);
  }
  const clips = await readManifest(args.manifest, args.root !== undefined ? { root: args.root } : {});
  const speakerPlans = assembly === 'episodes' ? [] : planCalls(clips, { seed });
  const episodePlans = assembly === 'speaker' ? [] : planEpisodeCalls(clips, { seed });
  const plans = [...speakerPlans, ...episodePlans];
  const isEpisode = (jobIndex: number): boolean => jobIndex % plans.length >= speakerPlans.length;
  // An episode call holds one label per stretch, so a window across two clips
  // of that label is clean; a speaker call mixes labels clip by clip.
  const shareOf = (r: CallWindows, jobIndex: number): Float32Array => (isEpisode(jobIndex) ? r.labelShare : r.share);
  const callJobs: CallJob[] = [];
  for (let pass = 0; pass <= augment; pass++) for (const plan of plans) callJobs.push({ plan, pass });
  // Speed passes follow the line passes, so pass numbers 1..augment keep their meaning.
  speeds.forEach((speed, k) => {
    for (const plan of plans) callJobs.push({ plan, pass: augment + 1 + k, speed });
  });
  const totalS =
    plans.reduce((s, p) => s + p.clips.reduce((t, c) => t + c.durationS, 0), 0) *
    (augment + 1 + speeds.reduce((t, f) => t + 1 / f, 0));
  process.stderr.write(
    `train-features: ${clips.length} clips, ${plans.length} calls, ${(totalS / 3600).toFixed(2)} h of audio` +
      `${augment ? ` (incl. ${augment} augmented pass(es))` : ''}` +
      `${speeds.length ? ` (incl. speed pass(es) ${speeds.join(', ')})` : ''}, ${FEATURE_NAMES.length} features\n`,
  );
  const progress = createProgress({ label: 'extracting', total: totalS, unit: 's of audio' });
  let doneS = 0;
  const t0 = Date.now();
  const results = await runCalls(callJobs, {
    seed,
    pauseS,
    ...(jobs !== undefined ? { jobs } : {}),
    onProgress: (s) => progress.update((doneS += s)),
  });
  progress.done();
  const unreadable = collectUnreadable(results, clips);
  process.stderr.write(formatUnreadable('train-features', unreadable));

  // Keep windows that clearly belong to one clip.
  const nf = FEATURE_NAMES.length;
  let rows = 0;
  let dropped = 0;
  results.forEach((r, jobIndex) => {
    if (r.featureCount !== 0 && r.featureCount !== nf) {
      throw new Error(`extractor produced ${r.featureCount} features, FEATURE_NAMES has ${nf}`);
    }
    for (let i = 0; i < r.clipIndex.length; i++) {
      if (r.clipIndex[i]! >= 0 && shareOf(r, jobIndex)[i]! >= minShare) rows++;
      else dropped++;
    }
  });
  const x = new Float32Array(rows * nf);
  const meta = new Float32Array(rows * META_NAMES.length);
  const windowed = new Set<number>();
  let row = 0;
  results.forEach((r, jobIndex) => {
    const job = callJobs[jobIndex]!;
    for (let i = 0; i < r.clipIndex.length; i++) {
      const clip = r.clipIndex[i]!;
      if (clip < 0 || shareOf(r, jobIndex)[i]! < minShare) continue;
      if (job.pass === 0) windowed.add(clip);
      x.set(r.values.subarray(i * nf, (i + 1) * nf), row * nf);
      meta.set(
        [
          clip,
          job.pass,
          shareOf(r, jobIndex)[i]!,
          r.endSample[i]! / PIPELINE_SAMPLE_RATE,
          r.speechRatio[i]!,
          jobIndex % plans.length,
          isEpisode(jobIndex) ? 1 : 0,
        ],
        row * META_NAMES.length,
      );
      row++;
    }
  });
  const without = clips.filter((c) => !windowed.has(c.index));
  await writeFeaturesFile(
    values.out,
    {
      featureNames: FEATURE_NAMES,
      metaNames: META_NAMES,
      rows,
      clips: clips.map((c) => ({
        path: c.path,
        corpus: c.corpus,
        speaker: c.speaker || `clip-${c.index}`,
        language: c.language,
        label: c.label,
        arousal: c.arousal,
        durationS: c.durationS,
      })),
      options: {
        manifest: path.resolve(args.manifest),
        seed,
        pauseS,
        augment,
        speeds,
        minShare,
        assembly,
        sampleRate: PIPELINE_SAMPLE_RATE,
        windowS: FEATURE_CONFIG.windowSamples / FEATURE_CONFIG.sampleRate,
        hopS: FEATURE_CONFIG.windowHopSamples / FEATURE_CONFIG.sampleRate,
        featureConfig: FEATURE_CONFIG,
        calls: plans.length,
        clipsWithoutWindows: without.length,
        clipsUnreadable: unreadable.length,
        createdAt: new Date().toISOString(),
      },
    },
    x,
    meta,
  );
  const secs = (Date.now() - t0) / 1000;
  process.stderr.write(
    `train-features: ${rows} windows (${dropped} dropped: straddling clips or labels), ` +
      `${without.length} clip(s) without a window, ${secs.toFixed(0)} s → ${values.out}\n`,
  );
  return 0;
}
