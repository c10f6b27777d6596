/**
 * Pitch ceiling check (issue 8): does the YIN ceiling clip shouted or elated
 * F0? For each cell (corpus/gender/label), N clips evenly spaced through the
 * manifest go through the extractor at each candidate ceiling; Praat's
 * autocorrelation pitch (60–900 Hz, on the original file) is the reference.
 * Printed per cell and ceiling: the share of voiced frames (voiced by both)
 * more than 20 % off Praat, and how many of those lie above 450 Hz in Praat.
 *
 *   npx tsx scripts/pitch-ceiling-check.ts [N=12] [ceilings=500,650,800] [cells]
 *   cells: comma-separated corpus/gender/label, gender '' for corpora without it
 *   (default: ravdess f anger/happiness/surprise/neutral, nemo f happiness,
 *   nemo m anger/happiness, ravdess m anger/happiness)
 *
 * Needs /usr/bin/praat (Debian: apt-get install praat), as scripts/pitch-check.ts.
 * Result that set the 650 Hz ceiling of ut-features-4: see models/training/README.md.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav } from '../src/audio/wav.js';
import { resampleAll } from '../src/audio/resample.js';
import { createCallerFeatureStream } from '../src/features/caller-feature-stream.js';

import { praatPitch, writePraatScript } from './praat-pitch.js';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpora = path.resolve(repoRoot, '../shared/corpora');
const RATE = 8000;
/** Reference F0 above this (Hz) counts as "high". */
const HIGH_HZ = 450;

const perCell = Number(process.argv[2] ?? 12);
const ceilings = (process.argv[3] ?? '500,650,800').split(',').map(Number);
const cells = (
  process.argv[4] ??
  'ravdess/f/anger,ravdess/f/happiness,ravdess/f/surprise,ravdess/f/neutral,nemo/f/happiness,nemo/m/anger,nemo/m/happiness,ravdess/m/anger,ravdess/m/happiness'
).split(',');

/** Voiced speech F0 (Hz, 0 otherwise) at each frame centre (s). */
function track(x: Float32Array, f0MaxHz: number): { t: number; f0: number }[] {
  const frames: { t: number; f0: number }[] = [];
  const s = createCallerFeatureStream({
    pitch: { f0MaxHz },
    onFrame: (f) => frames.push({ t: f.centreSample / RATE, f0: f.voiced && f.speech ? f.f0Hz : 0 }),
  });
  s.push(x);
  s.flush();
  return frames;
}

// The manifest's fields used here hold no commas or quotes.
const rows = (await readFile(path.join(corpora, 'manifest.csv'), 'utf8'))
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
const dir = await mkdtemp(path.join(tmpdir(), 'pitch-ceiling-'));
const script = await writePraatScript(dir, 900);
const pct = (a: number, b: number): string => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
try {
  for (const cell of cells) {
    const [corpus, gender, label] = cell.split('/');
    const list = rows.filter((r) => r[1] === corpus && r[3] === gender && r[5] === label);
    if (list.length === 0) continue;
    const n = Math.min(perCell, list.length);
    const stat = ceilings.map(() => ({ both: 0, gross: 0, highGross: 0 }));
    let praatVoiced = 0;
    let praatHigh = 0;
    for (let j = 0; j < n; j++) {
      const file = path.join(corpora, list[Math.floor(((j + 0.5) * list.length) / n)]![0]!);
      const out = path.join(dir, 'f0.txt');
      const ref = (await praatPitch(script, file, out)).map((p) => [p.t, p.f0] as [number, number]);
      // Praat's frames are 20 ms apart like ours: the nearest one within 11 ms, or unvoiced.
      const refAt = (t: number): number => {
        let best = ref[0]!;
        for (const p of ref) if (Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p;
        return Math.abs(best[0] - t) < 0.011 && Number.isFinite(best[1]) ? best[1] : 0;
      };
      const wav = readWav(await readFile(file));
      const x = wav.sampleRate === RATE ? wav.samples : resampleAll(wav.samples, wav.sampleRate, RATE);
      ceilings.forEach((ceiling, c) => {
        for (const f of track(x, ceiling)) {
          const p = refAt(f.t);
          if (c === 0 && p > 0) {
            praatVoiced++;
            if (p > HIGH_HZ) praatHigh++;
          }
          if (p > 0 && f.f0 > 0) {
            stat[c]!.both++;
            if (Math.abs(f.f0 / p - 1) > 0.2) {
              stat[c]!.gross++;
              if (p > HIGH_HZ) stat[c]!.highGross++;
            }
          }
        }
      });
    }
    process.stdout.write(
      `${cell.padEnd(22)} ${n} clips, Praat voiced ${praatVoiced}, >${HIGH_HZ} Hz ${pct(praatHigh, praatVoiced)}` +
        ceilings.map((c, i) => ` | ${c} Hz: gross ${pct(stat[i]!.gross, stat[i]!.both)} (${stat[i]!.highGross} above ${HIGH_HZ})`).join('') +
        '\n',
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
