/**
 * The worker-pool DSP engine against the inline one: same windows and scores
 * for the same call, results in order, stage times merged from the workers,
 * a crashed worker failing only its own calls, and a bad model failing start-up.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/audio/decoder.js';
import { resampleAll } from '../../src/audio/resample.js';
import { createCallPipeline } from '../../src/calls/call-pipeline.js';
import { CallSession } from '../../src/calls/call-session.js';
import { windowEndsUpTo, type DspCall, type DspEngine, type DspWindow } from '../../src/dsp/dsp-engine.js';
import { DspWorkerError } from '../../src/dsp/dsp-errors.js';
import { createInlineDspEngine } from '../../src/dsp/inline-engine.js';
import { createWorkerPoolEngine, DEFAULT_DSP_YOUNG_GENERATION_MB, type WorkerPoolEngine } from '../../src/dsp/worker-pool.js';
import { EARLY_MIN_REST_PAYLOADS } from '../../src/dsp/worker-protocol.js';
import type { CallStartEvent } from '../../src/ingest/call-event.js';
import type { LoadedEmotionModel } from '../../src/model/emotion-model.js';
import { StageClock, Stage } from '../../src/observability/stage-clock.js';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import type { PolicyEvent } from '../../src/policy/types.js';
import { ModelError } from '../../src/shared/errors.js';
import { callLogger } from '../../src/shared/logger.js';
import { captureLogger, chunks, LEVEL, loadFixtureMuLaw, loadTestModel, MODEL_PATH } from '../integration/helpers.js';

interface Recorded {
  windows: DspWindow[];
  errors: Array<{ error: unknown; what: string }>;
}

function openRecorded(engine: DspEngine, callId: string, clock?: StageClock): { call: DspCall; rec: Recorded } {
  const rec: Recorded = { windows: [], errors: [] };
  const call = engine.open(
    { callId, format: { encoding: 'pcmu', sampleRate: 8000 }, ...(clock ? { clock } : {}) },
    { onScored: (w) => rec.windows.push(...w), onError: (error, what) => rec.errors.push({ error, what }) },
  );
  return { call, rec };
}

/** Uneven chunks, as a gateway with jitter delivers them, pushed over several event-loop turns. */
async function pushAll(call: DspCall, audio: Uint8Array): Promise<void> {
  let offset = 0;
  let n = 0;
  while (offset < audio.length) {
    const size = [160, 160, 77, 4000, 333, 1][n++ % 6]!;
    call.push(audio.subarray(offset, offset + size));
    offset += size;
    if (n % 50 === 0) await new Promise((r) => setImmediate(r));
  }
}

function startEvent(callId: string): CallStartEvent {
  return { kind: 'start', callId, streamId: `MZ-${callId}`, agentId: 'agent-1', language: 'en-US', tracks: ['caller'], format: { encoding: 'pcmu', sampleRate: 8000 }, metadata: {}, source: 'twilio' };
}

describe('worker-pool DSP engine', () => {
  let model: LoadedEmotionModel;
  let angry: Uint8Array;
  let calm: Uint8Array;
  let pool: WorkerPoolEngine;

  beforeAll(async () => {
    model = await loadTestModel();
    angry = await loadFixtureMuLaw('calm-then-angry');
    calm = await loadFixtureMuLaw('stays-calm');
    // Spread (packCalls 0): the tests below need calls on both workers with only a few open.
    pool = await createWorkerPoolEngine({ threads: 2, modelPath: MODEL_PATH, card: model.card, packCalls: 0 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('gives the same windows, feature values and scores as the inline engine, in audio order', async () => {
    const inline = openRecorded(createInlineDspEngine({ model }), 'CA-inline');
    await pushAll(inline.call, angry);
    await inline.call.finish();
    const clock = new StageClock();
    const worker = openRecorded(pool, 'CA-worker', clock);
    await pushAll(worker.call, angry);
    // The audio clock is known on the main thread as soon as a payload arrives.
    expect(worker.call.samplesSeen).toBe(angry.length);
    await worker.call.finish();

    expect(worker.rec.errors).toEqual([]);
    expect(inline.rec.windows.length).toBeGreaterThan(10);
    expect(worker.rec.windows.map((w) => [w.startSample, w.endSample, w.speechRatio])).toEqual(inline.rec.windows.map((w) => [w.startSample, w.endSample, w.speechRatio]));
    worker.rec.windows.forEach((w, i) => {
      const ref = inline.rec.windows[i]!;
      expect(Array.from(w.values)).toEqual(Array.from(ref.values));
      for (const key of ['neutral', 'anger', 'happiness', 'sadness', 'arousal', 'agitation', 'angerVsRest'] as const) {
        expect(w.scores[key]).toBeCloseTo(ref.scores[key]!, 6);
      }
    });
    expect(worker.call.pendingWindows).toBe(0);
    // The worker's stage times reached the main thread's clock.
    for (const stage of [Stage.decode, Stage.features, Stage.pitch, Stage.model]) expect(clock.ms[stage]).toBeGreaterThan(0);
    expect(clock.ms[Stage.policy]).toBe(0);
  });

  it('L16 at 16 kHz split mid-sample: the same windows and final audio clock as inline', async () => {
    // The fixture as 16-bit PCM at 16 kHz (each sample twice), in odd-sized chunks that split samples.
    const decode = createDecoder({ encoding: 'pcmu', sampleRate: 8000 });
    const pcm = decode(angry.subarray(0, 8000 * 12));
    const bytes = new Uint8Array(pcm.length * 4);
    const view = new DataView(bytes.buffer);
    pcm.forEach((x, i) => {
      const v = Math.round(x * 32767);
      view.setInt16(i * 4, v, true);
      view.setInt16(i * 4 + 2, v, true);
    });
    const format = { encoding: 'l16' as const, sampleRate: 16000 };
    const run = async (engine: DspEngine) => {
      const got: DspWindow[] = [];
      const call = engine.open({ callId: 'CA-l16', format }, { onScored: (w) => got.push(...w), onError: (e) => { throw e; } });
      for (const p of chunks(bytes, 641)) call.push(p);
      // Mid-flight the worker's clock is an estimate from the wire rate; within a few ms of the truth.
      const early = call.samplesSeen;
      await call.finish();
      return { got, early, samples: call.samplesSeen };
    };
    const a = await run(createInlineDspEngine({ model }));
    const b = await run(pool);
    expect(a.got.length).toBeGreaterThan(10);
    expect(b.samples).toBe(a.samples);
    expect(Math.abs(b.early - a.samples)).toBeLessThanOrEqual(80);
    expect(b.got.map((w) => [w.startSample, w.endSample])).toEqual(a.got.map((w) => [w.startSample, w.endSample]));
    b.got.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(a.got[i]!.values)));
  });

  /**
   * One batch on one worker: `others` calls' payloads (each far from a window end) first, then A's,
   * which ends A's first window. Returns the order the calls' results came back in and A's window.
   */
  async function batchEndingAWindow(others: number): Promise<{ log: string[]; got: DspWindow[] }> {
    const single = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card });
    try {
      const log: string[] = [];
      const got: DspWindow[] = [];
      const open = (id: string) =>
        single.open(
          { callId: id, format: { encoding: 'pcmu', sampleRate: 8000 } },
          { onScored: (w) => (log.push(`${id}:${w.length}`), id === 'A' && got.push(...w)), onError: (error) => { throw error; } },
        );
      const a = open('A');
      const bs = Array.from({ length: others }, (_, i) => open(`B${i}`));
      const speech = angry.subarray(8000 * 22); // the angry part: every window has speech
      const settled = async () => {
        for (let i = 0; i < 2000 && !(log.some((e) => e.startsWith('A:')) && bs.every((_, k) => log.some((e) => e.startsWith(`B${k}:`)))); i++) await new Promise((r) => setTimeout(r, 5));
      };
      // A one payload short of its first window end (16000 samples), the others far from one.
      a.push(speech.subarray(0, 16000 - 160));
      for (const b of bs) b.push(calm.subarray(0, 8000));
      await settled();
      log.length = 0;
      // One batch: the others' payloads first, then A's, which ends A's first window.
      for (const b of bs) b.push(calm.subarray(8000, 8160));
      a.push(speech.subarray(16000 - 160, 16000));
      await settled();
      await Promise.all([a.finish(), ...bs.map((b) => b.finish())]);
      return { log, got };
    } finally {
      await single.close();
    }
  }

  it(`scores a call whose audio ends a window ahead of the rest of a large batch (${EARLY_MIN_REST_PAYLOADS} others), and sends its windows at once`, async () => {
    const { log, got } = await batchEndingAWindow(EARLY_MIN_REST_PAYLOADS);
    // A's window came before the batch's reply settled the others (without the early pass B0, first in the batch, came first).
    expect(log[0]).toBe('A:1');
    expect(log).toContain('B0:0');
    // The same window the inline engine extracts.
    const ref = openRecorded(createInlineDspEngine({ model }), 'CA-ref');
    ref.call.push(angry.subarray(8000 * 22, 8000 * 22 + 16000));
    await ref.call.finish();
    expect(got.map((w) => w.endSample)).toEqual([16000]);
    expect(Array.from(got[0]!.values)).toEqual(Array.from(ref.rec.windows[0]!.values));
  });

  it(`in a small batch (${EARLY_MIN_REST_PAYLOADS - 1} others) the window-ending call gets no pass of its own: one reply, in batch order, the same window`, async () => {
    const { log, got } = await batchEndingAWindow(EARLY_MIN_REST_PAYLOADS - 1);
    expect(log[0]).toBe('B0:0');
    expect(log.indexOf('A:1')).toBe(EARLY_MIN_REST_PAYLOADS - 1);
    const ref = openRecorded(createInlineDspEngine({ model }), 'CA-ref');
    ref.call.push(angry.subarray(8000 * 22, 8000 * 22 + 16000));
    await ref.call.finish();
    expect(Array.from(got[0]!.values)).toEqual(Array.from(ref.rec.windows[0]!.values));
  });

  it('holds a call\'s audio between window ends (under 100 ms of it), extracts it with the payload that ends a window, and gives the inline engine\'s window', async () => {
    const single = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card });
    try {
      const got: DspWindow[] = [];
      const call = single.open({ callId: 'H', format: { encoding: 'pcmu', sampleRate: 8000 } }, { onScored: (w) => got.push(...w), onError: (error) => { throw error; } });
      const speech = angry.subarray(8000 * 22);
      const replied = async () => {
        for (let i = 0; i < 2000 && single.backlogMs(performance.now()) > 0; i++) await new Promise((r) => setTimeout(r, 1));
      };
      // 20-ms payloads, each its own batch, up to the first window end (sample 16000).
      const held: number[] = [];
      for (let offset = 0; offset < 16000; offset += 160) {
        call.push(speech.subarray(offset, offset + 160));
        await replied();
        held.push(single.heldAudioMs());
      }
      expect(Math.max(...held)).toBeGreaterThan(0);
      expect(Math.max(...held)).toBeLessThan(100);
      // The payload that ended the window took the held audio along.
      expect(held.at(-1)).toBe(0);
      expect(got.map((w) => w.endSample)).toEqual([16000]);
      await call.finish();
      const ref = openRecorded(createInlineDspEngine({ model }), 'CA-ref');
      ref.call.push(speech.subarray(0, 16000));
      await ref.call.finish();
      expect(Array.from(got[0]!.values)).toEqual(Array.from(ref.rec.windows[0]!.values));
    } finally {
      await single.close();
    }
  });

  /**
   * Five angry seconds of the fixture as L16 at `rate`, streamed to one
   * worker in `payloadBytes` payloads (sizes that split samples), each its
   * own batch; and the same bytes through the inline engine.
   */
  async function l16HeldAgainstInline(rate: 8000 | 16000 | 24000, payloadBytes: number) {
    const decode = createDecoder({ encoding: 'pcmu', sampleRate: 8000 });
    const pcm8k = decode(angry.subarray(8000 * 20, 8000 * 25));
    const pcm = rate === 8000 ? pcm8k : resampleAll(pcm8k, 8000, rate);
    const bytes = new Uint8Array(pcm.length * 2);
    const view = new DataView(bytes.buffer);
    pcm.forEach((x, i) => view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(x * 32767))), true));
    const format = { encoding: 'l16' as const, sampleRate: rate };
    const single = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card });
    try {
      const got: DspWindow[] = [];
      const call = single.open({ callId: `CA-l16-${rate}`, format }, { onScored: (w) => got.push(...w), onError: (e) => { throw e; } });
      let held = 0;
      for (const p of chunks(bytes, payloadBytes)) {
        call.push(p);
        for (let i = 0; i < 2000 && single.backlogMs(performance.now()) > 0; i++) await new Promise((r) => setTimeout(r, 1));
        held = Math.max(held, single.heldAudioMs());
      }
      await call.finish();
      const ref: DspWindow[] = [];
      const inline = createInlineDspEngine({ model }).open({ callId: 'CA-ref', format }, { onScored: (w) => ref.push(...w), onError: (e) => { throw e; } });
      inline.push(bytes);
      await inline.finish();
      return { got, ref, held, samples: call.samplesSeen, refSamples: inline.samplesSeen };
    } finally {
      await single.close();
    }
  }

  const expectSameWindows = (got: DspWindow[], ref: DspWindow[]): void => {
    expect(ref.length).toBeGreaterThanOrEqual(5);
    expect(got.map((w) => [w.startSample, w.endSample])).toEqual(ref.map((w) => [w.startSample, w.endSample]));
    got.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(ref[i]!.values)));
  };

  it('L16 at 8 kHz, held across batches in payloads that split samples: the same windows as inline', async () => {
    const r = await l16HeldAgainstInline(8000, 321);
    expect(r.held).toBeGreaterThan(0);
    expectSameWindows(r.got, r.ref);
  });

  it('L16 at 16 kHz, held across batches in payloads that split samples: the same windows and audio clock as inline', async () => {
    // The half-band decimator's output count is a function of the bytes had, so a wideband call is held too.
    const r = await l16HeldAgainstInline(16000, 641);
    expect(r.held).toBeGreaterThan(0);
    expect(r.held).toBeLessThanOrEqual(100);
    expect(r.samples).toBe(r.refSamples);
    expectSameWindows(r.got, r.ref);
  });

  it('L16 at 24 kHz (one-phase 3:1 resampling) is held too: the same windows and audio clock as inline', async () => {
    const r = await l16HeldAgainstInline(24000, 963);
    expect(r.held).toBeGreaterThan(0);
    expect(r.samples).toBe(r.refSamples);
    expectSameWindows(r.got, r.ref);
  });

  it('pins calls to the least-loaded worker and keeps each call in order when they share a worker turn', async () => {
    const calls = ['CA-a', 'CA-b', 'CA-c', 'CA-d'].map((id) => openRecorded(pool, id));
    expect(pool.loads()).toEqual([2, 2]);
    // Interleaved 20 ms payloads of four calls: every turn's batch holds all of them.
    const audio = [angry, calm, calm, angry];
    const longest = Math.max(...audio.map((a) => a.length));
    for (let offset = 0, n = 0; offset < longest; offset += 160, n++) {
      calls.forEach((c, i) => {
        if (offset < audio[i]!.length) c.call.push(audio[i]!.subarray(offset, offset + 160));
      });
      if (n % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(calls.map((c) => c.call.finish()));
    expect(pool.loads()).toEqual([0, 0]);
    const reference = async (bytes: Uint8Array): Promise<number[]> => {
      const r = openRecorded(createInlineDspEngine({ model }), 'CA-ref');
      for (const p of chunks(bytes)) r.call.push(p);
      await r.call.finish();
      return r.rec.windows.map((w) => w.endSample);
    };
    const angryEnds = await reference(angry);
    const calmEnds = await reference(calm);
    expect(calls.map((c) => c.rec.windows.map((w) => w.endSample))).toEqual([angryEnds, calmEnds, calmEnds, angryEnds]);
  });

  it('packs calls onto one worker up to packCalls, then fills the next, then spreads; the busiest worker with room is refilled first', async () => {
    const packed = await createWorkerPoolEngine({ threads: 2, modelPath: MODEL_PATH, card: model.card, packCalls: 3 });
    try {
      const calls = Array.from({ length: 7 }, (_, i) => openRecorded(packed, `CA-p${i}`));
      // 0-2 on the first worker, 3-5 on the second, and with both at packCalls the seventh to the fewest (the first).
      expect(packed.loads()).toEqual([4, 3]);
      const finish = async (...which: number[]): Promise<void> => {
        for (const i of which) await calls[i]!.call.finish();
      };
      // Both under packCalls (1 and 2): the busier one takes the next call.
      await finish(0, 1, 6, 3);
      expect(packed.loads()).toEqual([1, 2]);
      const next = openRecorded(packed, 'CA-p-next');
      expect(packed.loads()).toEqual([1, 3]);
      // A packed call is scored as any other.
      for (const p of chunks(calm)) next.call.push(p);
      await next.call.finish();
      expect(next.rec.errors).toEqual([]);
      expect(next.rec.windows.length).toBeGreaterThan(0);
      await finish(2, 4, 5);
      expect(packed.loads()).toEqual([0, 0]);
    } finally {
      await packed.close();
    }
  });

  it('refuses a packCalls that is not a whole number ≥ 0', async () => {
    for (const packCalls of [-1, 1.5, Number.NaN]) {
      await expect(createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, packCalls })).rejects.toThrow(RangeError);
    }
  });

  it(`starts each worker thread with its young generation capped (default ${DEFAULT_DSP_YOUNG_GENERATION_MB} MB; 0 = V8's own), as the thread itself reads it`, async () => {
    expect(pool.youngGenerationMb()).toEqual([DEFAULT_DSP_YOUNG_GENERATION_MB, DEFAULT_DSP_YOUNG_GENERATION_MB]);
    // What V8 gives a thread started without limits, on this machine.
    const plain = new Worker("const w = require('node:worker_threads'); w.parentPort.postMessage(w.resourceLimits.maxYoungGenerationSizeMb);", { eval: true });
    const v8Default = await new Promise<number>((resolve) => plain.once('message', resolve));
    await plain.terminate();
    expect(v8Default).not.toBe(5);
    // One extra pool at a time: each worker opens its own ONNX session.
    for (const [youngGenerationMb, expected] of [[5, 5], [0, v8Default]] as const) {
      const extra = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, youngGenerationMb });
      try {
        expect(extra.youngGenerationMb()).toEqual([expected]);
      } finally {
        await extra.close();
      }
    }
    for (const youngGenerationMb of [-1, 2.5, Number.NaN]) {
      await expect(createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, youngGenerationMb })).rejects.toThrow(RangeError);
    }
  });

  it('refuses a gcNudgeMs that is not a whole number ≥ 0, and a negative gcNudgeMinBytes', async () => {
    for (const gcNudgeMs of [-1, 2.5, Number.NaN]) {
      await expect(createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, gcNudgeMs })).rejects.toThrow(RangeError);
    }
    for (const gcNudgeMinBytes of [-1, Number.NaN]) {
      await expect(createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, gcNudgeMs: 100, gcNudgeMinBytes })).rejects.toThrow(RangeError);
    }
  });

  it('a CallSession on the pool decides the same timeline and events as on the inline engine', async () => {
    const run = async (dsp: DspEngine | undefined, callId: string) => {
      const published: PolicyEvent[] = [];
      const pipeline = createCallPipeline({
        model,
        ...(dsp ? { dsp } : {}),
        policyFactory: createEscalationPolicy(),
        publisher: { publish: async (e) => void published.push(e), close: async () => {} },
      });
      const { logger } = captureLogger();
      const session = new CallSession(startEvent(callId), pipeline, callLogger(logger, { callId, streamId: `MZ-${callId}`, source: 'twilio' }));
      let n = 0;
      for (const payload of chunks(angry)) {
        session.acceptAudio({ kind: 'audio', callId, track: 'caller', payload });
        if (++n % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(session.audioMs).toBe(angry.length / 8);
      await session.finish('hangup');
      return { detail: session.detail(), published };
    };
    const a = await run(undefined, 'CA-session-inline');
    const b = await run(pool, 'CA-session-worker');
    expect(b.detail.timeline.map((w) => [w.startMs, w.endMs])).toEqual(a.detail.timeline.map((w) => [w.startMs, w.endMs]));
    b.detail.timeline.forEach((w, i) => expect(w.scores.agitation).toBeCloseTo(a.detail.timeline[i]!.scores.agitation, 6));
    const strip = (e: PolicyEvent) => ({ ...e, callId: '' });
    expect(b.published.map(strip)).toEqual(a.published.map(strip));
    expect(b.published.map((e) => e.type)).toContain('prompt');
    expect(b.detail.audioMs).toBe(a.detail.audioMs);
  });

  it('counts audio in flight to the worker as pending windows: backlog pauses intake, and every window is still scored', async () => {
    const signals: boolean[] = [];
    const pipeline = createCallPipeline({ model, dsp: pool, policyFactory: createEscalationPolicy(), publisher: { publish: async () => {}, close: async () => {} } });
    const { logger, lines } = captureLogger();
    const session = new CallSession(startEvent('CA-backlog'), pipeline, callLogger(logger, { callId: 'CA-backlog', streamId: 'MZ-CA-backlog', source: 'twilio' }), {
      maxPendingWindows: 3,
      onBacklog: (over) => signals.push(over),
    });
    // 30 s in one event-loop turn: nothing can have come back from the worker yet.
    const part = angry.subarray(0, 8000 * 30);
    for (const p of chunks(part)) session.acceptAudio({ kind: 'audio', callId: 'CA-backlog', track: 'caller', payload: p });
    expect(session.pendingWindows).toBe(windowEndsUpTo(part.length));
    expect(signals).toEqual([true]);
    expect(lines.find((l) => l.level === LEVEL.warn)).toMatchObject({ callId: 'CA-backlog', maxPendingWindows: 3 });
    await session.finish('hangup');
    expect(signals).toEqual([true, false]);
    expect(session.pendingWindows).toBe(0);
    const ref = openRecorded(createInlineDspEngine({ model }), 'CA-ref');
    for (const p of chunks(part)) ref.call.push(p);
    await ref.call.finish();
    expect(session.detail().timeline.length).toBe(ref.rec.windows.length);
  });

  it('reports how long its oldest unprocessed audio has waited (backlogMs): 0 when idle, the wait while audio is held', async () => {
    const { call } = openRecorded(pool, 'CA-backlog');
    await call.finish();
    expect(pool.backlogMs(performance.now())).toBe(0);
    const { call: c2 } = openRecorded(pool, 'CA-backlog-2');
    const queuedAt = performance.now();
    c2.push(calm.subarray(0, 1600));
    // Queued now, not yet answered: its age grows with the clock.
    expect(pool.backlogMs(queuedAt + 250)).toBeGreaterThanOrEqual(250 - 1);
    await c2.finish();
    expect(pool.backlogMs(performance.now())).toBe(0);
  });

  it('measures its throughput: call audio done per ms of the workers\' time, far above real time for one call', async () => {
    const fresh = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card });
    try {
      expect(fresh.throughputCalls()).toBeUndefined();
      const { call } = openRecorded(fresh, 'CA-throughput');
      // 20 s of audio in 1-s pushes, each given time to come back as its own batch.
      for (let s = 0; s < 20; s++) {
        call.push(calm.subarray(s * 8000, (s + 1) * 8000));
        await new Promise((res) => setTimeout(res, 50));
      }
      await call.finish();
      // Any machine this runs on extracts and scores faster than real time; a batch counted with no audio, or its time wrong, would not read so.
      expect(fresh.throughputCalls()).toBeGreaterThan(2);
    } finally {
      await fresh.close();
    }
  });

  it('a crashed worker fails only its own calls (logged with the callId); a replacement takes new calls', async () => {
    const { logger, lines } = captureLogger();
    const fatal: Record<string, unknown[]> = {};
    const session = (callId: string): CallSession => {
      fatal[callId] = [];
      const pipeline = createCallPipeline({ model, dsp: pool, policyFactory: createEscalationPolicy(), publisher: { publish: async () => {}, close: async () => {} } });
      return new CallSession(startEvent(callId), pipeline, callLogger(logger, { callId, streamId: `MZ-${callId}`, source: 'twilio' }), {
        onFatal: (e) => fatal[callId]!.push(e),
      });
    };
    const victim = session('CA-victim');
    const bystander = session('CA-bystander');
    expect(pool.loads().sort()).toEqual([1, 1]);
    const half = Math.floor(angry.length / 320) * 160;
    for (const p of chunks(angry.subarray(0, half))) {
      victim.acceptAudio({ kind: 'audio', callId: 'CA-victim', track: 'caller', payload: p });
      bystander.acceptAudio({ kind: 'audio', callId: 'CA-bystander', track: 'caller', payload: p });
    }
    pool.crashWorkerOf((victim as unknown as { dsp: DspCall }).dsp);
    await victim.ended;
    expect(fatal['CA-victim']).toHaveLength(1);
    expect(fatal['CA-victim']![0]).toBeInstanceOf(DspWorkerError);
    expect(victim.detail()).toMatchObject({ state: 'ended', endReason: 'error' });
    const err = lines.find((l) => l.level === LEVEL.error && l.callId === 'CA-victim');
    expect(err?.msg).toContain('DSP worker failed');

    // The other worker's call goes on to the end, every window scored.
    for (const p of chunks(angry.subarray(half))) bystander.acceptAudio({ kind: 'audio', callId: 'CA-bystander', track: 'caller', payload: p });
    await bystander.finish('hangup');
    expect(fatal['CA-bystander']).toEqual([]);
    expect(bystander.detail().endReason).toBe('hangup');
    const ref = openRecorded(createInlineDspEngine({ model }), 'CA-ref');
    for (const p of chunks(angry)) ref.call.push(p);
    await ref.call.finish();
    expect(bystander.detail().timeline.length).toBe(ref.rec.windows.length);

    // A replacement worker was started; a new call runs on it.
    expect(pool.loads()).toHaveLength(2);
    const next = openRecorded(pool, 'CA-after');
    for (const p of chunks(calm)) next.call.push(p);
    await next.call.finish();
    expect(next.rec.errors).toEqual([]);
    expect(next.rec.windows.length).toBeGreaterThan(0);
  });

  it('fails start-up with the ModelError when a worker cannot open the model', async () => {
    const badCard = { ...model.card, input: { ...model.card.input, name: 'no-such-input' } };
    await expect(createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: badCard })).rejects.toThrow(ModelError);
    await expect(createWorkerPoolEngine({ threads: 1, modelPath: '/nonexistent/emotion.onnx', card: model.card })).rejects.toMatchObject({ code: 'UT_ERR_MODEL' });
  });
});
