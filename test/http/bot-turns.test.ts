/**
 * Voicebot/IVR calls and valued customers through the real service: the
 * gateway reports bot turns over REST, metadata from Twilio custom
 * parameters reaches the policy, events reach the call detail and the queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { HandoverEvent } from '../../src/policy/types.js';
import { getJson, loadFixtureMuLaw, startTestService, TwilioGateway, twilioCallSid, waitFor, type TestService } from '../integration/helpers.js';

async function postTurn(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /v1/calls/:callId/bot-turns and customer value', () => {
  let svc: TestService;
  let audio: Uint8Array;
  beforeAll(async () => {
    svc = await startTestService();
    audio = await loadFixtureMuLaw('stays-calm');
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('hands a voicebot call to a human queue on the third unresolved turn', async () => {
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ extra: { botSession: 'true', customerName: 'Sam' } }).audio(audio.subarray(0, 8000 * 3));
    await waitFor(async () => ((await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`)).status === 200 ? true : undefined), 'the call');
    const url = `${svc.url}/v1/calls/${callSid}/bot-turns`;

    expect(await postTurn(url, { resolved: false })).toMatchObject({ status: 202, body: { callId: callSid, resolved: false } });
    expect((await postTurn(url, { resolved: true })).status).toBe(202);
    expect((await postTurn(url, { resolved: false })).status).toBe(202);
    expect((await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`)).body.events).toEqual([]);
    expect((await postTurn(url, { resolved: false })).status).toBe(202);

    const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
    const handover = body.events.find((e): e is HandoverEvent => e.type === 'handover');
    expect(handover).toMatchObject({ target: 'human-queue', queue: 'human-agents', tier: 1, seq: 1 });
    expect(handover?.context.trigger).toBe('bot-unresolved-turns');
    expect(handover?.reason).toMatch(/^handover to human-agents: 3 unresolved voicebot turns; /);
    // It reached the routing queue (as the interim priority job until the v1 handover job).
    await waitFor(async () => ((await svc.queue.getJobCounts('completed', 'waiting', 'active', 'prioritized')) ? true : undefined), 'queue');
    const jobs = await svc.queue.getJobs(['completed', 'waiting', 'active', 'prioritized']);
    expect(jobs.some((j) => j.data.callId === callSid)).toBe(true);
    gw.stop();
    await gw.close();
  });

  it('rejects a bad body with 400 and an unknown call with 404', async () => {
    const bad = await postTurn(`${svc.url}/v1/calls/CAnone/bot-turns`, { resolved: 'maybe' });
    expect(bad.status).toBe(400);
    const missing = await postTurn(`${svc.url}/v1/calls/CAnone/bot-turns`, { resolved: false });
    expect(missing).toEqual({ status: 404, body: { error: 'UT_ERR_CALL_NOT_FOUND', message: "no live or recent call with id 'CAnone'" } });
  });

  it('starts a vip call at a raised priority (customerTier from Twilio custom parameters)', async () => {
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ agentId: 'agent-vip', extra: { customerTier: 'vip' } }).audio(audio.subarray(0, 8000 * 2)).stop();
    const detail = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the vip call to end');
    expect(detail.events[0]).toMatchObject({ type: 'priority', cause: 'customer-value', priority: 2, tier: 1, audioMs: 0, seq: 1 });
    await gw.close();
  });
});
