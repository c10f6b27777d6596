/**
 * Pitch check: our YIN (as the extractor runs it, telephone band-pass and
 * energy gate included) against Praat's autocorrelation pitch on corpus
 * clips, plus synthetic tones and glides with known F0.
 *
 *   npx tsx scripts/pitch-check.ts [N]      (N clips, default 60)
 *
 * Clips are picked deterministically: round-robin over corpora, evenly
 * spaced through each corpus's manifest rows sorted by path. Praat
 * (/usr/bin/praat, To Pitch (ac), 0.02 s step, 60–500 Hz) reads the original
 * full-band mu-law file; its F0 is interpolated to our frame centres.
 * Reported: median |error| in semitones and gross error rate (> 20 % off)
 * over frames both call voiced, and voicing agreement.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { concat, harmonicComplex, mix, sine, whiteNoise } from '../src/audio/synth.js';
import { readWav } from '../src/audio/wav.js';
import { resampleAll } from '../src/audio/resample.js';
import { TelephoneBandFilter } from '../src/audio/telephone-band.js';
import { createCallerFeatureStream, type FrameInfo } from '../src/features/caller-feature-stream.js';
import { FEATURE_CONFIG } from '../src/features/feature-names.js';
import { PitchInput } from '../src/features/pitch-input.js';
import { YinPitchTracker } from '../src/features/pitch-yin.js';

import { PRAAT, praatPitch, writePraatScript } from './praat-pitch.js';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpora = path.resolve(repoRoot, '../shared/corpora');
const RATE = 8000;


interface Row {
  path: string;
  corpus: string;
  speaker: string;
  gender: string;
}

/** Minimal RFC 4180 CSV parser (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

async function selectClips(n: number): Promise<Row[]> {
  const [header, ...body] = parseCsv(await readFile(path.join(corpora, 'manifest.csv'), 'utf8'));
  const col = (name: string): number => header!.indexOf(name);
  const rows = body.map((r) => ({
    path: r[col('path')]!,
    corpus: r[col('corpus')]!,
    speaker: r[col('speaker')]!,
    gender: r[col('gender')]!,
  }));
  const byCorpus = new Map<string, Row[]>();
  for (const r of rows) byCorpus.set(r.corpus, [...(byCorpus.get(r.corpus) ?? []), r]);
  const names = [...byCorpus.keys()].sort();
  const per = names.map((c, i) => Math.floor(n / names.length) + (i < n % names.length ? 1 : 0));
  const picked: Row[][] = names.map((c, i) => {
    const list = byCorpus.get(c)!.sort((a, b) => (a.path < b.path ? -1 : 1));
    const k = Math.min(per[i]!, list.length);
    // Evenly spaced, offset by half a stride so the first row is not always taken.
    return Array.from({ length: k }, (_, j) => list[Math.floor(((j + 0.5) * list.length) / k)]!);
  });
  // Round-robin across corpora.
  const out: Row[] = [];
  for (let j = 0; out.length < n && j < Math.max(...picked.map((p) => p.length)); j++) {
    for (const p of picked) if (j < p.length && out.length < n) out.push(p[j]!);
  }
  return out;
}

interface OurFrame {
  t: number;
  voiced: boolean;
  f0: number;
}

/**
 * The tracker alone (band-pass, pitch input, YIN, no energy gate or tone
 * rejection), at the extractor's frame centres: for pure tones, which the
 * extractor rightly refuses to call speech.
 */
function trackerPitch(samples: Float32Array): OurFrame[] {
  const { lowPassed, envelope } = PitchInput.of(new TelephoneBandFilter().process(samples));
  const yin = new YinPitchTracker();
  const half = Math.floor(FEATURE_CONFIG.pitchBufferSamples / 2);
  const frames: OurFrame[] = [];
  for (let centre = 128; centre + half + 1 <= samples.length; centre += FEATURE_CONFIG.hopSamples) {
    if (centre - half < 0) continue;
    const r = yin.analyze(lowPassed, centre - half, envelope);
    frames.push({ t: centre / RATE, voiced: r.voiced, f0: r.f0Hz });
  }
  return frames;
}

function ourPitch(samples: Float32Array): OurFrame[] {
  const frames: OurFrame[] = [];
  const stream = createCallerFeatureStream({
    onFrame: (f: FrameInfo) => frames.push({ t: f.centreSample / RATE, voiced: f.voiced, f0: f.f0Hz }),
  });
  stream.push(samples);
  // Let the last frames through (the stream needs 60 samples of look-ahead).
  stream.push(new Float32Array(400));
  return frames.filter((f) => f.t <= samples.length / RATE);
}


/** Praat F0 at time t: interpolated in semitones between voiced neighbours, else the nearest frame's voicing. */
function praatAt(p: { t: number; f0: number }[], t: number): number {
  if (p.length === 0) return 0;
  let i = 0;
  while (i + 1 < p.length && p[i + 1]!.t <= t) i++;
  const a = p[i]!;
  const b = p[Math.min(i + 1, p.length - 1)]!;
  if (t < a.t || a === b) return Math.abs(t - a.t) <= 0.015 ? a.f0 : 0;
  if (a.f0 > 0 && b.f0 > 0) {
    const w = (t - a.t) / (b.t - a.t);
    return Math.exp(Math.log(a.f0) * (1 - w) + Math.log(b.f0) * w);
  }
  return t - a.t < b.t - t ? a.f0 : b.f0;
}

class Tally {
  errors: number[] = [];
  gross = 0;
  both = 0;
  agree = 0;
  frames = 0;
  oursOnly = 0;
  praatOnly = 0;
  add(ours: boolean, ourF0: number, ref: number): void {
    this.frames++;
    const refVoiced = ref > 0;
    if (ours === refVoiced) this.agree++;
    else if (ours) this.oursOnly++;
    else this.praatOnly++;
    if (ours && refVoiced) {
      this.both++;
      this.errors.push(Math.abs(12 * Math.log2(ourF0 / ref)));
      if (Math.abs(ourF0 / ref - 1) > 0.2) this.gross++;
    }
  }
  line(label: string): string {
    const sorted = [...this.errors].sort((a, b) => a - b);
    const med = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN;
    const pct = (x: number, of: number): string => (of ? ((100 * x) / of).toFixed(1) : 'n/a') + '%';
    return (
      `${label.padEnd(10)} frames ${String(this.frames).padStart(6)}  both voiced ${String(this.both).padStart(6)}  ` +
      `median |err| ${med.toFixed(3)} st  gross ${pct(this.gross, this.both)}  ` +
      `voicing agreement ${pct(this.agree, this.frames)} (ours only ${pct(this.oursOnly, this.frames)}, Praat only ${pct(this.praatOnly, this.frames)})`
    );
  }
}

function progress(done: number, total: number, startMs: number): void {
  if (!process.stderr.isTTY) return;
  const elapsed = (Date.now() - startMs) / 1000;
  const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
  process.stderr.write(`\r  ${done}/${total} clips, ${elapsed.toFixed(0)} s elapsed, ETA ${eta.toFixed(0)} s   `);
  if (done === total) process.stderr.write('\n');
}

function syntheticChecks(): void {
  console.log('\nSynthetic signals (truth known), through the extractor (band-pass + gates + YIN); pure tones');
  console.log('through the tracker alone, since the extractor rejects tones as non-speech:');
  const cases: { name: string; x: Float32Array; f0: (t: number) => number; trackerOnly?: boolean }[] = [
    { name: 'sine 100 Hz (tracker only)', x: sine(100, 2, 0.3), f0: () => 100, trackerOnly: true },
    { name: 'sine 220 Hz (tracker only)', x: sine(220, 2, 0.3), f0: () => 220, trackerOnly: true },
    { name: 'complex 90 Hz, ≥300 Hz only', x: harmonicComplex({ durationS: 2, f0Hz: 90, minHz: 300 }), f0: () => 90 },
    { name: 'complex 130 Hz, ≥300 Hz only', x: harmonicComplex({ durationS: 2, f0Hz: 130, minHz: 300 }), f0: () => 130 },
    { name: 'complex 250 Hz', x: harmonicComplex({ durationS: 2, f0Hz: 250 }), f0: () => 250 },
    {
      name: 'glide 80→240 Hz',
      x: harmonicComplex({ durationS: 2, f0Hz: (t) => 80 * Math.pow(3, t / 2) }),
      f0: (t) => 80 * Math.pow(3, t / 2),
    },
    {
      name: 'glide 400→100 Hz',
      x: harmonicComplex({ durationS: 2, f0Hz: (t) => 400 * Math.pow(0.25, t / 2) }),
      f0: (t) => 400 * Math.pow(0.25, t / 2),
    },
    {
      // Syllables at 4 Hz; F0 jumps an octave in 0.3 s and stays there.
      name: 'scream: 110→220 Hz jump at 1 s',
      x: harmonicComplex({
        durationS: 2,
        f0Hz: (t) => 110 * Math.pow(2, Math.min(Math.max(t - 1, 0) / 0.3, 1)),
        minHz: 300,
        envelope: (t) => 0.05 + 0.95 * Math.pow(0.5 - 0.5 * Math.cos(2 * Math.PI * 4 * t), 2),
      }),
      f0: (t) => 110 * Math.pow(2, Math.min(Math.max(t - 1, 0) / 0.3, 1)),
    },
    {
      name: 'vibrato 150 Hz ±1 st, 15 dB SNR',
      x: mix(
        harmonicComplex({ durationS: 2, f0Hz: (t) => 150 * Math.pow(2, Math.sin(2 * Math.PI * 5 * t) / 12), amplitude: 0.3 }),
        whiteNoise(2, 0.02, 5),
      ),
      f0: (t) => 150 * Math.pow(2, Math.sin(2 * Math.PI * 5 * t) / 12),
    },
  ];
  const all = new Tally();
  for (const c of cases) {
    // Half a second of silence first, so the noise floor is learnt as on a call.
    const lead = 0.5;
    const input = concat(new Float32Array(lead * RATE), c.x);
    const frames = c.trackerOnly ? trackerPitch(input) : ourPitch(input);
    const t = new Tally();
    for (const f of frames) {
      const ts = f.t - lead;
      if (ts < 0.05 || ts > c.x.length / RATE - 0.05) continue;
      t.add(f.voiced, f.f0, c.f0(ts));
      all.add(f.voiced, f.f0, c.f0(ts));
    }
    console.log('  ' + t.line(c.name.padEnd(34).slice(0, 34)).replace(/voicing agreement/, 'voiced').replace(/Praat only/, 'missed'));
  }
  console.log('  ' + all.line('all synthetic'.padEnd(34)).replace(/voicing agreement/, 'voiced').replace(/Praat only/, 'missed'));
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 60);
  if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive integer (got ${process.argv[2]})`);
  if (!existsSync(path.join(corpora, 'manifest.csv'))) {
    console.log(`corpora not found at ${corpora}; running the synthetic checks only`);
    syntheticChecks();
    return;
  }
  if (!existsSync(PRAAT)) throw new Error(`${PRAAT} not found`);
  const clips = await selectClips(n);
  const dir = await mkdtemp(path.join(tmpdir(), 'pitch-check-'));
  const script = await writePraatScript(dir, 500);
  const total = new Tally();
  const perCorpus = new Map<string, Tally>();
  const perGender = new Map<string, Tally>();
  const start = Date.now();
  console.log(`Pitch check: ${clips.length} clips from ${corpora}`);
  try {
    for (let i = 0; i < clips.length; i++) {
      const clip = clips[i]!;
      const file = path.join(corpora, clip.path);
      const wav = readWav(await readFile(file));
      const samples = wav.sampleRate === RATE ? wav.samples : resampleAll(wav.samples, wav.sampleRate, RATE);
      const ours = ourPitch(samples);
      const ref = await praatPitch(script, file, path.join(dir, `out-${i}.txt`));
      const c = perCorpus.get(clip.corpus) ?? new Tally();
      perCorpus.set(clip.corpus, c);
      const g = perGender.get(clip.gender || '?') ?? new Tally();
      perGender.set(clip.gender || '?', g);
      for (const f of ours) {
        const r = praatAt(ref, f.t);
        total.add(f.voiced, f.f0, r);
        c.add(f.voiced, f.f0, r);
        g.add(f.voiced, f.f0, r);
      }
      progress(i + 1, clips.length, start);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('\nYIN (ours, telephone band) vs Praat To Pitch (ac) (full-band file), per 20 ms frame:');
  for (const [name, t] of [...perCorpus.entries()].sort()) console.log('  ' + t.line(name));
  for (const [name, t] of [...perGender.entries()].sort()) console.log('  ' + t.line(`gender ${name}`));
  console.log('  ' + total.line('ALL'));
  syntheticChecks();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
