/**
 * Says when this instance cannot keep up, so that new calls are refused
 * (1013 `UT_ERR_OVERLOADED`) instead of every live call's prompts quietly
 * coming later and later.
 *
 * Two figures, each sampled once per tick (1 s):
 * - window lag: the largest `onWindowLag` of the tick (how late the
 *   latest-scored windows of any call were), against `lagMs`;
 * - event-loop delay: the largest delay of the tick
 *   (`perf_hooks.monitorEventLoopDelay`, minus its resolution), against
 *   `eventLoopMs`. It catches a loop so busy that few windows get scored.
 *
 * Hysteresis, so the state does not flap: the guard enters overload when one
 * figure is over its limit in every one of the last `enterTicks` ticks (one
 * slow window or one GC pause is not overload; a backlog is late on every
 * tick), and leaves it only when both figures stayed under `clearRatio` ×
 * their limits for `leaveTicks` ticks. The guard itself never touches live
 * calls: they drain their backlog, which is what lets the instance leave the
 * state; if the backlog keeps growing, the load shedder (`onTick`,
 * src/calls/load-shedder.ts) closes some of them.
 *
 * Logs one warn line on entering and one info line on leaving (with the
 * figures); at most one such pair per `logIntervalMs`, an episode not logged
 * being counted into the next line (and every refused call is logged anyway). `undertone_overloaded` shows the
 * state; each refusal is counted in `undertone_refusals_total{reason="overloaded"}`.
 *
 * The hot path (`observeLag`, once per scored window) is one comparison.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from '../observability/metrics.js';
import { CapacityError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface OverloadGuardOptions {
  /** Window lag limit, ms (`OVERLOAD_LAG_MS`); 0 disables this figure. */
  lagMs: number;
  /** Event-loop delay limit, ms (`OVERLOAD_EVENT_LOOP_MS`); 0 disables this figure. */
  eventLoopMs: number;
  logger: Logger;
  /** Counts refusals; optional (unit tests). */
  metrics?: Metrics;
  /** Tick length, ms. @defaultValue 1000 */
  tickMs?: number;
  /** Consecutive ticks over a limit that enter overload. @defaultValue 3 */
  enterTicks?: number;
  /** Consecutive ticks under `clearRatio` × the limits that leave it. @defaultValue 5 */
  leaveTicks?: number;
  /** Fraction of each limit both figures must stay under to leave. @defaultValue 0.5 */
  clearRatio?: number;
  /** Shortest gap between two logged overload episodes (enter + leave lines), ms. @defaultValue 10000 */
  logIntervalMs?: number;
  /**
   * Largest event-loop delay since the previous call, ms. @defaultValue a
   * `monitorEventLoopDelay` histogram (20 ms resolution), read and reset each tick.
   */
  eventLoopDelay?: () => number;
  /** Wall clock for the log rate limit, ms. @defaultValue `Date.now` */
  now?: () => number;
  /**
   * The DSP engine's backlog age, ms (DspEngine.backlogMs), read at each
   * tick; a tick's lag is the larger of it and the tick's largest window
   * lag. Without it a badly overloaded instance, whose worker answers one
   * batch every few seconds, has ticks with no window scored, which read
   * as no lag: the guard never saw three late ticks in a row. Optional.
   */
  backlogMs?: () => number;
  /** Told at the end of every tick what it saw (the load shedder). */
  onTick?: (tick: GuardTick) => void;
}

/** One closed tick, for `onTick`. */
export interface GuardTick {
  /** Whether new calls are refused after this tick, and why. */
  overloaded: boolean;
  cause: OverloadFigures['cause'];
  /** Largest window lag of real-time calls in this tick, or the DSP backlog's age if larger, ms (0: none scored, no backlog). */
  lagMs: number;
}

/** What the guard saw over its recent ticks: the figures in its log lines and refusals. */
export interface OverloadFigures {
  /** Largest window lag over the recent ticks, ms. */
  lagMaxMs: number;
  /** Largest event-loop delay over the recent ticks, ms. */
  eventLoopMaxMs: number;
  /** Which limit tripped (while overloaded). */
  cause: 'lag' | 'event-loop' | null;
}

const ELD_RESOLUTION_MS = 20;

export class OverloadGuard {
  private readonly lagMs: number;
  private readonly eventLoopMs: number;
  private readonly enterTicks: number;
  private readonly leaveTicks: number;
  private readonly clearRatio: number;
  private readonly logIntervalMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly eventLoopDelay: (() => number) | undefined;
  private readonly stopMonitor: () => void;
  /** Per-tick maxima, newest at `(head - 1) mod size`. */
  private readonly lagTicks: Float64Array;
  private readonly loopTicks: Float64Array;
  private head = 0;
  private filled = 0;
  private tickLagMax = 0;
  private overloadedNow = false;
  private cause: OverloadFigures['cause'] = null;
  private since = 0;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private episodeLogged = false;
  private unloggedEpisodes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTick: ((tick: GuardTick) => void) | undefined;
  private readonly backlogMs: (() => number) | undefined;

  constructor(options: OverloadGuardOptions) {
    this.lagMs = options.lagMs;
    this.eventLoopMs = options.eventLoopMs;
    this.enterTicks = options.enterTicks ?? 3;
    this.leaveTicks = options.leaveTicks ?? 5;
    this.clearRatio = options.clearRatio ?? 0.5;
    this.logIntervalMs = options.logIntervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ component: 'overload-guard' });
    this.metrics = options.metrics;
    this.onTick = options.onTick;
    this.backlogMs = options.backlogMs;
    const size = Math.max(this.enterTicks, this.leaveTicks);
    this.lagTicks = new Float64Array(size);
    this.loopTicks = new Float64Array(size);
    if (options.eventLoopDelay !== undefined || this.eventLoopMs === 0) {
      this.eventLoopDelay = options.eventLoopDelay;
      this.stopMonitor = () => undefined;
    } else {
      const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
      h.enable();
      this.eventLoopDelay = () => {
        // The histogram counts the timer's own interval too; report only the delay beyond it.
        const ms = h.count > 0 ? h.max / 1e6 - ELD_RESOLUTION_MS : 0;
        h.reset();
        return Math.max(0, ms);
      };
      this.stopMonitor = () => h.disable();
    }
    const tickMs = options.tickMs ?? 1000;
    if (this.enabled) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
  }

  /** False when both limits are 0: the guard never refuses. */
  get enabled(): boolean {
    return this.lagMs > 0 || this.eventLoopMs > 0;
  }

  /** True while new calls are refused. */
  get overloaded(): boolean {
    return this.overloadedNow;
  }

  /** One scored window's lag, ms (per window of every call: keep it cheap). */
  observeLag(lagMs: number): void {
    if (lagMs > this.tickLagMax) this.tickLagMax = lagMs;
  }

  /** The figures over the recent ticks. */
  figures(): OverloadFigures {
    let lag = 0;
    let loop = 0;
    for (let i = 0; i < this.filled; i++) {
      if (this.lagTicks[i]! > lag) lag = this.lagTicks[i]!;
      if (this.loopTicks[i]! > loop) loop = this.loopTicks[i]!;
    }
    return { lagMaxMs: Math.round(lag), eventLoopMaxMs: Math.round(loop), cause: this.cause };
  }

  /**
   * Admission: undefined when a new call may start, else the refusal (1013
   * `UT_ERR_OVERLOADED`, naming the figures), counted in
   * `undertone_refusals_total{reason="overloaded"}`.
   */
  admit(): CapacityError | undefined {
    if (!this.overloadedNow) return undefined;
    this.metrics?.refused('overloaded');
    return new CapacityError('UT_ERR_OVERLOADED', 1013, this.describe());
  }

  /** Closes one tick: records its figures and updates the state. Runs every `tickMs`; tests call it directly. */
  tick(): void {
    const size = this.lagTicks.length;
    const lagMs = Math.max(this.tickLagMax, this.backlogMs?.() ?? 0);
    this.lagTicks[this.head] = lagMs;
    this.loopTicks[this.head] = this.eventLoopDelay?.() ?? 0;
    this.tickLagMax = 0;
    this.head = (this.head + 1) % size;
    if (this.filled < size) this.filled += 1;

    if (!this.overloadedNow) {
      const cause = this.allOver(this.lagTicks, this.lagMs, this.enterTicks) ? 'lag' : this.allOver(this.loopTicks, this.eventLoopMs, this.enterTicks) ? 'event-loop' : null;
      if (cause !== null) this.change(true, cause);
    } else if (this.allUnder(this.lagTicks, this.lagMs * this.clearRatio) && this.allUnder(this.loopTicks, this.eventLoopMs * this.clearRatio)) {
      this.change(false, null);
    }
    this.onTick?.({ overloaded: this.overloadedNow, cause: this.cause, lagMs });
  }

  /** Stops the tick timer and the event-loop monitor (app close). */
  stop(): void {
    clearInterval(this.timer);
    this.stopMonitor();
  }

  /** Every one of the last `n` ticks over `limit` (0 = figure disabled: never). */
  private allOver(ticks: Float64Array, limit: number, n: number): boolean {
    if (limit <= 0 || this.filled < n) return false;
    for (let k = 1; k <= n; k++) if (!(ticks[this.index(k)]! > limit)) return false;
    return true;
  }

  /** Every one of the last `leaveTicks` ticks under `level` (a disabled figure always is). */
  private allUnder(ticks: Float64Array, level: number): boolean {
    if (level <= 0) return true;
    const n = Math.min(this.leaveTicks, this.filled);
    if (n < this.leaveTicks) return false;
    for (let k = 1; k <= n; k++) if (!(ticks[this.index(k)]! < level)) return false;
    return true;
  }

  /** Ring slot of the tick `k` ticks back (1 = the newest). */
  private index(k: number): number {
    const size = this.lagTicks.length;
    return (this.head - k + size * 2) % size;
  }

  private describe(): string {
    const f = this.figures();
    return f.cause === 'event-loop'
      ? `instance overloaded: event-loop delay up to ${f.eventLoopMaxMs} ms (limit ${this.eventLoopMs} ms); try another instance`
      : `instance overloaded: audio lag up to ${f.lagMaxMs} ms (limit ${this.lagMs} ms); try another instance`;
  }

  private change(overloaded: boolean, cause: OverloadFigures['cause']): void {
    const at = this.now();
    const forMs = at - this.since;
    this.overloadedNow = overloaded;
    this.since = at;
    const figures = { ...this.figures(), cause: cause ?? this.cause };
    this.cause = cause;
    // Lines come in pairs (enter, leave), at most one pair per logIntervalMs;
    // an episode not logged is counted into the next line.
    if (overloaded) {
      this.episodeLogged = at - this.lastLogAt >= this.logIntervalMs;
      if (!this.episodeLogged) {
        this.unloggedEpisodes += 1;
        return;
      }
      this.lastLogAt = at;
      const fields = { ...figures, lagLimitMs: this.lagMs, eventLoopLimitMs: this.eventLoopMs, unloggedEpisodes: this.unloggedEpisodes };
      this.unloggedEpisodes = 0;
      this.log.warn(fields, `overloaded: refusing new calls with 1013 UT_ERR_OVERLOADED (${this.describe()}); live calls carry on`);
    } else if (this.episodeLogged) {
      this.log.info({ ...figures, lagLimitMs: this.lagMs, eventLoopLimitMs: this.eventLoopMs, overloadedForMs: forMs }, 'no longer overloaded: accepting new calls again');
    }
  }
}
