/**
 * `GET /admin/memory[?gc=1]` (admin): the memory of every JavaScript thread
 * of this process (main and DSP workers: V8 heap used/total, external, array
 * buffers) and the process RSS, bytes. With `gc=1`, and only when the process
 * runs with `--expose-gc` (the bench's server does), each thread first runs a
 * full garbage collection, so the figures count live objects: what the bench
 * divides by the calls live. `gc` in the answer says whether that happened.
 * The collections block each thread briefly: a measurement tool, not a probe.
 */
import type { FastifyInstance } from 'fastify';
import type { DspEngine } from '../dsp/dsp-engine.js';
import { collectGarbage, readThreadMemory, type ThreadMemory } from '../observability/thread-memory.js';
import type { GcNudge } from '../observability/gc-nudge.js';

export interface MemoryReport {
  /** Whether every thread collected garbage before it was read. */
  gc: boolean;
  rssBytes: number;
  threads: ThreadMemory[];
}

export async function measureProcessMemory(dsp: Pick<DspEngine, 'measureThreadMemory'>, gc: boolean, nudge?: GcNudge): Promise<MemoryReport> {
  // Workers first (they collect in parallel), then this thread.
  const workers = (await dsp.measureThreadMemory?.(gc)) ?? [];
  const collected = gc && collectGarbage();
  const main = readThreadMemory('main', nudge?.stats);
  return { gc: collected, rssBytes: process.memoryUsage.rss(), threads: [main, ...workers] };
}

export function registerMemoryRoute(app: FastifyInstance, dsp: Pick<DspEngine, 'measureThreadMemory'>, nudge?: GcNudge): void {
  app.get<{ Querystring: { gc?: string } }>('/admin/memory', async (request) => {
    const gc = request.query.gc === '1' || request.query.gc === 'true';
    return measureProcessMemory(dsp, gc, nudge);
  });
}
