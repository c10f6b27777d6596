import { describe, expect, it } from 'vitest';
import { floatToMuLaw } from '../../src/audio/g711.js';
import { harmonicComplex } from '../../src/audio/synth.js';
import { labelWindow, planCalls, streamCall, type ClipSpan } from '../../src/eval/call-assembly.js';
import type { ManifestClip } from '../../src/eval/manifest.js';
import { FEATURE_NAMES } from '../../src/features/feature-names.js';

function clip(index: number, speaker: string): ManifestClip {
  return {
    index,
    path: `${index}.wav`,
    file: `/x/${index}.wav`,
    corpus: 'c',
    speaker,
    gender: '',
    language: '',
    label: 'neutral',
    arousal: 'mid',
    sourceLabel: '',
    durationS: 1,
  };
}

describe('planCalls', () => {
  const clips = [clip(0, 'b'), clip(1, 'a'), clip(2, 'b'), clip(3, ''), clip(4, 'a'), clip(5, 'b'), clip(6, 'b')];

  it('makes one call per speaker (sorted) and one per speakerless clip', () => {
    const calls = planCalls(clips, { seed: 3 });
    expect(calls.map((c) => c.id)).toEqual(['a', 'b', 'clip-3']);
    expect(calls[1]!.clips.map((c) => c.index).sort()).toEqual([0, 2, 5, 6]);
  });

  it('perLabel: one call per speaker and label, the arousal level standing in for a missing label', () => {
    const labelled = [
      { ...clip(0, 'b'), label: 'anger' },
      { ...clip(1, 'a'), label: 'neutral' },
      { ...clip(2, 'b'), label: 'neutral' },
      { ...clip(3, 'b'), label: 'anger' },
      { ...clip(4, 'a'), label: '', arousal: 'high' },
      clip(5, ''),
    ];
    const calls = planCalls(labelled, { seed: 3, perLabel: true });
    expect(calls.map((c) => c.id)).toEqual(['a~arousal-high', 'a~neutral', 'b~anger', 'b~neutral', 'clip-5']);
    expect(calls.map((c) => c.speaker)).toEqual(['a', 'a', 'b', 'b', '']);
    expect(calls[2]!.clips.map((c) => c.index).sort()).toEqual([0, 3]);
    // Without it the same clips make one call per speaker.
    expect(planCalls(labelled, { seed: 3 }).map((c) => c.id)).toEqual(['a', 'b', 'clip-5']);
  });

  it('is deterministic for a seed and changes order with the seed', () => {
    const order = (seed: number): number[] => planCalls(clips, { seed })[1]!.clips.map((c) => c.index);
    expect(order(1)).toEqual(order(1));
    const orders = new Set([1, 2, 3, 4, 5, 6].map((s) => order(s).join(',')));
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe('labelWindow', () => {
  const spans: ClipSpan[] = [
    { clip: clip(0, 's'), startSample: 0, endSample: 10_000 },
    { clip: clip(1, 's'), startSample: 15_000, endSample: 30_000 },
  ];
  const win = (startSample: number, endSample: number) => ({
    startSample,
    endSample,
    values: new Float32Array(0),
    speechRatio: 1,
  });

  it('labels a window with the clip it overlaps most and its share of clip audio', () => {
    const a = labelWindow(win(0, 16_000), spans);
    expect(a.clip?.index).toBe(0);
    // 10000 samples of clip 0, 1000 of clip 1.
    expect(a.share).toBeCloseTo(10_000 / 11_000, 6);
    const b = labelWindow(win(12_000, 28_000), spans);
    expect(b.clip?.index).toBe(1);
    expect(b.share).toBe(1);
    const none = labelWindow(win(10_000, 15_000), spans);
    expect(none.clip).toBeUndefined();
    expect(none.share).toBe(0);
    expect(none.labelShare).toBe(0);
  });

  it('counts the label share over every clip of the best clip\'s label', () => {
    const angry = (i: number): ManifestClip => ({ ...clip(i, 's'), label: 'anger', arousal: 'high' });
    const mixed: ClipSpan[] = [
      { clip: angry(0), startSample: 0, endSample: 6_000 },
      { clip: angry(1), startSample: 8_000, endSample: 14_000 },
      { clip: clip(2, 's'), startSample: 15_000, endSample: 30_000 },
    ];
    // 6000 + 6000 of anger, 1000 of neutral: clip 0 or 1 holds 6/13, anger 12/13.
    const w = labelWindow(win(0, 16_000), mixed);
    expect(w.clip?.label).toBe('anger');
    expect(w.share).toBeCloseTo(6_000 / 13_000, 6);
    expect(w.labelShare).toBeCloseTo(12_000 / 13_000, 6);
    // The best clip (neutral, 14000 samples) against 2000 of anger.
    const n = labelWindow(win(12_000, 29_000), mixed, 1);
    expect(n.clip?.index).toBe(2);
    expect(n.labelShare).toBeCloseTo(14_000 / 16_000, 6);
  });
});

describe('streamCall with an unreadable clip', () => {
  it('leaves that clip out, names it with the reason, and streams the others', async () => {
    const clips = [clip(0, 'a'), clip(1, 'a'), clip(2, 'a')];
    const voice = floatToMuLaw(harmonicComplex({ f0Hz: 140, durationS: 2.5, amplitude: 0.3 }));
    const res = await streamCall(
      { id: 'a', speaker: 'a', clips },
      {
        loadClip: async (c) => {
          if (c.index === 1) throw new Error('not a RIFF/WAVE file');
          return voice;
        },
      },
    );
    expect(res.unreadable).toEqual([{ index: 1, reason: 'not a RIFF/WAVE file' }]);
    expect(res.spans.map((s) => s.clip.index)).toEqual([0, 2]);
    const labelled = new Set(res.windows.map((w) => w.clip?.index));
    expect(labelled.has(0) && labelled.has(2)).toBe(true);
    expect(labelled.has(1)).toBe(false);
  });
});

describe('streamCall with speed perturbation', () => {
  const voice = floatToMuLaw(harmonicComplex({ f0Hz: 140, durationS: 2.5, amplitude: 0.3 }));
  const run = (speed?: number) =>
    streamCall({ id: 'a', speaker: 'a', clips: [clip(0, 'a')] }, { loadClip: async () => voice, ...(speed ? { speed } : {}) });
  const medianF0St = (windows: { window: { values: Float32Array } }[]): number => {
    const at = FEATURE_NAMES.indexOf('f0_st_p50');
    const v = windows.map((w) => w.window.values[at]!).sort((a, b) => a - b);
    return v[v.length >> 1]!;
  };

  it('plays the clip faster: shorter by the factor, pitch higher by it', async () => {
    const [plain, fast] = await Promise.all([run(), run(1.25)]);
    const span = (r: typeof plain) => r.spans[0]!.endSample - r.spans[0]!.startSample;
    expect(span(plain)).toBe(voice.length);
    expect(Math.abs(span(fast) - voice.length / 1.25)).toBeLessThanOrEqual(2);
    // 12·log2(1.25) ≈ 3.86 semitones
    expect(medianF0St(fast.windows) - medianF0St(plain.windows)).toBeCloseTo(12 * Math.log2(1.25), 0);
  });

  it('refuses a speed outside (0.5, 2)', async () => {
    await expect(run(3)).rejects.toThrow(/speed/);
  });
});
