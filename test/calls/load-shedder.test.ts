/**
 * The load shedder's decisions on scripted ticks: how many calls it sheds
 * from the lag's slope, when it waits, when it gives up, and the admission
 * limit it holds and probes upward.
 */
import { describe, expect, it } from 'vitest';
import { createShedding, LoadShedder, type ShedTick, type SheddableCalls } from '../../src/calls/load-shedder.js';
import { CapacityError } from '../../src/shared/errors.js';
import { Metrics } from '../../src/observability/metrics.js';
import { captureLogger } from '../integration/helpers.js';

/** The figures below are worked out for these (the defaults keep 80 % and shed up to half per step). */
const OPTS = { headroom: 0.8, maxShedShare: 0.34 };
const over = (lagMs: number, calls: number, live = calls): ShedTick => ({ overloadedByLag: true, lagMs, realTimeCalls: calls, liveCalls: live });
const quiet = (calls: number): ShedTick => ({ overloadedByLag: false, lagMs: 20, realTimeCalls: calls, liveCalls: calls });

describe('LoadShedder', () => {
  it('sheds nothing while the instance is not overloaded, however many calls', () => {
    const s = new LoadShedder(OPTS);
    for (let i = 0; i < 10; i++) expect(s.tick(quiet(500))).toBe(0);
    expect(s.admissionLimit).toBe(Number.POSITIVE_INFINITY);
    expect(s.admits(10_000)).toBe(true);
  });

  it('sheds nothing while overloaded if the lag is flat or falling (the backlog drains)', () => {
    const s = new LoadShedder(OPTS);
    expect(s.tick(over(3000, 100))).toBe(0);
    expect(s.tick(over(3020, 100))).toBe(0);
    expect(s.tick(over(2900, 100))).toBe(0);
    expect(s.tick(over(2500, 100))).toBe(0);
  });

  it('keeps the calls the measured share of real time can score, with headroom, at most a third at once', () => {
    const s = new LoadShedder(OPTS);
    // Lag grows 0.1 s per s: work arrives 1.1× as fast as it is done, so 100 / 1.1 = 90.9 calls fit; 80 % of that is kept.
    expect(s.tick(over(1000, 100))).toBe(0);
    expect(s.growth()).toBeUndefined();
    expect(s.tick(over(1100, 100))).toBe(100 - 72);
    expect(s.admissionLimit).toBe(72);
    expect(s.admits(71)).toBe(true);
    expect(s.admits(72)).toBe(false);

    // Far over capacity (lag grows 0.8 s per s): the step is capped at a third of the calls.
    const t = new LoadShedder(OPTS);
    t.tick(over(1000, 300));
    expect(t.tick(over(1800, 300))).toBe(102);
    expect(t.admissionLimit).toBe(198);
  });

  it('reads the slope across ticks that scored nothing (lag 0), not through them', () => {
    const s = new LoadShedder(OPTS);
    s.tick(over(1000, 100));
    s.tick(over(0, 100));
    // 200 ms more over two ticks: 0.1 s per s.
    expect(s.tick(over(1200, 100))).toBe(28);
  });

  it('waits for a shed to show in the lag, sheds again while it helps, and stops when it does not', () => {
    const s = new LoadShedder({ ...OPTS, settleTicks: 2 });
    s.tick(over(1000, 300));
    expect(s.tick(over(1800, 300))).toBe(102); // growth 0.8
    // Settling: no judgement, whatever the lag does.
    expect(s.tick(over(2600, 198))).toBe(0);
    expect(s.tick(over(2900, 198))).toBe(0);
    // Growth fell from 0.8 to 0.3 (< 0.9 × 0.8): shedding helps, so another step
    // (keep 198 / 1.3 × 0.8 = 121, i.e. shed 77, capped at a third: 68).
    expect(s.tick(over(3200, 198))).toBe(68);
    expect(s.gaveUp).toBe(false);

    // A lag that grows as fast after a shed as before has another cause: give up for the episode.
    const u = new LoadShedder({ ...OPTS, settleTicks: 1 });
    u.tick(over(1000, 50));
    expect(u.tick(over(1500, 50))).toBeGreaterThan(0); // growth 0.5
    u.tick(over(2000, 40));
    expect(u.tick(over(2500, 40))).toBe(0); // still 0.5
    expect(u.gaveUp).toBe(true);
    expect(u.tick(over(4000, 40))).toBe(0);
    // A new episode starts afresh.
    u.tick(quiet(40));
    expect(u.gaveUp).toBe(false);
  });

  it('sizes by the measured capacity when the DSP workers give one, step after step, and never sheds when they could carry every call', () => {
    const cap = (lagMs: number, calls: number, capacityCalls: number): ShedTick => ({ ...over(lagMs, calls), capacityCalls });
    const s = new LoadShedder({ ...OPTS, settleTicks: 1 });
    s.tick(cap(1000, 500, 150));
    // The lag's slope (0.4 s per s) would keep 285; the workers carry 150: keep 120, at most a third per step.
    expect(s.tick(cap(1400, 500, 150))).toBe(170);
    s.tick(cap(2400, 330, 150));
    // Growing faster than before the step (the overload was deeper than the slope said): no giving up, another step.
    expect(s.tick(cap(3400, 330, 150))).toBe(113);
    expect(s.gaveUp).toBe(false);

    // A lag the workers are not behind (they could carry every call): nothing to gain by shedding.
    const t = new LoadShedder(OPTS);
    t.tick(cap(1000, 100, 400));
    expect(t.tick(cap(2000, 100, 400))).toBe(0);
  });

  it('never sheds the last real-time call, and keeps at least one', () => {
    const s = new LoadShedder(OPTS);
    s.tick(over(1000, 1));
    expect(s.tick(over(2000, 1))).toBe(0);
    const t = new LoadShedder({ ...OPTS, maxShedShare: 1 });
    t.tick(over(1000, 3));
    expect(t.tick(over(1950, 3))).toBe(2); // keep 3 / 1.95 × 0.8 = 1.2 → 1
  });

  it('counts calls ahead of real time in the admission limit but never sheds them', () => {
    const s = new LoadShedder(OPTS);
    s.tick(over(1000, 100, 120));
    expect(s.tick(over(1100, 100, 120))).toBe(28);
    expect(s.admissionLimit).toBe(92);
  });

  it('probes the limit upward after quiet periods', () => {
    const s = new LoadShedder({ ...OPTS, probeTicks: 5, probeStep: 0.1 });
    s.tick(over(1000, 100));
    s.tick(over(1100, 100));
    expect(s.admissionLimit).toBe(72);
    for (let i = 0; i < 4; i++) s.tick(quiet(72));
    expect(s.admissionLimit).toBe(72);
    s.tick(quiet(72));
    expect(s.admissionLimit).toBe(80);
    for (let i = 0; i < 5; i++) s.tick(quiet(80));
    expect(s.admissionLimit).toBe(88);
  });
});

describe('createShedding', () => {
  function fakeCalls(realTime: number): SheddableCalls & { shedErrors: Error[] } {
    const shedErrors: Error[] = [];
    let live = realTime;
    return {
      shedErrors,
      get liveCount() {
        return live;
      },
      get realTimeCount() {
        return live;
      },
      shed(count, error) {
        for (let i = 0; i < count; i++) shedErrors.push(error());
        live -= count;
        return count;
      },
    };
  }

  it('closes the calls the shedder names with 1013 UT_ERR_OVERLOADED, counts and logs them, then holds admission', async () => {
    const { logger, lines } = captureLogger();
    const metrics = new Metrics();
    const calls = fakeCalls(100);
    const shedding = createShedding(() => calls, { logger, metrics, shedder: OPTS });
    shedding.onTick({ overloaded: true, cause: 'lag', lagMs: 1000 });
    shedding.onTick({ overloaded: true, cause: 'lag', lagMs: 1100 });
    expect(calls.shedErrors).toHaveLength(28);
    const e = calls.shedErrors[0] as CapacityError;
    expect(e).toBeInstanceOf(CapacityError);
    expect(e.code).toBe('UT_ERR_OVERLOADED');
    expect(e.closeCode).toBe(1013);
    expect(e.message).toMatch(/audio lag 1100 ms and growing; this call is shed/);
    const warn = lines.filter((l) => l['component'] === 'load-shedder');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ shed: 28, asked: 28, lagMs: 1100, lagGrowthSPerS: 0.1, liveCalls: 72, admissionLimit: 72 });
    expect(await metrics.registry.getSingleMetricAsString('undertone_shed_calls_total')).toMatch(/undertone_shed_calls_total 28/);
    expect(await metrics.registry.getSingleMetricAsString('undertone_admission_limit_calls')).toMatch(/undertone_admission_limit_calls 72/);

    // At the limit a new call is refused, and counted as over_capacity.
    const refusal = shedding.admit();
    expect(refusal?.closeCode).toBe(1013);
    expect(refusal?.message).toMatch(/measured capacity \(72 live calls/);
    expect(await metrics.registry.getSingleMetricAsString('undertone_refusals_total')).toMatch(/reason="over_capacity"} 1/);
  });

  it('ignores ticks overloaded by the event loop (no per-call lag to read)', () => {
    const { logger } = captureLogger();
    const calls = fakeCalls(100);
    const shedding = createShedding(() => calls, { logger, shedder: OPTS });
    shedding.onTick({ overloaded: true, cause: 'event-loop', lagMs: 1000 });
    shedding.onTick({ overloaded: true, cause: 'event-loop', lagMs: 2000 });
    expect(calls.shedErrors).toHaveLength(0);
    expect(shedding.admit()).toBeUndefined();
  });
});
