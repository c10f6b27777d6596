/**
 * Memory of each JavaScript thread of the process (the main thread and every
 * DSP worker): V8 heap in use and external memory (Buffers, typed arrays).
 * The process RSS (`undertone_process_resident_memory_bytes`) also counts
 * allocator slack, code, and young-generation space V8 sized up and keeps; these
 * figures count what the threads' objects hold, so memory per call is
 * Δ(heap used + external, summed over threads) ÷ Δcalls.
 *
 * Exported as `undertone_thread_memory_bytes{thread="main|dsp-<i>",kind="heap_used|heap_total|external|array_buffers"}`.
 * A worker's figures are the ones it last reported (at most a second old
 * while it has work).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GcNudgeStats } from './gc-nudge.js';

/** One thread's memory, bytes (`process.memoryUsage()` as read on that thread). */
export interface ThreadMemory {
  /** `main` or `dsp-<index>`. */
  thread: string;
  heapUsed: number;
  heapTotal: number;
  /** Memory held outside the V8 heap by this thread's objects; includes `arrayBuffers`. */
  external: number;
  arrayBuffers: number;
  /** Young-generation collections the thread's array-buffer nudge ran (observability/gc-nudge.ts), and the time they took, ms. */
  gcNudges: number;
  gcNudgeMs: number;
}

/**
 * Runs a full garbage collection on this thread when the process was started
 * with `--expose-gc` (the bench's server is), so memory read right after counts
 * live objects only. Returns whether it ran. Blocks the thread for the
 * collection: for measurement, never on a serving path.
 */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}

/** Packed form a worker posts: heapUsed, heapTotal, external, arrayBuffers, gcNudges, gcNudgeMs. */
export function packMemory(nudge?: Readonly<GcNudgeStats>): Float64Array {
  const m = process.memoryUsage();
  return Float64Array.of(m.heapUsed, m.heapTotal, m.external, m.arrayBuffers, nudge?.nudges ?? 0, nudge?.nudgeMs ?? 0);
}

export function unpackMemory(thread: string, packed: Float64Array): ThreadMemory {
  return {
    thread,
    heapUsed: packed[0] ?? 0,
    heapTotal: packed[1] ?? 0,
    external: packed[2] ?? 0,
    arrayBuffers: packed[3] ?? 0,
    gcNudges: packed[4] ?? 0,
    gcNudgeMs: packed[5] ?? 0,
  };
}

/** This thread's memory now (with its nudge's counts, when it has one). */
export function readThreadMemory(thread: string, nudge?: Readonly<GcNudgeStats>): ThreadMemory {
  return unpackMemory(thread, packMemory(nudge));
}

/** Registers `undertone_thread_memory_bytes`, read from `threads()` at each scrape. */
export function registerThreadMemoryGauge(registry: Registry, threads: () => readonly ThreadMemory[]): void {
  const name = 'undertone_thread_memory_bytes';
  // A registry shared by several apps (tests): the latest app's threads are the ones reported.
  if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  new Gauge({
    name,
    help: 'Memory of each JavaScript thread (main, dsp-<i>): V8 heap used and total, external (incl. array buffers), array buffers',
    labelNames: ['thread', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of threads()) {
        this.set({ thread: t.thread, kind: 'heap_used' }, t.heapUsed);
        this.set({ thread: t.thread, kind: 'heap_total' }, t.heapTotal);
        this.set({ thread: t.thread, kind: 'external' }, t.external);
        this.set({ thread: t.thread, kind: 'array_buffers' }, t.arrayBuffers);
      }
    },
  });
  registerPerThreadCounter(registry, threads, 'undertone_gc_nudges_total',
    "Young-generation collections run because a thread's array-buffer memory grew (GC_NUDGE_MS), per thread", (t) => t.gcNudges);
  registerPerThreadCounter(registry, threads, 'undertone_gc_nudge_seconds_total', 'Time those collections blocked their thread, per thread', (t) => t.gcNudgeMs / 1000);
}

/** A counter labelled by thread whose value each thread's last report carries (its total since the thread started). */
function registerPerThreadCounter(
  registry: Registry,
  threads: () => readonly ThreadMemory[],
  name: string,
  help: string,
  value: (t: ThreadMemory) => number,
): void {
  if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  new Counter({
    name,
    help,
    labelNames: ['thread'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of threads()) this.inc({ thread: t.thread }, value(t));
    },
  });
}
