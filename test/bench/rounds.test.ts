/**
 * `--rounds`: what each round leaves behind is read after its calls ended,
 * and the memory an ended call leaves behind is the growth per call over
 * rounds 2..K (the first round pays for what a server builds once).
 */
import { describe, expect, it } from 'vitest';
import { retainedKibPerCall, runRounds, type RoundRecord } from '../../src/bench/rounds.js';
import type { LoadFigures } from '../../src/bench/run-figures.js';

const figures = { angry_calls: 5, angry_calls_prompted: 5, dropped_frames: 0, failed_calls: 0 } as LoadFigures;

/**
 * A server whose main thread keeps `keepKib` per ended call, plus `warmKib`
 * it builds once under load and has finished building only by the end of
 * round 2 (caches filling to their bounds), with `noiseKib` per round.
 */
function leakyServer(calls: number, keepKib: number, warmKib: number, noiseKib: readonly number[]) {
  let ended = 0;
  let round = 0;
  const order: string[] = [];
  return {
    order,
    run: async (r: number): Promise<LoadFigures> => {
      round = r;
      order.push(`run ${r}`);
      ended += calls;
      return figures;
    },
    settle: async (): Promise<void> => void order.push(`settle ${round}`),
    probe: async () => {
      order.push(`probe ${round}`);
      const mainKib = 30_000 + (round >= 2 ? warmKib : 0) + ended * keepKib + (noiseKib[round - 1] ?? 0);
      return { live: 0, memory: { gc: true, threads: new Map([['main', mainKib * 1024], ['dsp-0', 10_000 * 1024]]) } };
    },
  };
}

describe('bench --rounds', () => {
  it('runs, settles and probes each round in turn, and reads 2 KiB per call left behind through a MiB of noise', async () => {
    // Noise of ±1 MiB a round, larger than the 200 KiB a round leaks: one pair of rounds could read anything from −18 to +22 KiB per call.
    const server = leakyServer(100, 2, 5_000, [0, 1000, -1000, -1000, 1000]);
    const seen: number[] = [];
    const res = await runRounds({ rounds: 5, calls: 100, ...server, onRound: (r) => seen.push(r.round) });
    expect(server.order.slice(0, 6)).toEqual(['run 1', 'settle 1', 'probe 1', 'run 2', 'settle 2', 'probe 2']);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(res.figures).toHaveLength(5);
    expect(res.records[0]).toMatchObject({ round: 1, calls: 100, live_calls_after: 0, memory_after_gc: true, angry_calls_prompted: 5 });
    expect(res.records[0]!.memory_kib_after).toEqual({ main: 30_000 + 200, 'dsp-0': 10_000 });
    // The fit over rounds 2..5 recovers the 2 KiB per call (over 1..5 the 5 MiB built once would read as 12).
    expect(res.retainedKibPerCall).toBeCloseTo(2, 6);
  });

  it('reads ≈ 0 for a server that keeps nothing, whatever its first round built', async () => {
    const res = await runRounds({ rounds: 4, calls: 50, ...leakyServer(50, 0, 20_000, []) });
    expect(res.retainedKibPerCall).toBe(0);
  });

  it('with two rounds uses both; with one, or a round whose memory was not read, gives null', () => {
    const rec = (round: number, kib: number | null): RoundRecord => ({
      round,
      calls: 10,
      angry_calls: 0,
      angry_calls_prompted: 0,
      dropped_frames: 0,
      failed_calls: 0,
      live_calls_after: 0,
      memory_kib_after: kib === null ? null : { main: kib },
      memory_after_gc: true,
    });
    expect(retainedKibPerCall([rec(1, 1000), rec(2, 1050)])).toBe(5);
    expect(retainedKibPerCall([rec(1, 1000)])).toBeNull();
    expect(retainedKibPerCall([rec(1, 1000), rec(2, null), rec(3, 1100)])).toBeNull();
  });

  it('refuses a round count that is not a whole number ≥ 1', async () => {
    await expect(runRounds({ rounds: 0, calls: 1, ...leakyServer(1, 0, 0, []) })).rejects.toThrow(/rounds/);
  });
});
