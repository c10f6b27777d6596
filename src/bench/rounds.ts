/**
 * `--rounds K`: the same load K times on the same servers, a soak for what
 * calls leave behind. A server that keeps something per call after the
 * call has ended (a map entry, a closure, a timer) grows with every round
 * though it holds the same number of live calls; one round cannot show
 * that, since its memory figure counts the live calls themselves. After
 * each round, once its calls have ended and its deliveries drained, the
 * servers are asked for their live calls (none should be left) and for
 * every thread's heap + external memory after a full GC. How much that
 * grows per call run, from round 2 on, is what an ended call leaves
 * behind; the first round is left out, since it also pays for what the
 * server builds once under load (compiled code, pools, caches filling up
 * to their bounds).
 */
import type { LoadFigures } from './run-figures.js';
import type { ServerMemory } from './server-probe.js';

/** What one round left behind once its calls had ended. */
export interface RoundRecord {
  round: number;
  calls: number;
  angry_calls: number;
  angry_calls_prompted: number;
  dropped_frames: number;
  failed_calls: number;
  /** Calls the servers still listed as live after the round (`GET /v1/calls`); null when not readable. */
  live_calls_after: number | null;
  /** Heap used + external per thread after a full GC (`main`, `dsp-0`, …), KiB; null when not readable. */
  memory_kib_after: Record<string, number> | null;
  /** Whether the servers collected garbage before measuring (they run with --expose-gc, as the bench's own do). */
  memory_after_gc: boolean;
}

export interface RoundsResult {
  records: RoundRecord[];
  /** Each round's own load figures, in order. */
  figures: LoadFigures[];
  /**
   * How much memory (all threads, after GC) grows per call run, KiB, over
   * rounds 2..K (see retainedKibPerCall): what an ended call leaves behind.
   * Null with one round, or when a round's memory could not be read.
   */
  retainedKibPerCall: number | null;
}

export interface RunRoundsOptions {
  rounds: number;
  calls: number;
  /** Runs one round of the load; resolves once its calls have ended. */
  run: (round: number) => Promise<LoadFigures>;
  /** Waits for the servers to settle after a round (deliveries drained, not overloaded). */
  settle: () => Promise<void>;
  /** The servers' live calls and thread memory; undefined for what cannot be read. */
  probe: () => Promise<{ live: number | undefined; memory: ServerMemory | undefined }>;
  onRound?: (record: RoundRecord) => void;
}

const total = (m: Record<string, number>): number => Object.values(m).reduce((s, v) => s + v, 0);

/**
 * KiB per call that memory grows by from round to round (see RoundsResult):
 * the least-squares slope of all threads' memory after each round against
 * the calls run so far, over rounds 2..K (with only two rounds, over both).
 * A slope, not last minus first: one round's figure moves by a MiB or so
 * with what V8 happens to have compiled, and a fit over several rounds is
 * steadier than any two of them.
 */
export function retainedKibPerCall(records: readonly RoundRecord[]): number | null {
  const used = records.length >= 3 ? records.slice(1) : records;
  if (used.length < 2) return null;
  const points: [number, number][] = [];
  let calls = 0;
  for (const r of records) {
    calls += r.calls;
    if (!used.includes(r)) continue;
    if (r.memory_kib_after === null) return null;
    points.push([calls, total(r.memory_kib_after)]);
  }
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}

export async function runRounds(o: RunRoundsOptions): Promise<RoundsResult> {
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new RangeError(`rounds must be a whole number ≥ 1, got ${o.rounds}`);
  const records: RoundRecord[] = [];
  const figures: LoadFigures[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const f = await o.run(round);
    figures.push(f);
    await o.settle();
    const { live, memory } = await o.probe();
    const record: RoundRecord = {
      round,
      calls: o.calls,
      angry_calls: f.angry_calls,
      angry_calls_prompted: f.angry_calls_prompted,
      dropped_frames: f.dropped_frames,
      failed_calls: f.failed_calls,
      live_calls_after: live ?? null,
      memory_kib_after: memory === undefined ? null : Object.fromEntries([...memory.threads].map(([t, bytes]) => [t, Math.round((bytes / 1024) * 10) / 10])),
      memory_after_gc: memory?.gc ?? false,
    };
    records.push(record);
    o.onRound?.(record);
  }
  return { records, figures, retainedKibPerCall: retainedKibPerCall(records) };
}
