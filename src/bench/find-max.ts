/**
 * `--find-max`: the largest call count that stays real time. Doubles N
 * until a step fails, then bisects between the last good and the first bad
 * count, to within `resolution` calls (or 10 % of the good count).
 */
import type { LoadFigures } from './run-figures.js';

/** Real-time bound on p99 processing lag, ms (the criterion). */
export const MAX_REALTIME_LAG_MS = 200;

/**
 * A step holds real time: p99 lag under 200 ms (when measured), no dropped
 * frames, no failed calls, and every angry call prompted before it ended (no
 * prompt arriving after its call). Why the last: at 550 calls on a 2-core
 * machine the lag p99 was 173 ms with nothing dropped, yet the agent
 * sockets were so far behind that 50 of 275 prompts arrived after their
 * 10-s call had ended; a count that loses prompts is not one the floor can run.
 */
export function isRealtime(f: LoadFigures): boolean {
  const lagOk = f.lag_p99_ms === null || f.lag_p99_ms < MAX_REALTIME_LAG_MS;
  // Figures without prompt counts (older reports, fakes) are judged on the rest.
  const promptsOk = f.angry_calls === undefined || (f.late_prompts === 0 && f.angry_calls_prompted >= f.angry_calls);
  return f.dropped_frames === 0 && f.failed_calls === 0 && lagOk && promptsOk;
}

export interface FindMaxStep {
  calls: number;
  realtime: boolean;
  figures: LoadFigures;
}

export interface FindMaxOptions {
  /** First N (default 50). */
  start: number;
  /** Never tries more than this. */
  limit: number;
  /** Stop bisecting when good and bad are this close, calls (default 10). */
  resolution?: number;
  /** At most this many steps (default 12). */
  maxSteps?: number;
  run: (calls: number) => Promise<LoadFigures>;
  onStep?: (step: FindMaxStep) => void;
}

export interface FindMaxResult {
  /** Largest N that held real time; 0 when even the first step did not. */
  maxRealtimeCalls: number;
  steps: FindMaxStep[];
}

export async function findMax(options: FindMaxOptions): Promise<FindMaxResult> {
  const steps: FindMaxStep[] = [];
  const maxSteps = options.maxSteps ?? 12;
  const resolution = options.resolution ?? 10;
  let good = 0;
  let bad: number | undefined;
  const step = async (calls: number): Promise<boolean> => {
    const figures = await options.run(calls);
    const s = { calls, realtime: isRealtime(figures), figures };
    steps.push(s);
    options.onStep?.(s);
    if (s.realtime) good = Math.max(good, calls);
    else bad = Math.min(bad ?? Infinity, calls);
    return s.realtime;
  };
  let n = Math.min(options.start, options.limit);
  while (bad === undefined && steps.length < maxSteps) {
    if (!(await step(n))) break;
    if (n >= options.limit) break;
    n = Math.min(options.limit, n * 2);
  }
  while (bad !== undefined && steps.length < maxSteps && bad - good > Math.max(resolution, Math.ceil(good * 0.1))) {
    await step(Math.round((good + bad) / 2));
  }
  return { maxRealtimeCalls: good, steps };
}
