import { describe, expect, it } from 'vitest';
import { findMax, isRealtime } from '../../src/bench/find-max.js';
import type { LoadFigures } from '../../src/bench/run-figures.js';

/** Figures of a server that holds real time up to `capacity` calls. */
function serverWithCapacity(capacity: number): (calls: number) => Promise<LoadFigures> {
  return async (calls) =>
    ({
      calls,
      lag_p99_ms: calls <= capacity ? 40 : 900,
      dropped_frames: calls <= capacity ? 0 : 12,
      failed_calls: 0,
    }) as LoadFigures;
}

describe('--find-max', () => {
  it('doubles, then bisects to within the resolution (or 10 %) of the capacity', async () => {
    const res = await findMax({ start: 50, limit: 5000, resolution: 10, run: serverWithCapacity(330) });
    expect(res.steps.slice(0, 4).map((s) => s.calls)).toEqual([50, 100, 200, 400]);
    expect(res.maxRealtimeCalls).toBeLessThanOrEqual(330);
    expect(res.maxRealtimeCalls).toBeGreaterThanOrEqual(330 - 33);
    expect(res.steps.every((s) => s.realtime === s.calls <= 330)).toBe(true);
  });

  it('stops at the limit when everything holds, and answers 0 when even the first step fails', async () => {
    const all = await findMax({ start: 50, limit: 300, run: serverWithCapacity(10_000) });
    expect(all.maxRealtimeCalls).toBe(300);
    expect(all.steps.map((s) => s.calls)).toEqual([50, 100, 200, 300]);
    const none = await findMax({ start: 50, limit: 300, resolution: 1000, run: serverWithCapacity(10) });
    expect(none.maxRealtimeCalls).toBe(0);
  });

  it('real time means p99 lag under 200 ms, no dropped frames and no failed calls', () => {
    const ok = { lag_p99_ms: 199, dropped_frames: 0, failed_calls: 0 } as LoadFigures;
    expect(isRealtime(ok)).toBe(true);
    expect(isRealtime({ ...ok, lag_p99_ms: 200 })).toBe(false);
    expect(isRealtime({ ...ok, dropped_frames: 1 })).toBe(false);
    expect(isRealtime({ ...ok, failed_calls: 1 })).toBe(false);
  });

  it('also needs every angry call prompted before it ended', () => {
    const ok = { lag_p99_ms: 173, dropped_frames: 0, failed_calls: 0, angry_calls: 275, angry_calls_prompted: 275, late_prompts: 0 } as LoadFigures;
    expect(isRealtime(ok)).toBe(true);
    // The 550-call step measured here: lag and drops fine, 50 prompts after their call.
    expect(isRealtime({ ...ok, angry_calls_prompted: 225, late_prompts: 50 })).toBe(false);
    expect(isRealtime({ ...ok, angry_calls_prompted: 274 })).toBe(false);
  });
});
