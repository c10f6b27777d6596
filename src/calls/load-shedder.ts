/**
 * Load shedding: when this instance has more real-time calls than it can
 * score, stop scoring some of them so that the rest are scored in time,
 * instead of every call's prompts coming later and later.
 *
 * Why shed live calls at all. Admission (MAX_CALLS, the overload guard)
 * acts on new calls only, but calls arrive together: a floor's morning
 * peak, or a failed-over instance's calls re-opening here, start within
 * seconds, before any window has been scored late. Past capacity the
 * backlog then grows for every call alike, and measured here (2-core VM,
 * 300 calls where ≈ 150 fit, `npm run bench -- --calls 300`) no angry call
 * of 150 was prompted before its call ended. Monitoring some calls in time
 * is worth more than monitoring all of them late; a shed stream is closed
 * with 1013 (the gateway or its load balancer may re-open it on another
 * instance), logged with its callId, counted, and shown as ended by
 * `overload` to supervisors.
 *
 * How many. While the guard says the instance is overloaded by lag, the
 * lag's slope says how much of the work it keeps up with: the calls share
 * one queue of work (a DSP thread's batches), so a window waits for the
 * backlog ahead of it, and a lag growing by g seconds per second means work
 * arrives 1 + g times as fast as it is done: about N / (1 + g) of N calls fit.
 * With DSP workers the capacity is read directly instead (call audio they got
 * through per ms of their time, `DspEngine.throughputCalls`): early in an
 * overload the lag accelerates (each batch holds what arrived during the
 * last), so its slope understates how far over capacity the instance is.
 * If the workers could carry every call, nothing is shed: the lag comes
 * from elsewhere. The shedder keeps `headroom` of that (the kept
 * calls must also drain their backlog), sheds at most `maxShedShare` of the
 * calls in one step, and waits `settleTicks` before judging again, since the
 * lag shows a shed's effect only after the backlog ahead of it is scored.
 * Nothing is shed while the lag is flat or falling: that instance is
 * catching up. Shedding helps only when the calls share the bottleneck
 * (CPU); without a measured capacity, a lag that grows as fast after a shed
 * as before it has another cause (a stalled model, a slow disk), so the
 * shedder then stops for the rest of the episode rather than shed every
 * call in turn. It never sheds
 * the last real-time call.
 *
 * After a shed, admission holds the live calls to what was kept (the
 * measured capacity; without it, the next calls would be admitted as soon
 * as the lag cleared, and shed again). The limit grows by `probeStep` after
 * every `probeTicks` ticks without overload (additive probing, as a TCP
 * sender probes for bandwidth), so a machine that was only slow for a
 * while gets its capacity back.
 *
 * Pure decisions on figures handed in, so it is tested on scripted lag
 * sequences; the registry picks and closes the calls (call-registry.ts),
 * `createShedding` wires the two to the guard's tick.
 */
import type { Metrics } from '../observability/metrics.js';
import { CapacityError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { GuardTick } from './overload-guard.js';

export interface LoadShedderOptions {
  /**
   * Share of the measured capacity kept after a shed: room to drain the
   * backlog, and for the capacity measured under overload being optimistic
   * (a DSP thread working through large batches costs up to ~45 % less per
   * call-second on these VMs than one answering small ones, docs/performance.md).
   * The measured capacity was 1.35× what held real time on one machine (203
   * vs ≈ 150 calls) and 1.1× on another (452 vs ≈ 400–413): 0.8 keeps a
   * little more than the first allowed (then sheds again 3 ticks later) and
   * ≈ 90 % of the second's. @defaultValue 0.8
   */
  headroom?: number;
  /** Most of the real-time calls shed in one step. @defaultValue 0.5 */
  maxShedShare?: number;
  /** Lag growth (s per s) below which nothing is shed: noise, or a backlog that drains. @defaultValue 0.05 */
  minGrowth?: number;
  /** Ticks after a shed before the next may happen. @defaultValue 3 */
  settleTicks?: number;
  /**
   * A later shed in the same overload episode needs the lag's growth to have
   * fallen below this share of its growth at the previous shed (proof that
   * shedding relieves the bottleneck; a lag that does not respond at all
   * keeps its growth, one read early in an overload may have understated
   * it). @defaultValue 0.9
   */
  responseRatio?: number;
  /** Ticks without overload after which the admission limit grows by `probeStep`. @defaultValue 30 */
  probeTicks?: number;
  /** Growth of the admission limit per probe, as a share of it. @defaultValue 0.05 */
  probeStep?: number;
  /** Tick length, ms (the guard's). @defaultValue 1000 */
  tickMs?: number;
}

/** One tick as the guard saw it. */
export interface ShedTick {
  /** The guard refuses new calls because of window lag. */
  overloadedByLag: boolean;
  /** Largest window lag of real-time calls in this tick, ms; 0 when none was scored. */
  lagMs: number;
  /** Live calls streaming at about real time (the ones that can be shed). */
  realTimeCalls: number;
  /** All live calls. */
  liveCalls: number;
  /**
   * Real-time calls the DSP workers carry while busy, measured from their
   * recent batches (DspEngine.throughputCalls); undefined when not known
   * (inline engine): the lag's slope stands in.
   */
  capacityCalls?: number | undefined;
}

/** Lags of the ticks that scored something, newest last: a slope over the last few seconds (the lag accelerates while an overload builds: older samples understate it). */
const LAG_HISTORY = 3;

export class LoadShedder {
  private readonly headroom: number;
  private readonly maxShedShare: number;
  private readonly minGrowth: number;
  private readonly settleTicks: number;
  private readonly responseRatio: number;
  private readonly probeTicks: number;
  private readonly probeStep: number;
  private readonly tickMs: number;
  /** Lag samples of recent ticks that scored windows: [tick number, lag ms]. */
  private readonly lags: [number, number][] = [];
  private tickNo = 0;
  private lastShedTick = Number.NEGATIVE_INFINITY;
  private quietTicks = 0;
  private limit = Number.POSITIVE_INFINITY;
  /** Lag growth at this episode's last shed (undefined: none yet). */
  private growthAtShed: number | undefined;
  /** The growth the last judging tick read (for logs). */
  private judged: number | undefined;
  /** This episode's lag did not respond to a shed: no more shedding until it ends. */
  private unresponsive = false;

  constructor(options: LoadShedderOptions = {}) {
    this.headroom = options.headroom ?? 0.8;
    this.maxShedShare = options.maxShedShare ?? 0.5;
    this.minGrowth = options.minGrowth ?? 0.05;
    this.settleTicks = options.settleTicks ?? 3;
    this.responseRatio = options.responseRatio ?? 0.9;
    this.probeTicks = options.probeTicks ?? 30;
    this.probeStep = options.probeStep ?? 0.05;
    this.tickMs = options.tickMs ?? 1000;
  }

  /** Live calls admission allows now (infinite until the first shed). */
  get admissionLimit(): number {
    return this.limit;
  }

  /** Whether a new call may start with `liveCalls` live. */
  admits(liveCalls: number): boolean {
    return liveCalls < this.limit;
  }

  /**
   * The lag's growth over the recent ticks that scored windows, s per s;
   * undefined with fewer than two such ticks.
   */
  growth(): number | undefined {
    if (this.lags.length < 2) return undefined;
    const [t0, l0] = this.lags[0]!;
    const [t1, l1] = this.lags[this.lags.length - 1]!;
    return (l1 - l0) / ((t1 - t0) * this.tickMs);
  }

  /** The lag growth (s per s) the latest tick judged by, if it judged. */
  get judgedGrowth(): number | undefined {
    return this.judged;
  }

  /** True once this overload episode's lag has not responded to a shed: shedding is off until the episode ends. */
  get gaveUp(): boolean {
    return this.unresponsive;
  }

  /** Closes one tick; returns how many real-time calls to shed now (0 mostly). */
  tick(t: ShedTick): number {
    this.tickNo += 1;
    this.judged = undefined;
    if (t.lagMs > 0) {
      this.lags.push([this.tickNo, t.lagMs]);
      if (this.lags.length > LAG_HISTORY) this.lags.shift();
    }
    // Samples older than the history's span say nothing about now.
    while (this.lags.length > 0 && this.tickNo - this.lags[0]![0] >= LAG_HISTORY + 2) this.lags.shift();

    if (!t.overloadedByLag) {
      this.growthAtShed = undefined;
      this.unresponsive = false;
      this.quietTicks += 1;
      if (Number.isFinite(this.limit) && this.quietTicks % this.probeTicks === 0) {
        this.limit = Math.ceil(this.limit * (1 + this.probeStep));
      }
      return 0;
    }
    this.quietTicks = 0;
    if (this.unresponsive || this.tickNo - this.lastShedTick <= this.settleTicks || t.realTimeCalls <= 1) return 0;
    const growth = this.growth();
    this.judged = growth;
    if (growth === undefined || growth < this.minGrowth) return 0;
    let fit: number;
    if (t.capacityCalls !== undefined) {
      // Measured: the workers could carry everyone, so the lag comes from elsewhere; shedding would not help.
      if (t.capacityCalls >= t.realTimeCalls) return 0;
      fit = t.capacityCalls;
    } else {
      if (this.growthAtShed !== undefined && growth >= this.growthAtShed * this.responseRatio) {
        this.unresponsive = true;
        return 0;
      }
      fit = t.realTimeCalls / (1 + growth);
    }
    const keep = Math.max(1, Math.floor(fit * this.headroom));
    const shed = Math.min(t.realTimeCalls - keep, Math.ceil(t.realTimeCalls * this.maxShedShare - 1e-9));
    if (shed <= 0) return 0;
    this.lastShedTick = this.tickNo;
    this.growthAtShed = growth;
    // Hold admission to what remains; the calls ahead of real time count too.
    this.limit = Math.max(1, Math.min(this.limit, t.liveCalls - shed));
    // The next judgement reads the lag after this shed, not before it.
    this.lags.length = 0;
    return shed;
  }
}

/** What `createShedding` needs of the call registry (src/calls/call-registry.ts). */
export interface SheddableCalls {
  readonly liveCount: number;
  readonly realTimeCount: number;
  shed(count: number, error: () => Error): number;
}

/** The shedder wired to an app: the guard's tick hook and an admission check. */
export interface Shedding {
  /** For `OverloadGuardOptions.onTick`. */
  onTick(tick: GuardTick): void;
  /** Undefined when a new call may start, else its refusal (1013), counted as `over_capacity`. */
  admit(): CapacityError | undefined;
  readonly shedder: LoadShedder;
}

/**
 * Wires a LoadShedder between the overload guard's ticks and the registry:
 * each tick's figures go in, the calls it names are closed (1013
 * `UT_ERR_OVERLOADED`), with one warn line per shed step and every shed call
 * counted in `undertone_shed_calls_total` (each also logs its own line).
 */
export function createShedding(
  calls: () => SheddableCalls,
  opts: { logger: Logger; metrics?: Metrics; shedder?: LoadShedderOptions; capacityCalls?: () => number | undefined },
): Shedding {
  const shedder = new LoadShedder(opts.shedder);
  const log = opts.logger.child({ component: 'load-shedder' });
  opts.metrics?.setSources({ admissionLimit: () => shedder.admissionLimit });
  return {
    shedder,
    onTick(tick) {
      const registry = calls();
      const gaveUp = shedder.gaveUp;
      const capacityCalls = opts.capacityCalls?.();
      const count = shedder.tick({ overloadedByLag: tick.overloaded && tick.cause === 'lag', lagMs: tick.lagMs, realTimeCalls: registry.realTimeCount, liveCalls: registry.liveCount, capacityCalls });
      const growth = shedder.judgedGrowth;
      if (shedder.gaveUp && !gaveUp) {
        log.warn(
          { lagMs: Math.round(tick.lagMs), lagGrowthSPerS: growth === undefined ? null : Number(growth.toFixed(3)), liveCalls: registry.liveCount },
          'the lag grows as fast as before the last shed: the bottleneck is not the calls\' load; shedding no more calls in this overload episode',
        );
      }
      if (count === 0) return;
      const reason = `instance overloaded: audio lag ${Math.round(tick.lagMs)} ms and growing; this call is shed so that the others are scored in time; try another instance`;
      const shed = registry.shed(count, () => new CapacityError('UT_ERR_OVERLOADED', 1013, reason));
      if (shed > 0) opts.metrics?.shedCalls.inc(shed);
      log.warn(
        {
          shed,
          asked: count,
          lagMs: Math.round(tick.lagMs),
          lagGrowthSPerS: growth === undefined ? null : Number(growth.toFixed(3)),
          capacityCalls: capacityCalls === undefined ? null : Math.round(capacityCalls),
          liveCalls: registry.liveCount,
          admissionLimit: shedder.admissionLimit,
        },
        'overloaded and falling further behind: shedding live calls (1013 UT_ERR_OVERLOADED) so that the rest are scored in time',
      );
    },
    admit() {
      const live = calls().liveCount;
      if (shedder.admits(live)) return undefined;
      opts.metrics?.refused('over_capacity');
      return new CapacityError('UT_ERR_OVERLOADED', 1013, `at this instance's measured capacity (${shedder.admissionLimit} live calls since it last had to shed calls); try another instance`);
    },
  };
}
