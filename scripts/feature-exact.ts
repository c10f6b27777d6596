/**
 * Bit-level fingerprint of the feature extractor's output, for checking that
 * a cost change computes exactly the same thing: runs the golden inputs
 * (test/features/golden-run.ts) in 20 ms pushes and hashes, per input, every
 * window's values (Float32, what the model sees) and every frame's per-frame
 * values as the history holds them (Float64, before any window statistic:
 * stricter than the windows, whose Float32 rounding can hide a last-bit
 * change). The spectral fields are hashed for speech frames only: nothing
 * reads them elsewhere (window statistics summarise speech frames), and the
 * extractor computes them only there. Run it on two builds and compare the lines; `--dump FILE` writes
 * the raw bytes too, for finding where two builds differ.
 *
 *   npx tsx scripts/feature-exact.ts
 */
import { writeFileSync } from 'node:fs';
import { createCallerFeatureStream } from '../src/features/caller-feature-stream.js';
import { FrameHistory } from '../src/features/frame-history.js';
import { goldenInputs } from '../test/features/golden-run.js';

/** FNV-1a over bytes, continued from `h`. */
function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const dumpAt = process.argv.indexOf('--dump');
const dump: Buffer[] = [];
const probe = new FrameHistory();
const fields = (Object.keys(probe) as (keyof FrameHistory)[]).filter((k) => ArrayBuffer.isView(probe[k])).sort();
/** Per-frame spectral values: written, and read, for speech frames only. */
const SPEECH_ONLY = new Set<keyof FrameHistory>([
  'loudness',
  'centroidHz',
  'spreadHz',
  'flatnessDb',
  'slope',
  'rolloffHz',
  'flux',
  'alphaRatioDb',
  'hammarbergDb',
  'slopeLoDbKhz',
  'slopeMidDbKhz',
  'bandLoDb',
  'bandHiDb',
  'mfcc',
]);

for (const input of await goldenInputs()) {
  const stream = createCallerFeatureStream();
  // The history is private; read it only here, for the fingerprint.
  const h = (stream as unknown as { history: FrameHistory }).history;
  let windowHash = 0x811c9dc5;
  let frameHash = 0x811c9dc5;
  let windows = 0;
  let frames = 0;
  const record = (values: Float32Array): void => {
    windowHash = fnv(windowHash, bytesOf(values));
    if (dumpAt > 0) dump.push(Buffer.from(bytesOf(values)));
    windows++;
  };
  const x = input.samples;
  for (let i = 0; i < x.length; i += 160) {
    for (const w of stream.push(x.subarray(i, Math.min(x.length, i + 160)))) record(w.values);
    // Frames completed by this push: their slots are final (a frame writes only its own slot).
    for (; frames < stream.framesSeen; frames++) {
      const slot = frames & h.mask;
      for (const f of fields) {
        if (h.speech[slot] !== 1 && SPEECH_ONLY.has(f)) continue;
        const a = h[f] as Float64Array | Uint8Array;
        const per = a.length / h.capacity;
        const v = a.subarray(slot * per, (slot + 1) * per);
        frameHash = fnv(frameHash, bytesOf(v));
        if (dumpAt > 0) dump.push(Buffer.from(bytesOf(v)));
      }
    }
  }
  if (input.flush) for (const w of stream.flush()) record(w.values);
  process.stdout.write(`${input.name}: ${windows} windows ${windowHash.toString(16)}, ${frames} frames ${frameHash.toString(16)}\n`);
}
if (dumpAt > 0) writeFileSync(process.argv[dumpAt + 1]!, Buffer.concat(dump));
