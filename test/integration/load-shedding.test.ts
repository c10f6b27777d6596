/**
 * Load shedding over real sockets. The calls share one bottleneck: a model
 * that scores one batch at a time, 40 ms each, for every call (as a DSP
 * thread is shared), so about 6 real-time calls fit (2 windows a second each). Sixteen start at once;
 * the lag grows for all of them. The instance must shed some (1013
 * `UT_ERR_OVERLOADED`, ended by `overload`, counted and logged with their
 * callIds), keep the rest, hold new calls to what it kept, and get back to
 * real time (the guard leaves overload while the kept calls still stream).
 * No assertion on speed: only on states, codes, counts and log lines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { EmotionModel } from '../../src/model/types.js';
import { startTestApp, type TestApp } from '../security/app-fixture.js';
import { getJson, LEVEL, loadFixtureMuLaw, modelWithScore, TwilioGateway, waitFor } from './helpers.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The real model behind one queue: batches of every call wait their turn, `busyMs` each. */
function sharedBottleneckModel(busyMs: number): Promise<EmotionModel> {
  let queue: Promise<unknown> = Promise.resolve();
  return modelWithScore((real) => (batch) => {
    const turn = queue.then(async () => {
      await sleep(busyMs);
      return real.score(batch);
    });
    queue = turn.catch(() => undefined);
    return turn;
  });
}

describe('load shedding', () => {
  it('sheds some of the calls past capacity so that the rest are scored in time again', { timeout: 90_000 }, async () => {
    t = await startTestApp({
      env: { AUTH: 'off', CONNECTIONS_PER_IP_PER_MINUTE: '0', OVERLOAD_LAG_MS: '300', OVERLOAD_EVENT_LOOP_MS: '0' },
      model: await sharedBottleneckModel(40),
      appOptions: { session: { maxPendingWindows: 100_000 }, overload: { tickMs: 250 }, shedder: { settleTicks: 8 } },
    });
    const app = t;
    const audio = await loadFixtureMuLaw('calm-then-angry');

    const calls = await Promise.all(Array.from({ length: 16 }, () => TwilioGateway.open(app.wsUrl)));
    const closed = new Map<string, { code: number; reason: string }>();
    calls.forEach((c, i) => {
      c.start({ agentId: `agent-shed-${i}` });
      void c.closedP.then((e) => closed.set(c.ids.callSid, e));
    });
    // Every call streams in real time, looping the fixture: 100 ms payloads,
    // as many as the wall clock says are due (a timer that drifts would make
    // the sender itself fall behind real time, which reads as lag).
    // The calls are staggered across the 0.5-s window hop, as real calls are:
    // in lockstep every call's window would queue behind all the others'.
    const sent = calls.map(() => 0);
    const step = 800;
    const t0 = performance.now();
    const pace = setInterval(() => {
      const now = performance.now();
      calls.forEach((c, i) => {
        const due = Math.max(0, Math.floor((now - t0 - (i * 500) / calls.length) / 100) * step);
        while (sent[i]! < due) {
          const at = sent[i]! % (audio.length - step);
          if (!closed.has(c.ids.callSid)) c.audio(audio.subarray(at, at + step));
          sent[i]! += step;
        }
      });
    }, 10);
    try {
      await waitFor(async () => ((await app.metric('undertone_shed_calls_total')) ?? 0) > 0 ? true : undefined, 'a call to be shed', 40_000);
      // Back to real time: the guard leaves overload while the kept calls stream on.
      await waitFor(async () => ((await app.metric('undertone_overloaded')) === 0 ? true : undefined), 'the instance to catch up', 60_000);

      const shed = calls.filter((c) => closed.has(c.ids.callSid));
      const kept = calls.filter((c) => !closed.has(c.ids.callSid));
      expect(shed.length).toBeGreaterThan(0);
      expect(kept.length).toBeGreaterThan(0);
      expect(await app.metric('undertone_shed_calls_total')).toBe(shed.length);
      for (const c of shed) {
        expect(closed.get(c.ids.callSid)).toMatchObject({ code: 1013 });
        expect(closed.get(c.ids.callSid)!.reason).toMatch(/^UT_ERR_OVERLOADED: instance overloaded: audio lag \d+ ms and growing; this call is shed/);
        const d = await waitFor(async () => {
          const r = await getJson<CallDetail>(`${app.url}/v1/calls/${c.ids.callSid}`);
          return r.body.state === 'ended' ? r.body : undefined;
        }, 'the shed call to end');
        expect(d.endReason).toBe('overload');
        expect(app.lines.some((l) => l.callId === c.ids.callSid && l.level === LEVEL.warn && /call shed/.test(l.msg))).toBe(true);
      }
      const steps = app.lines.filter((l) => l['component'] === 'load-shedder' && /shedding live calls/.test(l.msg));
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.reduce((n, l) => n + (l['shed'] as number), 0)).toBe(shed.length);

      // New calls are held to what was kept: one more is refused with 1013.
      const limit = await app.metric('undertone_admission_limit_calls');
      expect(limit).toBe(kept.length);
      const extra = await TwilioGateway.open(app.wsUrl);
      extra.start({ agentId: 'agent-shed-extra' });
      const refused = await extra.closedP;
      expect(refused.code).toBe(1013);
      expect(refused.reason).toMatch(/^UT_ERR_OVERLOADED: at this instance's measured capacity \(\d+ live calls/);
      expect(await app.metric('undertone_refusals_total{reason="over_capacity"}')).toBe(1);
    } finally {
      clearInterval(pace);
    }

    // The kept calls were never touched: they end by hanging up, scored to their last window.
    const kept = calls.filter((c) => !closed.has(c.ids.callSid));
    for (const c of kept) c.stop();
    for (const c of kept) {
      const d = await waitFor(async () => {
        const r = await getJson<CallDetail>(`${app.url}/v1/calls/${c.ids.callSid}`);
        return r.body.state === 'ended' ? r.body : undefined;
      }, 'a kept call to end', 30_000);
      expect(d.endReason).toBe('hangup');
      expect(d.timeline.length + d.timelineDropped).toBe(Math.floor((d.audioMs - 2000) / 500) + 1);
    }
    await Promise.all(kept.map((c) => c.close()));
  });
});
