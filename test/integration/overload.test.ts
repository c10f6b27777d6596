/**
 * Overload is never silent, over real sockets: with a tiny lag limit and a
 * model that takes 300 ms per batch (every window is scored late), the
 * instance turns overloaded; a NEW call is then closed with 1013
 * `UT_ERR_OVERLOADED` naming the figures and counted, while the call already
 * live keeps streaming, is scored to its last window and ends normally.
 * No assertion on speed: only on states, codes, counts and log lines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { EmotionModel } from '../../src/model/types.js';
import { startTestApp, type TestApp } from '../security/app-fixture.js';
import { getJson, LEVEL, loadFixtureMuLaw, modelWithScore, TwilioGateway, twilioCallSid, waitFor } from './helpers.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The real model, each batch held back `delayMs`: scoring (not CPU) falls behind. */
function slowModel(delayMs: number): Promise<EmotionModel> {
  return modelWithScore((real) => async (batch) => {
    await sleep(delayMs);
    return real.score(batch);
  });
}

describe('overload', () => {
  it('refuses a new call with 1013 UT_ERR_OVERLOADED while the live call carries on to its end', { timeout: 60_000 }, async () => {
    t = await startTestApp({
      env: { AUTH: 'off', CONNECTIONS_PER_IP_PER_MINUTE: '0', OVERLOAD_LAG_MS: '100', OVERLOAD_EVENT_LOOP_MS: '0' },
      model: await slowModel(300),
      // Backpressure off: the late windows stay lag, not a paused socket.
      appOptions: { session: { maxPendingWindows: 100_000 } },
    });
    const app = t;
    const audio = await loadFixtureMuLaw('calm-then-angry');

    // Call A streams in real time: 100 ms of audio every 100 ms.
    const callA = twilioCallSid();
    const a = await TwilioGateway.open(app.wsUrl, callA);
    a.start({ agentId: 'agent-ov-1' });
    let sent = 0;
    const step = 800;
    const pace = setInterval(() => {
      if (sent + step > audio.length) return;
      a.audio(audio.subarray(sent, sent + step));
      sent += step;
    }, 100);
    try {
      await waitFor(async () => ((await app.metric('undertone_overloaded')) === 1 ? true : undefined), 'the instance to turn overloaded', 40_000);

      // A new call is refused at its start, with the reason and the figures.
      const b = await TwilioGateway.open(app.wsUrl);
      b.start({ agentId: 'agent-ov-2' });
      const refused = await b.closedP;
      expect(refused.code).toBe(1013);
      expect(refused.reason).toMatch(/^UT_ERR_OVERLOADED: instance overloaded: audio lag up to \d+ ms \(limit 100 ms\)/);
      expect(await app.metric('undertone_refusals_total{reason="overloaded"}')).toBe(1);
      const { status } = await getJson(`${app.url}/v1/calls/${b.ids.callSid}`);
      expect(status).toBe(404);

      // Call A was never touched: one more second of audio, then it hangs up.
      const before = sent;
      await waitFor(() => (sent >= before + 8000 ? true : undefined), 'call A to stream on');
    } finally {
      clearInterval(pace);
    }
    a.stop();
    const detail = await waitFor(async () => {
      const d = await getJson<CallDetail>(`${app.url}/v1/calls/${callA}`);
      return d.body.state === 'ended' ? d.body : undefined;
    }, 'call A to end', 30_000);
    expect(detail.endReason).toBe('hangup');
    expect(detail.audioMs).toBe(Math.round((sent * 1000) / 8000));
    // Every window of the audio was scored, however late (2 s windows every 0.5 s).
    expect(detail.timeline.length + detail.timelineDropped).toBe(Math.floor((detail.audioMs - 2000) / 500) + 1);
    await a.close();

    // Logged: the state change (once, with the figures) and call A, once, with its callId.
    const enter = app.lines.filter((l) => l['component'] === 'overload-guard' && l.level === LEVEL.warn);
    expect(enter).toHaveLength(1);
    expect(enter[0]).toMatchObject({ cause: 'lag', lagLimitMs: 100, lagMaxMs: expect.any(Number) });
    expect(enter[0]!['lagMaxMs'] as number).toBeGreaterThan(100);
    const perCall = app.lines.filter((l) => l.callId === callA && /scored later than the overload limit/.test(l.msg));
    expect(perCall).toHaveLength(1);
    expect(perCall[0]).toMatchObject({ level: LEVEL.warn, limitMs: 100 });
    // The lag histogram saw every scored window.
    expect(await app.metric('undertone_audio_lag_seconds_count')).toBe(detail.timeline.length + detail.timelineDropped);
  });
});
