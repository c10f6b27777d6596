/**
 * The inline engine is today's chain, moved: the same windows and scores as
 * decoding, framing and scoring by hand, batches delivered in audio order,
 * and a decoder error reported to the sink (not thrown at the socket).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/audio/decoder.js';
import type { DspWindow } from '../../src/dsp/dsp-engine.js';
import { nextWindowEnd, windowEndsUpTo } from '../../src/dsp/dsp-engine.js';
import { createInlineDspEngine } from '../../src/dsp/inline-engine.js';
import { createCallerFeatureStream } from '../../src/features/caller-feature-stream.js';
import type { FeatureWindow } from '../../src/features/types.js';
import type { EmotionModel } from '../../src/model/types.js';
import { AudioFormatError } from '../../src/shared/errors.js';
import { chunks, loadFixtureMuLaw, loadTestModel } from '../integration/helpers.js';

describe('inline DSP engine', () => {
  let model: EmotionModel;
  let angry: Uint8Array;
  beforeAll(async () => {
    model = await loadTestModel();
    angry = await loadFixtureMuLaw('calm-then-angry');
  });

  it('gives exactly the windows and scores of decode → feature stream → model.score', async () => {
    const decode = createDecoder({ encoding: 'pcmu', sampleRate: 8000 });
    const stream = createCallerFeatureStream();
    const expected: FeatureWindow[] = [];
    for (const p of chunks(angry)) for (const w of stream.push(decode(p))) expected.push({ ...w, values: w.values.slice() });
    const expectedScores = await model.score(expected.map((w) => w.values));

    const got: DspWindow[] = [];
    const batches: number[] = [];
    const call = createInlineDspEngine({ model }).open(
      { callId: 'CA-1', format: { encoding: 'pcmu', sampleRate: 8000 } },
      { onScored: (w) => (batches.push(w.length), got.push(...w)), onError: (e) => { throw e; } },
    );
    for (const p of chunks(angry)) call.push(p);
    expect(call.samplesSeen).toBe(angry.length);
    expect(call.pendingWindows).toBe(expected.length);
    await call.finish();
    expect(call.pendingWindows).toBe(0);
    expect(got.map((w) => [w.startSample, w.endSample, w.speechRatio])).toEqual(expected.map((w) => [w.startSample, w.endSample, w.speechRatio]));
    got.forEach((w, i) => {
      expect(w.values).toEqual(expected[i]!.values);
      expect(w.scores).toEqual(expectedScores[i]);
    });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(expected.length);
  });

  it('refuses an unknown format at open, and reports a model failure to the sink once', async () => {
    const engine = createInlineDspEngine({
      model: {
        score: async () => {
          throw new Error('onnx exploded');
        },
      },
    });
    const sink = { onScored: () => undefined, onError: () => undefined };
    expect(() => engine.open({ callId: 'CA-x', format: { encoding: 'opus' as never, sampleRate: 8000 } }, sink)).toThrow(AudioFormatError);
    const errors: string[] = [];
    const call = engine.open({ callId: 'CA-2', format: { encoding: 'pcmu', sampleRate: 8000 } }, { onScored: () => undefined, onError: (e, what) => errors.push(`${what}: ${(e as Error).message}`) });
    for (const p of chunks(angry)) call.push(p);
    await call.finish();
    expect(errors).toEqual(['scoring failed: onnx exploded']);
    expect(call.pendingWindows).toBe(0);
  });

  it('counts window ends: 2 s windows every 0.5 s', () => {
    expect([0, 15_999, 16_000, 19_999, 20_000, 24_000].map(windowEndsUpTo)).toEqual([0, 0, 1, 1, 2, 3]);
    // The next window completes at the first window end after the audio so far (a completed one is past).
    expect([0, 15_999, 16_000, 19_999, 20_000].map(nextWindowEnd)).toEqual([16_000, 16_000, 20_000, 20_000, 24_000]);
  });
});
