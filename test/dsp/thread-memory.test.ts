/**
 * Per-thread memory: the DSP workers report theirs (with each reply, and on
 * request after a GC when the process allows it), `undertone_thread_memory_bytes`
 * exports main + workers, and `GET /admin/memory`'s measurement lists them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createWorkerPoolEngine, type WorkerPoolEngine } from '../../src/dsp/worker-pool.js';
import { measureProcessMemory } from '../../src/http/memory-route.js';
import { readThreadMemory, registerThreadMemoryGauge } from '../../src/observability/thread-memory.js';
import { MetricsSnapshot } from '../../src/bench/prom-text.js';
import { threadMemoryBytes } from '../../src/bench/run-figures.js';
import { loadTestModel, MODEL_PATH } from '../integration/helpers.js';

describe('thread memory', () => {
  let pool: WorkerPoolEngine;

  beforeAll(async () => {
    const model = await loadTestModel();
    pool = await createWorkerPoolEngine({ threads: 2, modelPath: MODEL_PATH, card: model.card });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('each worker reports its own heap once ready, and again when asked', async () => {
    const reported = pool.threadMemory();
    expect(reported.map((t) => t.thread).sort()).toEqual(['dsp-0', 'dsp-1']);
    for (const t of reported) {
      expect(t.heapUsed).toBeGreaterThan(1024 * 1024);
      expect(t.heapTotal).toBeGreaterThanOrEqual(t.heapUsed);
      expect(t.external).toBeGreaterThanOrEqual(t.arrayBuffers);
    }
    const asked = await pool.measureThreadMemory(false);
    expect(asked.map((t) => t.thread).sort()).toEqual(['dsp-0', 'dsp-1']);
  });

  it('the memory report lists main first, then every worker, and says whether it collected garbage', async () => {
    const report = await measureProcessMemory(pool, true);
    expect(report.threads.map((t) => t.thread)).toEqual(['main', 'dsp-0', 'dsp-1']);
    // vitest does not run with --expose-gc: no collection, and the report says so.
    expect(report.gc).toBe(typeof (globalThis as { gc?: unknown }).gc === 'function');
    expect(report.rssBytes).toBeGreaterThan(report.threads[0]!.heapUsed);
  });

  it('exports undertone_thread_memory_bytes per thread and kind, as the bench reads it', async () => {
    const registry = new Registry();
    registerThreadMemoryGauge(registry, () => [readThreadMemory('main'), ...pool.threadMemory()]);
    // A second registration (another app on the same registry) replaces the first.
    registerThreadMemoryGauge(registry, () => [readThreadMemory('main'), ...pool.threadMemory()]);
    const snapshot = MetricsSnapshot.parse(await registry.metrics());
    for (const thread of ['main', 'dsp-0', 'dsp-1']) {
      for (const kind of ['heap_used', 'heap_total', 'external', 'array_buffers']) {
        expect(snapshot.value('undertone_thread_memory_bytes', { thread, kind })).toBeGreaterThan(0);
      }
    }
    const bytes = threadMemoryBytes(snapshot);
    expect([...bytes.keys()].sort()).toEqual(['dsp-0', 'dsp-1', 'main']);
    expect(bytes.get('main')).toBe(
      snapshot.value('undertone_thread_memory_bytes', { thread: 'main', kind: 'heap_used' })! + snapshot.value('undertone_thread_memory_bytes', { thread: 'main', kind: 'external' })!,
    );
  });

  it("runs each worker's GC nudge when asked to (GC_NUDGE_MS), and exports every thread's nudges and their time", async () => {
    const model = await loadTestModel();
    // No growth threshold: a nudge at every 10-ms check, so an idle worker shows them too.
    const nudging = await createWorkerPoolEngine({ threads: 1, modelPath: MODEL_PATH, card: model.card, gcNudgeMs: 10, gcNudgeMinBytes: 0 });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const [worker] = await nudging.measureThreadMemory(false);
      expect(worker!.gcNudges).toBeGreaterThan(5);
      expect(worker!.gcNudgeMs).toBeGreaterThan(0);
      const registry = new Registry();
      registerThreadMemoryGauge(registry, () => [readThreadMemory('main', { nudges: 3, nudgeMs: 4 }), ...nudging.threadMemory()]);
      const snapshot = MetricsSnapshot.parse(await registry.metrics());
      expect(snapshot.value('undertone_gc_nudges_total', { thread: 'main' })).toBe(3);
      expect(snapshot.value('undertone_gc_nudge_seconds_total', { thread: 'main' })).toBe(0.004);
      expect(snapshot.value('undertone_gc_nudges_total', { thread: 'dsp-0' })).toBeGreaterThan(5);
    } finally {
      await nudging.close();
    }
    // The pool under test was started without: its workers never nudge.
    for (const t of await pool.measureThreadMemory(false)) expect(t.gcNudges).toBe(0);
  });
});
