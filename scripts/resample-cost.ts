/**
 * CPU of 16 → 8 kHz conversion per call-second (one call's stream in 20-ms
 * chunks of 320 samples, as an L16 gateway sends them): the half-band
 * decimator that `createResampler` uses against the generic polyphase
 * filter, and how far apart their outputs are in the telephone band; and
 * what the other accepted L16 rates (24, 32, 48 kHz) cost.
 *
 *   npx tsx scripts/resample-cost.ts [--seconds 60]
 */
import { parseArgs } from 'node:util';
import { createPolyphaseResampler, createResampler, type Resampler } from '../src/audio/resample.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be > 0, got ${values.seconds}`);

// A speech-band test signal: three tones inside 300–3400 Hz, one above 4 kHz that must not fold back.
const chunk = (k: number): Float32Array => {
  const x = new Float32Array(320);
  for (let i = 0; i < 320; i++) {
    const t = (k * 320 + i) / 16000;
    x[i] = 0.2 * Math.sin(2 * Math.PI * 440 * t) + 0.15 * Math.sin(2 * Math.PI * 1800 * t) + 0.1 * Math.sin(2 * Math.PI * 3100 * t) + 0.1 * Math.sin(2 * Math.PI * 5000 * t);
  }
  return x;
};
const chunks = Array.from({ length: 50 }, (_, k) => chunk(k));

function cost(make: () => Resampler): { msPerCallS: number; out: Float32Array } {
  const warm = make();
  for (let k = 0; k < 500; k++) warm.process(chunks[k % 50]!);
  const r = make();
  const parts: Float32Array[] = [];
  const t0 = process.cpuUsage();
  for (let k = 0; k < seconds * 50; k++) parts.push(r.process(chunks[k % 50]!));
  const u = process.cpuUsage(t0);
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { msPerCallS: (u.user + u.system) / 1000 / seconds, out };
}

/** One call-second at `rate` in 20-ms chunks, as above, for the other accepted L16 rates. */
function costAt(rate: number): number {
  const chunkAt = new Float32Array(rate / 50);
  for (let i = 0; i < chunkAt.length; i++) chunkAt[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / rate);
  const r = createResampler(rate, 8000);
  for (let k = 0; k < 500; k++) r.process(chunkAt);
  const t0 = process.cpuUsage();
  for (let k = 0; k < seconds * 50; k++) r.process(chunkAt);
  const u = process.cpuUsage(t0);
  return Number(((u.user + u.system) / 1000 / seconds).toFixed(3));
}

const half = cost(() => createResampler(16000, 8000));
const generic = cost(() => createPolyphaseResampler(16000, 8000));
// Compare the two on the same output instants (both put output n on input 2n), past the start-up.
let diff = 0;
let power = 0;
const n = Math.min(half.out.length, generic.out.length);
for (let i = 8000; i < n; i++) {
  diff += (half.out[i]! - generic.out[i]!) ** 2;
  power += generic.out[i]! ** 2;
}
const report = {
  seconds,
  halfband_cpu_ms_per_call_second: Number(half.msPerCallS.toFixed(3)),
  generic_cpu_ms_per_call_second: Number(generic.msPerCallS.toFixed(3)),
  difference_db: Number((10 * Math.log10(diff / power)).toFixed(1)),
  cpu_ms_per_call_second_by_rate: Object.fromEntries([24000, 32000, 48000].map((rate) => [rate, costAt(rate)])),
};
process.stdout.write(
  `16 → 8 kHz, ${seconds} s in 20-ms chunks: half-band ${report.halfband_cpu_ms_per_call_second} ms of CPU per call-second, generic ${report.generic_cpu_ms_per_call_second}; their outputs differ by ${report.difference_db} dB (tones at 440, 1800 and 3100 Hz, and 5 kHz that neither lets fold back); 24 / 32 / 48 kHz: ${Object.values(report.cpu_ms_per_call_second_by_rate).join(' / ')} ms\n${JSON.stringify(report)}\n`,
);
