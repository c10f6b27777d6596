import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createDecoder } from '../audio/decoder.js';
import { readWav } from '../audio/wav.js';
import { createCallerFeatureStream } from '../features/caller-feature-stream.js';
import type { FeatureWindow } from '../features/types.js';
import { loadEmotionModel } from '../model/emotion-model.js';
import { createAgitationTracker } from '../model/agitation-tracker.js';
import { createCallerScoreBaseline } from '../model/caller-score-baseline.js';
import { createProgress } from './progress.js';

const HELP = `usage: npm run bench [-- --file WAV] [--seconds N] [--calls N] [--inferences N]

Measures, on this machine, what one call costs: feature extraction per second
of audio, one model inference, memory per call; and prints how many calls one
core can carry in real time. Figures, not pass/fail: these machines are shared.

  --file WAV       call audio to run (default audio-fixtures/demo/calm-then-angry.wav)
  --seconds N      seconds of audio to push through the extractor (default 300)
  --calls N        concurrent call states held for the memory figure (default 500)
  --inferences N   single-window inferences timed (default 5000)
`;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/** `undertone bench`: speed and memory figures for the per-call chain. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', default: 'audio-fixtures/demo/calm-then-angry.wav' },
      seconds: { type: 'string', default: '300' },
      calls: { type: 'string', default: '500' },
      inferences: { type: 'string', default: '5000' },
      model: { type: 'string', default: 'models/emotion.onnx' },
      card: { type: 'string', default: 'models/emotion.json' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const seconds = Number(values.seconds);
  const calls = Number(values.calls);
  const inferences = Number(values.inferences);
  if (![seconds, calls, inferences].every((n) => Number.isInteger(n) && n > 0)) {
    process.stderr.write(`bench: --seconds, --calls and --inferences take positive whole numbers\n`);
    return 2;
  }
  const wav = readWav(await readFile(values.file));
  if (!wav.muLaw || wav.sampleRate !== 8000) {
    process.stderr.write(`bench: ${values.file} must be 8 kHz mu-law (the wire format)\n`);
    return 2;
  }
  const callBytes = wav.muLaw;
  process.stdout.write(`Undertone bench — ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);

  // 1. Decode + features for one call, 20 ms chunks as they arrive off the wire.
  const chunk = 160;
  const totalChunks = Math.ceil((seconds * 8000) / chunk);
  const decode = createDecoder({ encoding: 'pcmu', sampleRate: 8000 });
  const stream = createCallerFeatureStream();
  const windows: FeatureWindow[] = [];
  const progress = createProgress({ label: 'features', total: totalChunks, unit: 'chunks' });
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < totalChunks; i++) {
    const offset = (i * chunk) % (callBytes.length - chunk);
    for (const w of stream.push(decode(callBytes.subarray(offset, offset + chunk)))) windows.push(w);
    if (i % 500 === 0) progress.update(i);
  }
  progress.done();
  const cpu = process.cpuUsage(t0);
  const featureCpuMs = (cpu.user + cpu.system) / 1000;
  const featureMsPerAudioS = featureCpuMs / seconds;

  // 2. Inference: one window at a time (the live path), and batched.
  const model = await loadEmotionModel({ modelPath: values.model, cardPath: values.card });
  const sample = windows.length > 0 ? windows : [{ values: new Float32Array(model.featureNames.length) } as FeatureWindow];
  for (let i = 0; i < 200; i++) await model.score([sample[i % sample.length]!.values]);
  // The live path applies the per-call caller score baseline to every window: count it in.
  const callerScores = createCallerScoreBaseline(model.callerScoreBaseline);
  const agitation = createAgitationTracker(model.agitationTracker);
  const latencies: number[] = [];
  const inferProgress = createProgress({ label: 'inference', total: inferences, unit: 'runs' });
  for (let i = 0; i < inferences; i++) {
    const s = performance.now();
    const [scores] = await model.score([sample[i % sample.length]!.values]);
    agitation.apply(callerScores.apply(scores!));
    latencies.push(performance.now() - s);
    if (i % 250 === 0) inferProgress.update(i);
  }
  inferProgress.done();
  latencies.sort((a, b) => a - b);
  const batch = sample.slice(0, 64).map((w) => w.values);
  const batchRuns = 300;
  const b0 = performance.now();
  for (let i = 0; i < batchRuns; i++) await model.score(batch);
  const batchMsPerWindow = (performance.now() - b0) / batchRuns / batch.length;
  await model.close();

  // 3. Memory per call: hold many call states with some audio in each.
  const heapBefore = (globalThis.gc?.(), process.memoryUsage());
  const held = [];
  for (let c = 0; c < calls; c++) {
    const s = createCallerFeatureStream();
    const d = createDecoder({ encoding: 'pcmu', sampleRate: 8000 });
    s.push(d(callBytes.subarray(0, Math.min(callBytes.length, 8000 * 5))));
    held.push({ s, d });
  }
  const heapAfter = (globalThis.gc?.(), process.memoryUsage());
  const perCallKiB = (heapAfter.heapUsed + heapAfter.arrayBuffers - heapBefore.heapUsed - heapBefore.arrayBuffers) / calls / 1024;

  const windowsPerAudioS = windows.length / seconds;
  const perCallCpuMsPerS = featureMsPerAudioS + windowsPerAudioS * percentile(latencies, 0.5);
  const rows: [string, string][] = [
    ['audio pushed', `${seconds} s of ${values.file} (${windows.length} windows scored-ready)`],
    ['features: CPU per second of call audio', `${featureMsPerAudioS.toFixed(2)} ms (wall ${((performance.now() - w0) / 1000).toFixed(1)} s for the run incl. inference below)`],
    ['inference + caller baseline, one window: median / p99', `${percentile(latencies, 0.5).toFixed(3)} ms / ${percentile(latencies, 0.99).toFixed(3)} ms`],
    ['inference, batched ×64: per window', `${batchMsPerWindow.toFixed(4)} ms`],
    ['memory per call state', `${perCallKiB.toFixed(0)} KiB (${calls} calls held${globalThis.gc ? '' : '; run with node --expose-gc for a steadier figure'})`],
    ['CPU per call-second (features + inference)', `${perCallCpuMsPerS.toFixed(2)} ms`],
    ['real-time calls one core can carry', `${Math.floor(1000 / perCallCpuMsPerS)} (goal: 1,000)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
  void held;
  return 0;
}
