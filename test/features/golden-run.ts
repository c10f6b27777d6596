/**
 * The inputs and recording of the feature golden test: fixed audio through
 * `createCallerFeatureStream`, every window (positions and values) and
 * every analysed frame's voicing, F0, aperiodicity and level.
 *
 * Shared by scripts/feature-golden.ts (which wrote the fixture, from the
 * extractor as it was before the per-frame cost work of issue 13) and
 * test/features/feature-golden.test.ts (which checks today's extractor
 * against it), so both run exactly the same audio the same way.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { muLawToFloat } from '../../src/audio/g711.js';
import { resampleAll } from '../../src/audio/resample.js';
import { concat, mix, sine, whiteNoise } from '../../src/audio/synth.js';
import { readWav } from '../../src/audio/wav.js';
import { loadCallAudioAsMuLaw } from '../../src/audio/load-call-audio.js';
import { createCallerFeatureStream } from '../../src/features/caller-feature-stream.js';
import { voiceLike } from './voice-like.js';

export const GOLDEN_PATH = path.join('test', 'fixtures', 'feature-golden.json.gz');

/** One input: samples at 8 kHz, and whether the stream is flushed at the end (the offline path). */
export interface GoldenInput {
  name: string;
  samples: Float32Array;
  flush: boolean;
}

/** What one input produced. Arrays are base64 of little-endian typed arrays. */
export interface GoldenRecord {
  name: string;
  samples: number;
  /** Per window: start sample, end sample. */
  windowPositions: number[][];
  speechRatios: number[];
  /** All windows' values, window after window (Float32). */
  values: string;
  featureCount: number;
  /** Per frame: bit 0 pitch analysed, bit 1 voiced, bit 2 speech (Uint8). */
  frameFlags: string;
  /** Per frame: F0 in Hz when voiced else 0 (Float64). */
  f0Hz: string;
  /** Per frame: YIN aperiodicity (Float64). */
  aperiodicity: string;
  /** Per frame: level in dBFS (Float64). */
  energyDb: string;
}

export interface DecodedRecord {
  name: string;
  samples: number;
  windowPositions: number[][];
  speechRatios: number[];
  values: Float32Array;
  featureCount: number;
  frameFlags: Uint8Array;
  f0Hz: Float64Array;
  aperiodicity: Float64Array;
  energyDb: Float64Array;
}

/** The eval-mini clips used (one per corpus), read as the eval reads them: floats resampled to 8 kHz. */
const CLIPS = [
  'audio-fixtures/eval-mini/clips/nemo/EB0_anger_65.wav',
  'audio-fixtures/eval-mini/clips/nemo/EB0_sadness_31.wav',
  'audio-fixtures/eval-mini/clips/kor',
  'audio-fixtures/eval-mini/clips/turev',
  'audio-fixtures/eval-mini/clips/baved',
];

function firstWav(dirOrFile: string): string {
  if (dirOrFile.endsWith('.wav')) return dirOrFile;
  const manifest = readFileSync('audio-fixtures/eval-mini/manifest.csv', 'utf8').split('\n');
  const rel = dirOrFile.replace('audio-fixtures/eval-mini/', '');
  const row = manifest.find((l) => l.startsWith(rel + '/'));
  if (row === undefined) throw new Error(`no clip under ${dirOrFile}`);
  return path.join('audio-fixtures/eval-mini', row.split(',')[0]!);
}

/** The golden inputs: both demo calls (mu-law, as served), eval-mini clips (flushed), and a synthetic tone/silence/voice call. */
export async function goldenInputs(): Promise<GoldenInput[]> {
  const inputs: GoldenInput[] = [];
  for (const name of ['calm-then-angry', 'stays-calm']) {
    const bytes = await loadCallAudioAsMuLaw(`audio-fixtures/demo/${name}.wav`);
    inputs.push({ name: `demo/${name}`, samples: muLawToFloat(bytes), flush: false });
  }
  for (const c of CLIPS) {
    const file = firstWav(c);
    const wav = readWav(readFileSync(file));
    const samples = wav.sampleRate === 8000 ? wav.samples : resampleAll(wav.samples, wav.sampleRate, 8000);
    inputs.push({ name: file.replace('audio-fixtures/', ''), samples, flush: true });
  }
  // DTMF-like tone, digital silence, a voice, a ringback-like tone over the voice's tail, quiet noise.
  const dtmf = mix(sine(697, 0.4, 0.3), sine(1209, 0.4, 0.3));
  const voice = voiceLike({ durationS: 3.2 });
  const ring = mix(sine(440, 0.6, 0.2), sine(480, 0.6, 0.2));
  inputs.push({
    name: 'synthetic/tone-silence-voice',
    samples: concat(dtmf, new Float32Array(8000), voice, ring, whiteNoise(1.5, 0.003, 3)),
    flush: true,
  });
  return inputs;
}

const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function fromB64<T>(s: string, make: (buf: ArrayBuffer) => T): T {
  const b = Buffer.from(s, 'base64');
  const copy = new ArrayBuffer(b.length);
  new Uint8Array(copy).set(b);
  return make(copy);
}

/** Runs one input through a fresh stream in `chunk`-sample pushes and records everything. */
export function runGolden(input: GoldenInput, chunk: number): DecodedRecord {
  const flags: number[] = [];
  const f0: number[] = [];
  const aper: number[] = [];
  const energy: number[] = [];
  const stream = createCallerFeatureStream({
    onFrame: (f) => {
      if (f.index !== flags.length) throw new Error(`frame ${f.index} out of order`);
      flags.push((f.pitchAnalysed ? 1 : 0) | (f.voiced ? 2 : 0) | (f.speech ? 4 : 0));
      f0.push(f.f0Hz);
      aper.push(f.aperiodicity);
      energy.push(f.energyDb);
    },
  });
  const windows = [];
  const x = input.samples;
  for (let i = 0; i < x.length; i += chunk) windows.push(...stream.push(x.subarray(i, Math.min(x.length, i + chunk))));
  if (input.flush) windows.push(...stream.flush());
  const featureCount = windows[0]?.values.length ?? 0;
  const values = new Float32Array(windows.length * featureCount);
  windows.forEach((w, i) => values.set(w.values, i * featureCount));
  return {
    name: input.name,
    samples: x.length,
    windowPositions: windows.map((w) => [w.startSample, w.endSample]),
    speechRatios: windows.map((w) => w.speechRatio),
    values,
    featureCount,
    frameFlags: Uint8Array.from(flags),
    f0Hz: Float64Array.from(f0),
    aperiodicity: Float64Array.from(aper),
    energyDb: Float64Array.from(energy),
  };
}

export function encodeGolden(records: DecodedRecord[]): Buffer {
  const out: GoldenRecord[] = records.map((r) => ({
    name: r.name,
    samples: r.samples,
    windowPositions: r.windowPositions,
    speechRatios: r.speechRatios,
    values: b64(r.values),
    featureCount: r.featureCount,
    frameFlags: b64(r.frameFlags),
    f0Hz: b64(r.f0Hz),
    aperiodicity: b64(r.aperiodicity),
    energyDb: b64(r.energyDb),
  }));
  return gzipSync(JSON.stringify(out), { level: 9 });
}

export function decodeGolden(file: Buffer): DecodedRecord[] {
  const list = JSON.parse(gunzipSync(file).toString('utf8')) as GoldenRecord[];
  return list.map((r) => ({
    name: r.name,
    samples: r.samples,
    windowPositions: r.windowPositions,
    speechRatios: r.speechRatios,
    values: fromB64(r.values, (b) => new Float32Array(b)),
    featureCount: r.featureCount,
    frameFlags: fromB64(r.frameFlags, (b) => new Uint8Array(b)),
    f0Hz: fromB64(r.f0Hz, (b) => new Float64Array(b)),
    aperiodicity: fromB64(r.aperiodicity, (b) => new Float64Array(b)),
    energyDb: fromB64(r.energyDb, (b) => new Float64Array(b)),
  }));
}
