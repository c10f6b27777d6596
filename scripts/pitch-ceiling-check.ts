/**
 * Pitch ceiling check (issue 8): does the 500 Hz YIN ceiling clip shouted or
 * elated F0? For female (and gender-unknown) anger / happiness / surprise
 * clips, runs the extractor with the shipped ceiling and with a raised one,
 * and reports the share of voiced speech frames above 400 / 450 Hz and how
 * many frames change voicing or F0 by more than 20 % between the two.
 *
 *   npx tsx scripts/pitch-ceiling-check.ts [clipsPerCell=40] [ceilingHz=800]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav } from '../src/audio/wav.js';
import { resampleAll } from '../src/audio/resample.js';
import { createCallerFeatureStream } from '../src/features/caller-feature-stream.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpora = path.resolve(repoRoot, '../shared/corpora');
const perCell = Number(process.argv[2] ?? 40);
const ceiling = Number(process.argv[3] ?? 800);

/** Voiced speech F0 (Hz, 0 when not voiced speech) per frame. */
function track(samples: Float32Array, f0MaxHz: number): number[] {
  const f0: number[] = [];
  const s = createCallerFeatureStream({ pitch: { f0MaxHz }, onFrame: (f) => f0.push(f.voiced && f.speech ? f.f0Hz : 0) });
  s.push(samples);
  s.flush();
  return f0;
}

const rows = (await readFile(path.join(corpora, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
const cells = new Map<string, string[][]>();
for (const r of rows) {
  const [, corpus, , gender, , label] = r;
  if (gender === 'm' || !['anger', 'happiness', 'surprise', 'neutral'].includes(label!)) continue;
  const key = `${corpus}/${gender || '?'}/${label}`;
  (cells.get(key) ?? cells.set(key, []).get(key)!).push(r);
}
for (const [key, list] of [...cells].sort()) {
  const step = Math.max(1, Math.floor(list.length / perCell));
  let voiced = 0, v400 = 0, v450 = 0, hi400 = 0, hiVoiced = 0, changed = 0, gained = 0;
  for (let i = 0; i < list.length && i < step * perCell; i += step) {
    const wav = readWav(await readFile(path.join(corpora, list[i]![0]!)));
    const x = wav.sampleRate === 8000 ? wav.samples : resampleAll(wav.samples, wav.sampleRate, 8000);
    const a = track(x, 500);
    const b = track(x, ceiling);
    for (let k = 0; k < a.length; k++) {
      if (a[k]! > 0) {
        voiced++;
        if (a[k]! > 400) v400++;
        if (a[k]! > 450) v450++;
      }
      if (b[k]! > 0) {
        hiVoiced++;
        if (b[k]! > 400) hi400++;
      }
      if (a[k]! > 0 && b[k]! > 0 && Math.abs(b[k]! / a[k]! - 1) > 0.2) changed++;
      if (a[k] === 0 && b[k]! > 0) gained++;
    }
  }
  const pct = (n: number, d: number): string => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
  console.log(
    `${key.padEnd(26)} 500Hz: voiced ${voiced}, >400 ${pct(v400, voiced)}, >450 ${pct(v450, voiced)} | ${ceiling}Hz: voiced ${hiVoiced}, >400 ${pct(hi400, hiVoiced)}, F0 moved >20% ${pct(changed, voiced)}, newly voiced ${gained}`,
  );
}
