/**
 * Gateway read pacing end to end (`GATEWAY_READ_PACING_MS`): a Twilio call
 * streamed in real time to a paced server has its socket paused between
 * reads, loses nothing, and scores exactly the windows a call streamed
 * unpaced (as fast as the socket takes it) scores: pacing changes when bytes
 * are read, not what comes out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import { streamTwilioCall } from '../../src/gateway-sim/twilio-stream-client.js';
import { getJson, loadFixtureMuLaw, startTestService, twilioCallSid, waitFor, type TestService } from './helpers.js';

async function endedCall(svc: TestService, callId: string): Promise<CallDetail> {
  return waitFor(async () => {
    const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callId}`);
    return status === 200 && body.state === 'ended' ? body : undefined;
  }, `call ${callId} to end`);
}

async function readPauses(svc: TestService): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('undertone_gateway_read_pauses_total'));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

describe('gateway read pacing', () => {
  let svc: TestService;
  let audio: Uint8Array;

  beforeAll(async () => {
    svc = await startTestService({ GATEWAY_READ_PACING_MS: '100' });
    // 4 s of the angry part: speech throughout, so every window is scored.
    const fixture = await loadFixtureMuLaw('calm-then-angry');
    audio = fixture.subarray(8000 * 27, 8000 * 31);
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('pauses a real-time stream between reads, takes all of its audio, and scores the windows an unpaced stream scores', async () => {
    const before = await readPauses(svc);
    expect(before).toBe(0);
    const paced = twilioCallSid();
    const result = await streamTwilioCall({ url: `${svc.wsUrl}/v1/streams/twilio`, mulaw: audio, callSid: paced, speed: 1 });
    expect(result.closedByServer).toBeUndefined();
    const pausedDetail = await endedCall(svc, paced);
    // ≈ 4 s streamed in real time: paused once per read, most reads taking several 20-ms messages.
    const pauses = await readPauses(svc);
    expect(pauses).toBeGreaterThanOrEqual(15);
    expect(pauses).toBeLessThan(150);

    // The same bytes as fast as the socket takes them: paused at most a few times at its start,
    // until its audio clock runs ahead of the wall clock (then nothing is due later than now).
    const fast = twilioCallSid();
    await streamTwilioCall({ url: `${svc.wsUrl}/v1/streams/twilio`, mulaw: audio, callSid: fast, speed: Infinity });
    const fastDetail = await endedCall(svc, fast);
    expect((await readPauses(svc)) - pauses).toBeLessThanOrEqual(5);

    expect(pausedDetail.audioMs).toBe(4000);
    expect(fastDetail.audioMs).toBe(4000);
    expect(pausedDetail.timeline.length).toBe(5);
    expect(pausedDetail.timeline.map((w) => [w.startMs, w.endMs, w.scores])).toEqual(fastDetail.timeline.map((w) => [w.startMs, w.endMs, w.scores]));
  }, 30_000);
});
