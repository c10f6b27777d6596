/**
 * Simulated-call check of the emotion model's reaction time.
 *
 *   npx tsx scripts/simulate-call.ts [--manifest FILE] [--model FILE --card FILE]
 *        [--speakers a,b] [--calm-s 30] [--angry-s 20] [--threshold 0.6] [--tau-ms 1000] [--json]
 *
 * For every chosen speaker (default: every speaker of a labelled corpus with
 * neutral and anger clips) two calls go through the live path (call assembly
 * → decoder → CallerFeatureStream → EmotionModel):
 *   A. calm (neutral) clips for ~calm-s seconds, then angry clips for ~angry-s;
 *   B. a calm call: the speaker's neutral clips only.
 * Reports, in audio seconds from the first angry clip's start: when the raw
 * agitation first reaches the threshold, when the smoothed agitation does
 * (the policy's exponential smoother, audio-clock time constant), how much of
 * the angry part stays above, and whether the calm call ever crosses.
 */
import { parseArgs } from 'node:util';
import type { CallPlan } from '../src/eval/call-assembly.js';
import { readManifest, type ManifestClip } from '../src/eval/manifest.js';
import { clipsBySpeaker, pickClips, scoreCall } from '../src/eval/simulated-calls.js';
import { loadEmotionModel, type LoadedEmotionModel } from '../src/model/emotion-model.js';
import { ExponentialSmoother, creditedStepMs } from '../src/policy/smoothing.js';
import { PIPELINE_SAMPLE_RATE } from '../src/features/types.js';

interface Trace {
  /** Window end, s from call start; raw and smoothed agitation. */
  t: number[];
  raw: number[];
  smooth: number[];
}

async function traceCall(model: LoadedEmotionModel, plan: CallPlan, tauMs: number, pauseS: number) {
  const { res, windows } = await scoreCall(model, plan, pauseS);
  const smoother = new ExponentialSmoother(tauMs);
  const trace: Trace = { t: [], raw: [], smooth: [] };
  let prevMs: number | undefined;
  for (const w of windows) {
    const a = w.scores.agitation;
    trace.t.push(w.audioMs / 1000);
    trace.raw.push(a);
    trace.smooth.push(smoother.update(a, creditedStepMs(prevMs, w.audioMs, 1000)));
    prevMs = w.audioMs;
  }
  return { res, trace };
}

function median(v: number[]): number | null {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      manifest: { type: 'string', default: '../shared/corpora/manifest.csv' },
      root: { type: 'string' },
      model: { type: 'string', default: 'models/emotion.onnx' },
      card: { type: 'string', default: 'models/emotion.json' },
      speakers: { type: 'string' },
      corpus: { type: 'string' },
      'calm-s': { type: 'string', default: '30' },
      'angry-s': { type: 'string', default: '20' },
      threshold: { type: 'string', default: '0.6' },
      'tau-ms': { type: 'string', default: '1000' },
      pause: { type: 'string', default: '0.6' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  });
  const threshold = Number(values.threshold);
  const tauMs = Number(values['tau-ms']);
  const pauseS = Number(values.pause);
  const model = await loadEmotionModel({ modelPath: values.model, cardPath: values.card });
  const clips = await readManifest(values.manifest, values.root !== undefined ? { root: values.root } : {});
  const bySpeaker = clipsBySpeaker(clips, values.corpus);
  const wanted = values.speakers ? values.speakers.split(',') : [...bySpeaker.keys()].sort();
  const rows: Record<string, unknown>[] = [];
  process.stdout.write(
    `simulated calls: model ${model.version}, threshold ${threshold} on agitation (raw, and smoothed with tau ${tauMs} ms)\n` +
      `${'speaker'.padEnd(14)}${'calm s'.padStart(7)}${'raw lat'.padStart(9)}${'sm lat'.padStart(8)}` +
      `${'raw hi%'.padStart(9)}${'sm hi%'.padStart(8)}${'calm max'.padStart(10)}${'calm hi%'.padStart(10)}\n`,
  );
  for (const speaker of wanted) {
    const list = bySpeaker.get(speaker) ?? [];
    const neutral = list.filter((c) => c.label === 'neutral');
    const angry = list.filter((c) => c.label === 'anger');
    if (neutral.length < 2 || angry.length < 2) continue;
    const calm = pickClips(neutral, Number(values['calm-s']), `${speaker}:calm`);
    const anger = pickClips(angry, Number(values['angry-s']), `${speaker}:anger`);
    const a = await traceCall(model, { id: `${speaker}-sim`, speaker, clips: [...calm, ...anger] }, tauMs, pauseS);
    const onsetS = a.res.spans[calm.length]!.startSample / PIPELINE_SAMPLE_RATE;
    const endS = a.res.samples / PIPELINE_SAMPLE_RATE;
    const after = a.trace.t.map((t, i) => i).filter((i) => a.trace.t[i]! > onsetS);
    const first = (arr: number[]): number | null => {
      const i = after.find((k) => arr[k]! >= threshold);
      return i === undefined ? null : a.trace.t[i]! - onsetS;
    };
    const frac = (arr: number[]): number => (after.length ? after.filter((k) => arr[k]! >= threshold).length / after.length : 0);
    const calmPart = a.trace.t.map((t, i) => i).filter((i) => a.trace.t[i]! <= onsetS);
    // B: a calm call of the same speaker (all its neutral clips, another order).
    const b = await traceCall(model, { id: `${speaker}-calm`, speaker, clips: pickClips(neutral, 60, `${speaker}:calmcall`) }, tauMs, pauseS);
    const row = {
      speaker,
      corpus: list[0]!.corpus,
      calmS: Math.round(onsetS * 10) / 10,
      angryS: Math.round((endS - onsetS) * 10) / 10,
      rawLatencyS: first(a.trace.raw),
      smoothLatencyS: first(a.trace.smooth),
      rawHighFrac: frac(a.trace.raw),
      smoothHighFrac: frac(a.trace.smooth),
      calmPartMaxSmooth: Math.max(0, ...calmPart.map((i) => a.trace.smooth[i]!)),
      calmCallMaxSmooth: Math.max(0, ...b.trace.smooth),
      calmCallHighFrac: b.trace.smooth.length ? b.trace.smooth.filter((v) => v >= threshold).length / b.trace.smooth.length : 0,
    };
    rows.push(row);
    const f = (v: number | null, d = 1): string => (v === null ? 'never' : v.toFixed(d));
    process.stdout.write(
      `${speaker.padEnd(14)}${row.calmS.toFixed(0).padStart(7)}${f(row.rawLatencyS).padStart(9)}${f(row.smoothLatencyS).padStart(8)}` +
        `${(row.rawHighFrac * 100).toFixed(0).padStart(9)}${(row.smoothHighFrac * 100).toFixed(0).padStart(8)}` +
        `${row.calmCallMaxSmooth.toFixed(2).padStart(10)}${(row.calmCallHighFrac * 100).toFixed(0).padStart(10)}\n`,
    );
    if (values.verbose) {
      const line = a.trace.t.map((t, i) => `${t.toFixed(1)}:${a.trace.raw[i]!.toFixed(2)}/${a.trace.smooth[i]!.toFixed(2)}`);
      process.stdout.write(`  onset ${onsetS.toFixed(1)} s  ${line.join(' ')}\n`);
    }
  }
  const lat = rows.map((r) => r.smoothLatencyS as number | null);
  const rawLat = rows.map((r) => r.rawLatencyS as number | null);
  const within = (v: (number | null)[], s: number): number => v.filter((x) => x !== null && x <= s).length;
  const summary = {
    speakers: rows.length,
    threshold,
    tauMs,
    medianRawLatencyS: median(rawLat.filter((x): x is number => x !== null)),
    medianSmoothLatencyS: median(lat.filter((x): x is number => x !== null)),
    flaggedWithin4sRaw: within(rawLat, 4),
    flaggedWithin4sSmooth: within(lat, 4),
    neverFlagged: lat.filter((x) => x === null).length,
    medianSmoothHighFrac: median(rows.map((r) => r.smoothHighFrac as number)),
    calmCallsCrossing: rows.filter((r) => (r.calmCallMaxSmooth as number) >= threshold).length,
    calmPartsCrossing: rows.filter((r) => (r.calmPartMaxSmooth as number) >= threshold).length,
  };
  process.stdout.write(
    `\nmedian latency from anger onset: raw ${summary.medianRawLatencyS?.toFixed(1)} s, smoothed ${summary.medianSmoothLatencyS?.toFixed(1)} s; ` +
      `flagged within 4 s (smoothed): ${summary.flaggedWithin4sSmooth}/${rows.length}, never: ${summary.neverFlagged}; ` +
      `angry part above threshold (smoothed, median) ${(100 * (summary.medianSmoothHighFrac ?? 0)).toFixed(0)} %; ` +
      `calm calls crossing: ${summary.calmCallsCrossing}/${rows.length}, calm lead-ins crossing: ${summary.calmPartsCrossing}/${rows.length}\n`,
  );
  if (values.json) process.stdout.write(`${JSON.stringify({ summary, rows })}\n`);
  await model.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`simulate-call: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
