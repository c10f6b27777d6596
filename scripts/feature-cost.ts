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
 *
 * `--round-frames N` sets the 20 ms chunks per call per round (default 50:
 * one second; 1 feeds each call one chunk at a time, as a DSP worker's batch
 * does). `--idle-ms M` sleeps M ms after every round of the measured run, as
 * a server's DSP thread idles between batches: the same work, done in bursts.
 * On the 2-core test VM that alone costs ≈ 20–50 % more CPU per call-second
 * (docs/performance.md, "Where the DSP thread goes"):
 *
 *   npx tsx scripts/feature-cost.ts --calls 100 --seconds 10 --round-frames 1 --idle-ms 15
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
    'round-frames': { type: 'string', default: '50' },
    'idle-ms': { type: 'string', default: '0' },
  },
});
const calls = Number(v.calls);
const seconds = Number(v.seconds);
const roundFrames = Number(v['round-frames']);
const idleMs = Number(v['idle-ms']);
if (!Number.isInteger(roundFrames) || roundFrames < 1) throw new Error(`--round-frames must be a whole number ≥ 1, got ${v['round-frames']}`);
if (!(idleMs >= 0)) throw new Error(`--idle-ms must be ≥ 0, got ${v['idle-ms']}`);
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

async function run(n: number, s: number, record: boolean): Promise<void> {
  const frames = Math.round(s * 50);
  const states = Array.from({ length: n }, () => ({ decode: createDecoder({ encoding: 'pcmu', sampleRate: 8000 }), stream: createCallerFeatureStream() }));
  for (let f = 0; f < frames; f += roundFrames) {
    for (const st of states) {
      for (let k = f; k < Math.min(frames, f + roundFrames); k++) {
        for (const w of st.stream.push(st.decode(chunk(k)))) if (record) absorb(w.values);
      }
    }
    // Idle between rounds (the measured run only): the CPU figure still counts the work alone, plus the waking.
    if (record && idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
  }
}

await run(1, Number(v.warmup), false);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
await run(calls, seconds, true);
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - wall0;
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(
  `${JSON.stringify({ calls, seconds, round_frames: roundFrames, idle_ms: idleMs, cpu_ms_per_call_second: Number((cpuMs / (calls * seconds)).toFixed(4)), wall_ms_per_call_second: Number((wallMs / (calls * seconds)).toFixed(4)), windows, hash: hash.toString(16) })}\n`,
);
