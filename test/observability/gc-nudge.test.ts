import { describe, expect, it } from 'vitest';
import { DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES, DEFAULT_GC_NUDGE_MS, GcNudge, youngGenerationCollector } from '../../src/observability/gc-nudge.js';
import { readThreadMemory, unpackMemory, packMemory } from '../../src/observability/thread-memory.js';

const MIB = 1024 * 1024;

/** A nudge on scripted readings, counting its collections. */
function scripted(readings: number[], minGrowthBytes = MIB): { nudge: GcNudge; collected: () => number } {
  let i = 0;
  let collections = 0;
  const nudge = new GcNudge({
    intervalMs: 100,
    minGrowthBytes,
    readArrayBuffers: () => readings[Math.min(i++, readings.length - 1)]!,
    collect: () => collections++,
  });
  return { nudge, collected: () => collections };
}

describe('GcNudge', () => {
  it('collects when array-buffer memory has grown by minGrowthBytes over its lowest reading since the last collection', () => {
    // 10 MiB, falling to 9 (a collection of V8's own), growing to 9.9 (no), 10.1 (yes: 1.1 over 9).
    const { nudge, collected } = scripted([10 * MIB, 9 * MIB, 9.9 * MIB, 10.1 * MIB]);
    expect([nudge.tick(), nudge.tick(), nudge.tick()]).toEqual([false, false, false]);
    expect(nudge.tick()).toBe(true);
    expect(collected()).toBe(1);
    expect(nudge.stats.nudges).toBe(1);
    expect(nudge.stats.nudgeMs).toBeGreaterThanOrEqual(0);
  });

  it('measures growth from the reading it collected at until the sweeper frees the buffers, then from the new low', () => {
    // Collected at 12; the sweeper frees them (3); growth from 3: 3.5 no, 4.2 yes.
    const { nudge, collected } = scripted([0, 12 * MIB, 12.5 * MIB, 3 * MIB, 3.5 * MIB, 4.2 * MIB]);
    const results = Array.from({ length: 6 }, () => nudge.tick());
    expect(results).toEqual([false, true, false, false, false, true]);
    expect(collected()).toBe(2);
  });

  it('at minGrowthBytes 0 collects at every check', () => {
    const { nudge, collected } = scripted([5 * MIB, 4 * MIB, 4 * MIB], 0);
    for (let k = 0; k < 3; k++) nudge.tick();
    expect(collected()).toBe(3);
  });

  it('with a steady figure (a thread whose heap fills and collects on its own) never collects', () => {
    const { nudge, collected } = scripted([5 * MIB, 5.5 * MIB, 5.2 * MIB, 5.9 * MIB, 5.1 * MIB, 5.8 * MIB]);
    for (let k = 0; k < 6; k++) nudge.tick();
    expect(collected()).toBe(0);
  });

  it('is off at intervalMs 0: no timer, no collector asked for', () => {
    let asked = false;
    const nudge = new GcNudge({ intervalMs: 0, readArrayBuffers: () => { asked = true; return 0; } });
    expect(nudge.enabled).toBe(false);
    expect(nudge.start()).toBe(false);
    expect(asked).toBe(false);
    expect(new GcNudge().intervalMs).toBe(DEFAULT_GC_NUDGE_MS);
    expect(new GcNudge().minGrowthBytes).toBe(DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES);
    expect(() => new GcNudge({ intervalMs: -1 })).toThrow(RangeError);
    expect(() => new GcNudge({ minGrowthBytes: -1 })).toThrow(RangeError);
  });

  it('runs on its timer once started and stops with stop()', async () => {
    let figure = 0;
    let collections = 0;
    const nudge = new GcNudge({ intervalMs: 5, readArrayBuffers: () => (figure += 2 * MIB), collect: () => collections++ });
    expect(nudge.start()).toBe(true);
    expect(nudge.start()).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    nudge.stop();
    const after = collections;
    expect(after).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 40));
    expect(collections).toBe(after);
  });

  it("reaches V8's young-generation collection without --expose-gc, and it frees dead ArrayBuffers", async () => {
    const collect = youngGenerationCollector();
    expect(collect).toBeTypeOf('function');
    let held: ArrayBuffer[] | null = Array.from({ length: 1024 }, () => new ArrayBuffer(4096));
    const before = process.memoryUsage().arrayBuffers;
    expect(held.length).toBe(1024);
    held = null;
    collect!();
    // V8's sweeper frees what the scavenge found dead a little later.
    let after = process.memoryUsage().arrayBuffers;
    for (let k = 0; k < 50 && before - after < 3 * MIB; k++) {
      await new Promise((r) => setTimeout(r, 20));
      after = process.memoryUsage().arrayBuffers;
    }
    expect(before - after).toBeGreaterThanOrEqual(3 * MIB);
  });

  it("travels with a thread's memory report (packed by a DSP thread, read on the main one)", () => {
    const stats = { nudges: 7, nudgeMs: 12.5 };
    const m = unpackMemory('dsp-0', packMemory(stats));
    expect([m.gcNudges, m.gcNudgeMs]).toEqual([7, 12.5]);
    expect(readThreadMemory('main').gcNudges).toBe(0);
  });
});
