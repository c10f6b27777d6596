/**
 * The main thread's staging buffer for gathering a DSP worker's batch grows
 * for a large turn (a stall leaves seconds of every call's audio to post at
 * once) and is cut back once batches have stayed small: one stall must not
 * keep megabytes for the rest of the process. Real worker thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DspWindow } from '../../src/dsp/dsp-engine.js';
import { createInlineDspEngine } from '../../src/dsp/inline-engine.js';
import { createWorkerPoolEngine, type WorkerPoolEngine } from '../../src/dsp/worker-pool.js';
import type { LoadedEmotionModel } from '../../src/model/emotion-model.js';
import { loadFixtureMuLaw, loadTestModel, MODEL_PATH } from '../integration/helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PAYLOAD = 160;

describe('worker pool: the staging buffer', () => {
  let model: LoadedEmotionModel;
  let audio: Uint8Array;
  let pool: WorkerPoolEngine;

  beforeAll(async () => {
    model = await loadTestModel();
    audio = await loadFixtureMuLaw('calm-then-angry');
    pool = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('grows for one large turn and is cut back to its starting size after a run of small batches, losing no audio', async () => {
    const windows: DspWindow[] = [];
    const call = pool.open({ callId: 'S1', format: { encoding: 'pcmu', sampleRate: 8000 } }, { onScored: (ws) => windows.push(...ws), onError: (error) => { throw error; } });
    await sleep(50);
    const start = pool.stagingBytes();
    const loop = audio.length - (audio.length % PAYLOAD);
    const pushed: Uint8Array[] = [];
    let sent = 0;
    const push = (): void => {
      const payload = audio.subarray(sent % loop, (sent % loop) + PAYLOAD);
      call.push(payload);
      pushed.push(payload);
      sent += PAYLOAD;
    };
    // One turn of 1 MB (the fixture over and over, 131 s of audio): what a long stall leaves to post.
    const big = 1024 * 1024;
    while (sent < big) push();
    expect(pool.stagingBytes()).toBeGreaterThanOrEqual(big);
    // Then one payload per turn, each posted on its own once the one before is answered.
    for (let turn = 0; turn < 200 && pool.stagingBytes() > start; turn++) {
      for (let i = 0; i < 500 && pool.backlogMs(performance.now()) > 0; i++) await sleep(2);
      push();
      await sleep(1);
    }
    expect(pool.stagingBytes()).toBe(start);
    await call.finish();
    // Nothing staged was lost or reordered across the cut: the inline engine's windows for the same bytes.
    const ref: DspWindow[] = [];
    const inline = createInlineDspEngine({ model }).open({ callId: 'S1-ref', format: { encoding: 'pcmu', sampleRate: 8000 } }, { onScored: (ws) => ref.push(...ws), onError: (error) => { throw error; } });
    for (const payload of pushed) inline.push(payload);
    await inline.finish();
    expect(windows.length).toBeGreaterThan(200);
    expect(windows.map((w) => w.endSample)).toEqual(ref.map((w) => w.endSample));
    expect(Array.from(windows.at(-1)!.values)).toEqual(Array.from(ref.at(-1)!.values));
  }, 60_000);
});
