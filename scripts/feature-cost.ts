/**
 * The feature extractor alone (no pipeline, model or policy), for measuring
 * its cost: C calls of S seconds of a demo fixture (mu-law, decoded as the
 * server decodes it), pushed in 20 ms chunks, one second per call per round
 * as the in-process bench interleaves them. Prints CPU ms per call-second
 * of the measured run (after a warm-up call) and an FNV-1a hash of every
 * window's values, so two builds can be compared for cost and output at once.
 * Deterministic in its work, so it also suits instruction counts:
 *
 *   npx tsx scripts/feature-cost.ts --calls 10 --seconds 60
 *   valgrind --tool=callgrind node --import tsx scripts/feature-cost.ts --calls 2 --seconds 60
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDecoder } from '../src/audio/decoder.js';
import { readWav } from '../src/audio/wav.js';
import { createCallerFeatureStream } from '../src/features/caller-feature-stream.js';

const { values: v } = parseArgs({
  options: {
    calls: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '60' },
    file: { type: 'string', default: 'audio-fixtures/demo/calm-then-angry.wav' },
    warmup: { type: 'string', default: '20' },
  },
});
const calls = Number(v.calls);
const seconds = Number(v.seconds);
const wav = readWav(readFileSync(v.file!));
if (!wav.muLaw) throw new Error(`${v.file}: not mu-law`);
const mulaw = wav.muLaw;
const FRAME_BYTES = 160;
const perFixture = Math.floor(mulaw.length / FRAME_BYTES);
// The fixture's 20 ms payloads, cut once (as the in-process bench does), so the loop measures the extractor.
const payloads = Array.from({ length: perFixture }, (_, f) => mulaw.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES));
const chunk = (f: number): Uint8Array => payloads[f % perFixture]!;

let hash = 0x811c9dc5;
let windows = 0;
function absorb(values: Float32Array): void {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193) >>> 0;
  windows++;
}

function run(n: number, s: number, record: boolean): void {
  const frames = Math.round(s * 50);
  const states = Array.from({ length: n }, () => ({ decode: createDecoder({ encoding: 'pcmu', sampleRate: 8000 }), stream: createCallerFeatureStream() }));
  for (let f = 0; f < frames; f += 50) {
    for (const st of states) {
      for (let k = f; k < Math.min(frames, f + 50); k++) {
        for (const w of st.stream.push(st.decode(chunk(k)))) if (record) absorb(w.values);
      }
    }
  }
}

run(1, Number(v.warmup), false);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
run(calls, seconds, true);
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - wall0;
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(
  `${JSON.stringify({ calls, seconds, cpu_ms_per_call_second: Number((cpuMs / (calls * seconds)).toFixed(4)), wall_ms_per_call_second: Number((wallMs / (calls * seconds)).toFixed(4)), windows, hash: hash.toString(16) })}\n`,
);
