import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const tsx = path.join(repo, 'node_modules', '.bin', 'tsx');

interface Uars {
  anger_uar: number | null;
  emotion4_uar: number | null;
  arousal_uar: number | null;
}

describe('eval --json on the committed eval-mini fixture', () => {
  it('streams every clip through the live path and prints the summary as the last line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-eval-'));
    const figure = path.join(dir, 'confusion.svg');
    const { stdout } = await run(
      tsx,
      ['src/main.ts', 'eval', '--manifest', 'audio-fixtures/eval-mini/manifest.csv', '--json', '--figure', figure, '--jobs', '2'],
      { cwd: repo, maxBuffer: 16 << 20 },
    );
    const lines = stdout.trimEnd().split('\n');
    const summary = JSON.parse(lines.at(-1)!) as {
      clips: number;
      overall: Uars;
      by_corpus: Record<string, Uars & { clips: number }>;
    };
    expect(Object.keys(summary)).toEqual(['clips', 'assembly', 'overall', 'by_corpus']);
    expect((summary as unknown as { assembly: string }).assembly).toBe('speaker');
    expect(summary.clips).toBeGreaterThanOrEqual(28);
    expect(summary.clips).toBeLessThanOrEqual(31);
    for (const v of Object.values(summary.overall)) {
      expect(typeof v).toBe('number');
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(Object.keys(summary.by_corpus).sort()).toEqual(['baved', 'kor', 'nemo', 'turev']);
    // baved has arousal labels only: no eligible clips for the other tasks.
    expect(summary.by_corpus.baved).toMatchObject({ anger_uar: null, emotion4_uar: null, clips: 6 });
    expect(summary.by_corpus.baved!.arousal_uar).toEqual(expect.any(Number));
    expect(summary.by_corpus.nemo!.clips).toBeGreaterThan(0);
    const perCorpus = Object.values(summary.by_corpus).reduce((s, c) => s + c.clips, 0);
    expect(perCorpus).toBe(summary.clips);
    // Text report: a table and confusion matrices before the JSON line.
    expect(stdout).toContain('overall · anger');
    expect(stdout).toMatch(/true \\ pred/);
    const svg = await readFile(figure, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('overall · emotion4');
  }, 120_000);

  it('--per-label makes one call per speaker and label, and says so', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-eval-label-'));
    const args = ['src/main.ts', 'eval', '--manifest', 'audio-fixtures/eval-mini/manifest.csv', '--json', '--jobs', '2'];
    const calls = (stderr: string): number => Number(/clips in (\d+) calls/.exec(stderr)?.[1]);
    const bySpeaker = await run(tsx, [...args, '--figure', path.join(dir, 'a.svg')], { cwd: repo, maxBuffer: 16 << 20 });
    const byLabel = await run(tsx, [...args, '--per-label', '--figure', path.join(dir, 'b.svg')], { cwd: repo, maxBuffer: 16 << 20 });
    const manifest = (await readFile(path.join(repo, 'audio-fixtures/eval-mini/manifest.csv'), 'utf8')).trimEnd().split('\n').slice(1);
    const key = (cols: string[], perLabel: boolean): string =>
      cols[2] ? (perLabel ? `${cols[2]}~${cols[5] || `arousal-${cols[6]}`}` : cols[2]) : `clip:${cols[0]}`;
    const count = (perLabel: boolean): number => new Set(manifest.map((l) => key(l.split(','), perLabel))).size;
    expect(calls(bySpeaker.stderr)).toBe(count(false));
    expect(calls(byLabel.stderr)).toBe(count(true));
    expect(count(true)).toBeGreaterThan(count(false));
    const summary = JSON.parse(byLabel.stdout.trimEnd().split('\n').at(-1)!) as { assembly: string; clips: number };
    expect(summary.assembly).toBe('per-label');
    // Shorter calls cut windows elsewhere, so a clip or two may score in one assembly only.
    expect(summary.clips).toBeGreaterThanOrEqual(28);
  }, 120_000);

  it('names unreadable clips on stderr and scores the rest (exit 0)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-eval-bad-'));
    const manifest = (await readFile(path.join(repo, 'audio-fixtures/eval-mini/manifest.csv'), 'utf8')).trimEnd().split('\n');
    await writeFile(path.join(dir, 'broken.wav'), 'not audio at all');
    const rows = [
      ...manifest.slice(0, 4),
      'broken.wav,nemo,nemo-EB0,f,pl,anger,high,anger,1.0,',
      'gone.wav,nemo,,f,pl,neutral,mid,neutral,1.0,',
    ];
    // Relative paths of the fixture rows resolve against --root; the bad rows point into dir.
    const fixtureRoot = path.join(repo, 'audio-fixtures/eval-mini');
    const lines = rows.map((r, i) => (i > 0 && i < 4 ? `${path.join(fixtureRoot, r.split(',')[0]!)}${r.slice(r.indexOf(','))}` : r));
    await writeFile(path.join(dir, 'manifest.csv'), `${lines.join('\n')}\n`);
    const { stdout, stderr } = await run(
      tsx,
      ['src/main.ts', 'eval', '--manifest', path.join(dir, 'manifest.csv'), '--json', '--figure', path.join(dir, 'c.svg'), '--jobs', '1'],
      { cwd: repo, maxBuffer: 16 << 20 },
    );
    expect(stderr).toContain('2 clip(s) could not be read and are left out');
    expect(stderr).toMatch(/broken\.wav: .*WAV/);
    expect(stderr).toMatch(/gone\.wav: ENOENT/);
    const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { clips: number };
    expect(summary.clips).toBe(3);
  }, 120_000);
});
