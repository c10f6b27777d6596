/**
 * Gathering batches on the main thread (WorkerPoolOptions.gatherMs): call
 * audio waits until the batch's oldest has waited gatherMs; an open or a
 * close goes at once and takes what has gathered along. Real worker threads;
 * the gather is made long (1 s) so that what the assertions wait on cannot be
 * a slow machine's doing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DspWindow } from '../../src/dsp/dsp-engine.js';
import { createInlineDspEngine } from '../../src/dsp/inline-engine.js';
import { createWorkerPoolEngine, type WorkerPoolEngine } from '../../src/dsp/worker-pool.js';
import type { LoadedEmotionModel } from '../../src/model/emotion-model.js';
import { loadFixtureMuLaw, loadTestModel, MODEL_PATH } from '../integration/helpers.js';

const GATHER_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('worker pool: gathering batches', () => {
  let model: LoadedEmotionModel;
  let speech: Uint8Array;
  let pool: WorkerPoolEngine;

  beforeAll(async () => {
    model = await loadTestModel();
    // The angry part of the fixture: every window has speech.
    speech = (await loadFixtureMuLaw('calm-then-angry')).subarray(8000 * 22);
    pool = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, gatherMs: GATHER_MS });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('holds a call\'s audio, the payload that ends a window too, until the oldest has waited gatherMs: the same window as inline', async () => {
    const got: Array<{ window: DspWindow; atMs: number }> = [];
    const call = pool.open(
      { callId: 'G1', format: { encoding: 'pcmu', sampleRate: 8000 } },
      { onScored: (ws) => got.push(...ws.map((window) => ({ window, atMs: performance.now() }))), onError: (error) => { throw error; } },
    );
    // The open goes at once (audio pushed in its turn would go with it).
    await sleep(50);
    // 20-ms payloads up to and including the one that ends the first window (sample 16000).
    const t0 = performance.now();
    for (let offset = 0; offset < 16000; offset += 160) call.push(speech.subarray(offset, offset + 160));
    await sleep(300);
    // Not posted: the backlog is the gathering batch's age (a posted batch is answered within ms).
    expect(pool.backlogMs(performance.now())).toBeGreaterThanOrEqual(300);
    expect(got).toEqual([]);
    for (let i = 0; i < 400 && got.length === 0; i++) await sleep(10);
    expect(got.map((g) => g.window.endSample)).toEqual([16000]);
    expect(got[0]!.atMs - t0).toBeGreaterThanOrEqual(GATHER_MS - 5);
    expect(pool.backlogMs(performance.now())).toBe(0);

    // The same window as the inline engine's: gathering changes when audio moves, not what comes out.
    const ref: DspWindow[] = [];
    const inline = createInlineDspEngine({ model }).open({ callId: 'G1-ref', format: { encoding: 'pcmu', sampleRate: 8000 } }, { onScored: (ws) => ref.push(...ws), onError: (error) => { throw error; } });
    inline.push(speech.subarray(0, 16000));
    await inline.finish();
    expect(Array.from(got[0]!.window.values)).toEqual(Array.from(ref[0]!.values));
    expect(got[0]!.window.scores).toEqual(ref[0]!.scores);
    call.abort();
  });

  it('counts the batches it posts (undertone_dsp_batches_total): one for the gathered audio, not one per payload', async () => {
    const call = pool.open({ callId: 'G3', format: { encoding: 'pcmu', sampleRate: 8000 } }, { onScored: () => undefined, onError: (error) => { throw error; } });
    await sleep(50);
    const before = pool.batchesPosted();
    for (let offset = 0; offset < 4000; offset += 160) call.push(speech.subarray(offset, offset + 160));
    for (let i = 0; i < 300 && pool.backlogMs(performance.now()) > 0; i++) await sleep(10);
    expect(pool.batchesPosted() - before).toBe(1);
    await call.finish();
    await sleep(50);
    expect(pool.batchesPosted() - before).toBe(2); // the close, at the next turn
  });

  it('posts gathered audio once it has waited gatherMs, and a close at once', async () => {
    const got: DspWindow[] = [];
    const call = pool.open(
      { callId: 'G2', format: { encoding: 'pcmu', sampleRate: 8000 } },
      { onScored: (ws) => got.push(...ws), onError: (error) => { throw error; } },
    );
    await sleep(50);
    const t0 = performance.now();
    call.push(speech.subarray(0, 8000));
    // Due at t0 + gatherMs: then the worker answers and nothing waits.
    for (let i = 0; i < 200 && pool.backlogMs(performance.now()) > 0; i++) await sleep(25);
    const answeredMs = performance.now() - t0;
    expect(answeredMs).toBeGreaterThanOrEqual(GATHER_MS - 5);
    expect(answeredMs).toBeLessThan(GATHER_MS + 3000);

    // Audio gathering, then the call closes: the close goes at the next turn, the audio with it.
    call.push(speech.subarray(8000, 12000));
    const closedAt = performance.now();
    await call.finish();
    expect(performance.now() - closedAt).toBeLessThan(GATHER_MS - 300);
    expect(pool.backlogMs(performance.now())).toBe(0);
    // 1.5 s of audio: no window yet.
    expect(got).toEqual([]);
  });
});
