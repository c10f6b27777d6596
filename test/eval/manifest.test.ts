import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseLabel, parseCsv, readManifest } from '../../src/eval/manifest.js';

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, CRLF and a BOM', () => {
    const rows = parseCsv('\ufeffa,b,c\r\n1,"x, ""y""",3\n4,,"multi\nline"\n');
    expect(rows).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, "y"', '3'],
      ['4', '', 'multi\nline'],
    ]);
  });
});

describe('readManifest', () => {
  it('resolves paths against the root and checks columns', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-manifest-'));
    const file = path.join(dir, 'm.csv');
    await writeFile(file, 'path,corpus,speaker,label,arousal,duration_s\nx/a.wav,c1,s1,Anger,high,1.5\ny.wav,c1,,,low,2\n');
    const clips = await readManifest(file);
    expect(clips).toHaveLength(2);
    expect(clips[0]!.file).toBe(path.join(dir, 'x/a.wav'));
    expect(clips[0]!.label).toBe('anger');
    expect(clips[1]!.speaker).toBe('');
    expect(clips[1]!.index).toBe(1);
    const rooted = await readManifest(file, { root: '/data' });
    expect(rooted[1]!.file).toBe('/data/y.wav');
    await writeFile(file, 'path,corpus,label\n');
    await expect(readManifest(file)).rejects.toThrow(/missing column\(s\) speaker, arousal/);
  });

  it('maps common spellings to the harmonised labels and keeps unknown ones', async () => {
    expect(['Angry', ' HAPPY ', 'joy', 'Sad', 'neutral', 'Disgust', ''].map(normaliseLabel)).toEqual([
      'anger',
      'happiness',
      'happiness',
      'sadness',
      'neutral',
      'disgust',
      '',
    ]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ut-manifest-'));
    const file = path.join(dir, 'm.csv');
    await writeFile(file, 'path,corpus,speaker,label,arousal\na.wav,c,s,angry,Medium\nb.wav,c,s,boredom,loud\n');
    await expect(readManifest(file)).rejects.toThrow(/m\.csv:3: arousal 'loud' is not low, mid or high/);
    await writeFile(file, 'path,corpus,speaker,label,arousal\na.wav,c,s,angry,Medium\n');
    expect((await readManifest(file))[0]).toMatchObject({ label: 'anger', arousal: 'mid' });
  });
});

