import { afterEach, describe, expect, it } from 'vitest';
import { OverloadGuard, type OverloadGuardOptions } from '../../src/calls/overload-guard.js';
import { Metrics } from '../../src/observability/metrics.js';
import { CapacityError } from '../../src/shared/errors.js';
import { captureLogger, LEVEL } from '../integration/helpers.js';

/** Ticks are driven by hand: the guard's own timer is set too far out to fire. */
const HAND_TICKS = 1_000_000_000;

describe('OverloadGuard', () => {
  const guards: OverloadGuard[] = [];
  afterEach(() => {
    for (const g of guards.splice(0)) g.stop();
  });

  function guard(options: Partial<OverloadGuardOptions> = {}) {
    const { logger, lines } = captureLogger('info');
    const metrics = new Metrics({ defaultMetrics: false });
    let loopMs = 0;
    let nowMs = 0;
    const g = new OverloadGuard({
      lagMs: 100,
      eventLoopMs: 0,
      logger,
      metrics,
      tickMs: HAND_TICKS,
      eventLoopDelay: () => loopMs,
      now: () => nowMs,
      ...options,
    });
    guards.push(g);
    /** One tick with these window lags observed in it, `advanceMs` of wall time later. */
    const tick = (lags: number[], opts: { loop?: number; advanceMs?: number } = {}): void => {
      for (const lag of lags) g.observeLag(lag);
      loopMs = opts.loop ?? 0;
      nowMs += opts.advanceMs ?? 1000;
      g.tick();
    };
    const refusals = async (): Promise<number> => {
      const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('undertone_refusals_total{reason="overloaded"} '));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    const logged = () => lines.filter((l) => l['component'] === 'overload-guard');
    return { g, tick, refusals, logged };
  }

  it('enters only after the lag was over the limit in each of 3 ticks, and then refuses with 1013 naming the figures', async () => {
    const { g, tick, refusals } = guard();
    tick([20, 150]);
    tick([400]);
    expect(g.overloaded).toBe(false);
    expect(g.admit()).toBeUndefined();
    tick([30, 250]);
    expect(g.overloaded).toBe(true);
    const refusal = g.admit();
    expect(refusal).toBeInstanceOf(CapacityError);
    expect(refusal).toMatchObject({ code: 'UT_ERR_OVERLOADED', closeCode: 1013 });
    expect(refusal!.message).toMatch(/audio lag up to 400 ms \(limit 100 ms\)/);
    expect(g.admit()).toBeDefined();
    expect(await refusals()).toBe(2);
  });

  it('is not tripped by one late tick between good ones (a GC pause, one slow window)', () => {
    const { g, tick } = guard();
    for (let i = 0; i < 20; i++) tick(i % 3 === 0 ? [5000] : [10]);
    expect(g.overloaded).toBe(false);
    // Ticks without any scored window are not late either.
    tick([500]);
    tick([]);
    tick([500]);
    expect(g.overloaded).toBe(false);
  });

  it('leaves only after 5 ticks under half the limit (hysteresis), then admits again', () => {
    const { g, tick } = guard();
    for (let i = 0; i < 3; i++) tick([300]);
    expect(g.overloaded).toBe(true);
    // Under the limit but above half of it: still overloaded.
    for (let i = 0; i < 6; i++) tick([80]);
    expect(g.overloaded).toBe(true);
    for (let i = 0; i < 4; i++) tick([20]);
    expect(g.overloaded).toBe(true);
    tick([20]);
    expect(g.overloaded).toBe(false);
    expect(g.admit()).toBeUndefined();
  });

  it('trips on event-loop delay alone when that check is on', () => {
    const { g, tick } = guard({ lagMs: 0, eventLoopMs: 200 });
    for (let i = 0; i < 3; i++) tick([9999], { loop: 350 });
    expect(g.overloaded).toBe(true);
    expect(g.admit()!.message).toMatch(/event-loop delay up to 350 ms \(limit 200 ms\)/);
    for (let i = 0; i < 5; i++) tick([9999], { loop: 50 });
    expect(g.overloaded).toBe(false);
  });

  it('never refuses with both limits at 0', () => {
    const { g, tick } = guard({ lagMs: 0, eventLoopMs: 0 });
    expect(g.enabled).toBe(false);
    for (let i = 0; i < 10; i++) tick([1e6], { loop: 1e6 });
    expect(g.overloaded).toBe(false);
    expect(g.admit()).toBeUndefined();
  });

  it('logs one warn line on entering and one info line on leaving, with the figures; episodes within the log interval are counted, not logged', () => {
    const { tick, logged } = guard({ logIntervalMs: 60_000 });
    const episode = (): void => {
      for (let i = 0; i < 3; i++) tick([300]);
      for (let i = 0; i < 5; i++) tick([0]);
    };
    episode();
    expect(logged().map((l) => l.level)).toEqual([LEVEL.warn, LEVEL.info]);
    expect(logged()[0]).toMatchObject({ cause: 'lag', lagMaxMs: 300, lagLimitMs: 100 });
    expect(logged()[1]).toMatchObject({ overloadedForMs: 5000 });
    // 8 s later: inside the 60 s interval, so neither edge is logged.
    episode();
    expect(logged()).toHaveLength(2);
    // A minute on, the next episode is logged and says one went unlogged.
    for (let i = 0; i < 60; i++) tick([]);
    episode();
    expect(logged()).toHaveLength(4);
    expect(logged()[2]).toMatchObject({ unloggedEpisodes: 1 });
  });

  it('reads the DSP backlog age: ticks with no window scored still count as late while old audio waits, and the hook hears every tick', () => {
    let backlog = 0;
    const seen: { overloaded: boolean; lagMs: number }[] = [];
    const { g, tick } = guard({ backlogMs: () => backlog, onTick: (t) => void seen.push({ overloaded: t.overloaded, lagMs: t.lagMs }) });
    // Idle (nobody speaks, nothing held): no lag, however long.
    for (let k = 0; k < 5; k++) tick([]);
    expect(g.overloaded).toBe(false);
    // One batch takes seconds: no window comes back, the audio held ages.
    backlog = 400;
    tick([]);
    backlog = 1400;
    tick([]);
    expect(g.overloaded).toBe(false);
    backlog = 2400;
    tick([]);
    expect(g.overloaded).toBe(true);
    expect(seen.slice(-4)).toEqual([
      { overloaded: false, lagMs: 0 },
      { overloaded: false, lagMs: 400 },
      { overloaded: false, lagMs: 1400 },
      { overloaded: true, lagMs: 2400 },
    ]);
    // A window later than the backlog's age sets the tick's figure.
    tick([3000]);
    expect(seen.at(-1)?.lagMs).toBe(3000);
  });
});
