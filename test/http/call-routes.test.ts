import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail, CallSummary } from '../../src/calls/call-views.js';
import { getJson, loadFixtureMuLaw, startTestService, TwilioGateway, twilioCallSid, waitFor, type TestService } from '../integration/helpers.js';

describe('GET /v1/calls and /v1/calls/:callId', () => {
  let svc: TestService;
  let audio: Uint8Array;
  beforeAll(async () => {
    svc = await startTestService({ CALL_HISTORY: '1' });
    audio = await loadFixtureMuLaw('calm-then-angry');
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('lists no calls on a fresh server', async () => {
    expect(await getJson(`${svc.url}/v1/calls`)).toEqual({ status: 200, body: { calls: [] } });
  });

  it('answers an unknown call with 404 UT_ERR_CALL_NOT_FOUND', async () => {
    const { status, body } = await getJson<{ error: string; message: string }>(`${svc.url}/v1/calls/CAunknown`);
    expect(status).toBe(404);
    expect(body).toEqual({ error: 'UT_ERR_CALL_NOT_FOUND', message: "no live or recent call with id 'CAunknown'" });
  });

  it('shows a live call, then its timeline and events once finished; keeps CALL_HISTORY finished calls', async () => {
    const first = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, first);
    gw.start({ agentId: 'agent-calls' }).audio(audio.subarray(0, 8000 * 6));
    const live = await waitFor(async () => {
      const { body } = await getJson<{ calls: CallSummary[] }>(`${svc.url}/v1/calls`);
      return body.calls.find((c) => c.callId === first && c.audioMs === 6000);
    }, 'the live call');
    expect(live).toMatchObject({ agentId: 'agent-calls', language: null, source: 'twilio', state: 'live' });
    const during = await getJson<CallDetail>(`${svc.url}/v1/calls/${first}`);
    expect(during.body).toMatchObject({ callId: first, state: 'live', endedAt: null, endReason: null });

    gw.audio(audio.subarray(8000 * 6)).stop();
    const ended = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${first}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the call to end');
    expect(ended.timeline.length).toBeGreaterThan(0);
    for (const w of ended.timeline) {
      expect(Object.keys(w).sort()).toEqual(['endMs', 'scores', 'startMs']);
      expect(w.endMs).toBeLessThanOrEqual(ended.audioMs);
    }
    expect(ended.events.length).toBeGreaterThan(0);
    expect(ended.events.every((e) => e.callId === first)).toBe(true);
    expect(typeof ended.endedAt).toBe('string');
    await gw.close();

    // CALL_HISTORY=1: a second finished call pushes the first out.
    const second = twilioCallSid();
    const gw2 = await TwilioGateway.open(svc.wsUrl, second);
    gw2.start().audio(audio.subarray(0, 8000)).stop();
    await waitFor(async () => ((await getJson<CallDetail>(`${svc.url}/v1/calls/${second}`)).body.state === 'ended' ? true : undefined), 'second call');
    // The timeline is forgotten; the post-call summary kept in Redis is still served.
    const evicted = await getJson<Record<string, unknown>>(`${svc.url}/v1/calls/${first}`);
    expect(evicted.status).toBe(200);
    expect(Object.keys(evicted.body).sort()).toEqual(['callId', 'state', 'summary', 'survey']);
    expect(evicted.body).toMatchObject({ callId: first, state: 'ended', summary: { callId: first, audioMs: ended.audioMs } });
    expect((await getJson(`${svc.url}/v1/calls/${twilioCallSid()}`)).status).toBe(404);
    await gw2.close();
  });
});
