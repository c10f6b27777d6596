/**
 * What both `undertone bench` modes share: the bench's fixtures, reading
 * them, and the argument helpers (src/cli/bench.ts parses; bench-load.ts
 * runs the load generator).
 */
import { readFile } from 'node:fs/promises';
import { readWav } from '../audio/wav.js';

/** Parsed options, as `parseArgs` gives them. */
export type BenchValues = Record<string, string | boolean | undefined>;
export const str = (v: BenchValues, k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);

export const FIXTURES = [
  // Anger starts ~20 s in (10 neutral clips, then 10 angry ones); alone, the prompt comes at ~26 s.
  { name: 'calm-then-angry', file: 'audio-fixtures/demo/calm-then-angry.wav', angry: true, promptByS: 27 },
  { name: 'stays-calm', file: 'audio-fixtures/demo/stays-calm.wav', angry: false },
] as const;

export async function loadMuLaw(file: string): Promise<Uint8Array> {
  const wav = readWav(await readFile(file));
  if (!wav.muLaw || wav.sampleRate !== 8000) throw new Error(`UT_ERR_BENCH_FIXTURE: ${file} must be 8 kHz mu-law (the wire format)`);
  return wav.muLaw;
}

export const positiveInt = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw Object.assign(new Error(`bench: --${name} takes a positive whole number, got '${v}'`), { usage: true });
  return n;
};

export const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
