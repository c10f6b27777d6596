/**
 * Praat as the reference pitch tracker for the pitch-check scripts: a
 * `To Pitch (ac)` script with a 0.02 s step from 60 Hz up to a ceiling, run
 * on one file, read back as (time, F0) pairs (F0 0 = unvoiced).
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PRAAT = '/usr/bin/praat';

/** The Praat script for a ceiling in Hz (arguments: input file, output file). */
export function praatPitchScript(ceilingHz: number): string {
  return `form Pitch
  sentence inFile
  sentence outFile
endform
s = Read from file: inFile$
p = To Pitch (ac): 0.02, 60, 15, "no", 0.03, 0.45, 0.01, 0.35, 0.14, ${ceilingHz}
n = Get number of frames
deleteFile: outFile$
for i to n
  t = Get time from frame number: i
  f = Get value in frame: i, "Hertz"
  appendFileLine: outFile$, fixed$(t, 5), " ", f
endfor
`;
}

/** Writes the script into `dir` (as pitch.praat) once per run. */
export async function writePraatScript(dir: string, ceilingHz: number): Promise<string> {
  const file = path.join(dir, 'pitch.praat');
  await writeFile(file, praatPitchScript(ceilingHz));
  return file;
}

/** Praat's F0 track of `file` (written to `out` on the way). */
export async function praatPitch(script: string, file: string, out: string): Promise<{ t: number; f0: number }[]> {
  await run(PRAAT, ['--run', script, file, out]);
  const text = await readFile(out, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [t, f] = line.trim().split(/\s+/);
      const f0 = Number(f);
      return { t: Number(t), f0: Number.isFinite(f0) ? f0 : 0 };
    });
}
