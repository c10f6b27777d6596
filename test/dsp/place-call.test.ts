/**
 * Placement of a new call on the DSP workers (worker-pool.ts `placeCall`):
 * pack onto the busiest worker under `packCalls` that is not behind, else
 * spread to the least loaded. Pure, on stand-in workers; the pool and
 * `serve` tests check it on real threads.
 */
import { describe, expect, it } from 'vitest';
import { PACK_MAX_BACKLOG_MS, placeCall, type Placeable } from '../../src/dsp/worker-pool.js';

interface Stub extends Placeable {
  name: string;
}

function worker(name: string, load: number, backlogMs = 0, alive = true): Stub {
  return { name, load, alive, backlogMs: () => backlogMs };
}

const pick = (hosts: Stub[], packCalls: number): string | undefined => placeCall(hosts, packCalls, 0)?.name;

describe('placeCall', () => {
  it('packs: the busiest worker still under packCalls, the first on a tie', () => {
    expect(pick([worker('a', 0), worker('b', 0)], 100)).toBe('a');
    expect(pick([worker('a', 99), worker('b', 0)], 100)).toBe('a');
    expect(pick([worker('a', 100), worker('b', 0)], 100)).toBe('b');
    expect(pick([worker('a', 100), worker('b', 40)], 100)).toBe('b');
    expect(pick([worker('a', 30), worker('b', 60), worker('c', 10)], 100)).toBe('b');
  });

  it('spreads once every worker has packCalls: the least loaded, the first on a tie', () => {
    expect(pick([worker('a', 100), worker('b', 100)], 100)).toBe('a');
    expect(pick([worker('a', 140), worker('b', 120)], 100)).toBe('b');
  });

  it('packCalls 0 always spreads', () => {
    expect(pick([worker('a', 1), worker('b', 0)], 0)).toBe('b');
    expect(pick([worker('a', 0), worker('b', 0)], 0)).toBe('a');
  });

  it('does not pack onto a worker that has fallen behind: the next one with room, else the least loaded', () => {
    const behind = PACK_MAX_BACKLOG_MS;
    expect(pick([worker('a', 60, behind), worker('b', 10)], 100)).toBe('b');
    expect(pick([worker('a', 60, behind - 1), worker('b', 10)], 100)).toBe('a');
    // Every worker with room is behind: the least loaded, behind or not.
    expect(pick([worker('a', 60, behind), worker('b', 100)], 100)).toBe('a');
    expect(pick([worker('a', 60, 5 * behind), worker('b', 30, behind)], 100)).toBe('b');
  });

  it('counts as behind only a wait past maxBacklogMs (the pool adds its gathering wait)', () => {
    const hosts = [worker('a', 60, PACK_MAX_BACKLOG_MS + 20), worker('b', 10)];
    expect(placeCall(hosts, 100, 0)?.name).toBe('b');
    expect(placeCall(hosts, 100, 0, PACK_MAX_BACKLOG_MS + 20)?.name).toBe('b');
    expect(placeCall(hosts, 100, 0, PACK_MAX_BACKLOG_MS + 21)?.name).toBe('a');
  });

  it('skips dead workers; none alive: undefined', () => {
    expect(pick([worker('a', 50, 0, false), worker('b', 0)], 100)).toBe('b');
    expect(pick([worker('a', 0, 0, false)], 100)).toBeUndefined();
    expect(pick([], 100)).toBeUndefined();
  });
});
