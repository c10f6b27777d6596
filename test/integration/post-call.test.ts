/**
 * Closing the loop over real sockets and a real Redis: an agent acks a
 * prompt during the call and changes its mind after the end; the post-call
 * summary is kept in Redis (CALL_HISTORY=0: the in-memory history forgets
 * the call at once), served at GET /v1/calls/:callId, emitted as a `summary`
 * job matching the published schema; surveys are validated and stored.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostCallSummary } from '../../src/calls/post-call-summary.js';
import type { AgentMessage, AgentPromptMessage } from '../../src/delivery/agent-messages.js';
import { publishedSchemaValidator } from '../queue/schema-validator.js';
import { collectJson, getJson, REDIS_URL, loadFixtureMuLaw, openSocket, startTestService, TwilioGateway, twilioCallSid, waitFor, type TestService } from './helpers.js';

interface Kept {
  callId: string;
  state: string;
  summary: PostCallSummary;
  survey: Record<string, number> | null;
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('post-call summary, acks and surveys', () => {
  let svc: TestService;
  let angry: Uint8Array;

  beforeAll(async () => {
    svc = await startTestService({ CALL_HISTORY: '0' });
    angry = await loadFixtureMuLaw('calm-then-angry');
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('records acks on the call, keeps the summary after the end, emits it as a job, and takes surveys', async () => {
    const agentId = 'agent-post-1';
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    const received = collectJson<AgentMessage & { promptId?: string; code?: string }>(agent);
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ agentId, language: 'en-US' }).audio(angry);

    // A prompt arrives while the call is live: the agent used it (ack without callId: found on the live call).
    const prompt = await waitFor(() => received.find((m): m is AgentPromptMessage => m.type === 'prompt' && m.callId === callSid), 'a prompt', 60_000);
    agent.send(JSON.stringify({ type: 'ack', promptId: prompt.promptId, action: 'used' }));
    const recorded = await waitFor(() => received.find((m) => (m.type as string) === 'ack-recorded'), 'the ack reply');
    expect(recorded).toMatchObject({ promptId: prompt.promptId, callId: callSid, action: 'used' });
    // Bad acks are answered, never crash the socket.
    agent.send(JSON.stringify({ type: 'ack', promptId: prompt.promptId, action: 'liked' }));
    agent.send(JSON.stringify({ type: 'ack', promptId: 'no-such-prompt', action: 'used' }));
    await waitFor(() => (received.filter((m) => (m.type as string) === 'error').length >= 2 ? true : undefined), 'two error replies');
    expect(received.filter((m) => (m.type as string) === 'error').map((m) => m.code)).toEqual(['UT_ERR_INVALID_ACK', 'UT_ERR_UNKNOWN_PROMPT']);

    gw.stop();
    const kept = await waitFor(async () => {
      const { status, body } = await getJson<Kept>(`${svc.url}/v1/calls/${callSid}`);
      return status === 200 && body.state === 'ended' ? body : undefined;
    }, 'the ended call', 60_000);
    // CALL_HISTORY=0: only the kept summary is left.
    expect(Object.keys(kept).sort()).toEqual(['callId', 'state', 'summary', 'survey']);
    const s = kept.summary;
    expect(s).toMatchObject({ callId: callSid, agentId, source: 'twilio', endReason: 'hangup' });
    expect(s.audioMs).toBe(Math.round((angry.length * 1000) / 8000));
    // Time at each tier covers the whole call, from its first sample.
    expect(s.msAtTier[1] + s.msAtTier[2] + s.msAtTier[3] + s.msAtTier[4]).toBe(s.audioMs);
    expect(s.maxTier).toBeGreaterThan(1);
    expect(s.escalations).toBeGreaterThanOrEqual(1);
    expect(s.scoredWindows).toBeGreaterThan(10);
    expect(s.peakAgitation).toBeGreaterThanOrEqual(s.meanAgitation ?? 1);
    expect(s.promptsSent).toBe(s.prompts.length);
    expect(s.prompts.find((p) => p.promptId === prompt.promptId)?.feedback).toBe('used');
    expect(s.promptsUsed).toBe(1);

    // The summary job carries the same summary, ack included, and matches the published schema.
    const jobs = await svc.queue.getJobs(['completed', 'active', 'waiting', 'prioritized', 'delayed'], 0, 1000);
    const summaryJob = jobs.find((j) => j.name === 'summary' && (j.data as { callId: string }).callId === callSid);
    const check = publishedSchemaValidator();
    expect(check(summaryJob?.data), JSON.stringify(check.errors)).toBe(true);
    expect((summaryJob?.data as { summary: PostCallSummary }).summary).toEqual(s);

    // The agent changes their mind after the call: found through the kept prompt index.
    agent.send(JSON.stringify({ type: 'ack', promptId: prompt.promptId, action: 'dismissed' }));
    await waitFor(() => (received.filter((m) => (m.type as string) === 'ack-recorded').length === 2 ? true : undefined), 'the late ack reply');
    const afterLateAck = (await getJson<Kept>(`${svc.url}/v1/calls/${callSid}`)).body.summary;
    expect([afterLateAck.promptsUsed, afterLateAck.promptsDismissed]).toEqual([0, 1]);

    // Surveys: validated, 404 for an unknown call, merged and served with the summary.
    const bad = await postJson(`${svc.url}/v1/calls/${callSid}/survey`, { csat: 6, nps: 3.5, mood: 'ok' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'UT_ERR_INVALID_SURVEY' });
    expect(bad.body.message).toBe(
      'invalid survey: unknown field "mood" (csat, ces and nps are taken); csat must be a whole number from 1 to 5 (got 6); nps must be a whole number from 0 to 10 (got 3.5)',
    );
    expect((await postJson(`${svc.url}/v1/calls/${callSid}/survey`, {})).body.message).toBe('invalid survey: give at least one of csat, ces, nps');
    expect((await postJson(`${svc.url}/v1/calls/${callSid}/survey`, [4])).status).toBe(400);
    const unknown = await postJson(`${svc.url}/v1/calls/${twilioCallSid()}/survey`, { csat: 4 });
    expect(unknown).toMatchObject({ status: 404, body: { error: 'UT_ERR_CALL_NOT_FOUND' } });
    // A call live on another instance (its live-call key in Redis) is known here too.
    const elsewhere = twilioCallSid();
    const redis = new Redis(REDIS_URL);
    await redis.set(`ut:${svc.queueName}:live:${elsewhere}`, '{}', 'EX', 60);
    expect((await postJson(`${svc.url}/v1/calls/${elsewhere}/survey`, { nps: 7 })).status).toBe(200);
    await redis.quit();
    expect(await postJson(`${svc.url}/v1/calls/${callSid}/survey`, { csat: 4, ces: 2 })).toMatchObject({ status: 200, body: { survey: { csat: 4, ces: 2 } } });
    expect(await postJson(`${svc.url}/v1/calls/${callSid}/survey`, { nps: 9, ces: 3 })).toMatchObject({ status: 200, body: { survey: { csat: 4, ces: 3, nps: 9 } } });
    expect((await getJson<Kept>(`${svc.url}/v1/calls/${callSid}`)).body.survey).toEqual({ csat: 4, ces: 3, nps: 9 });

    await gw.close();
    agent.close();
  });
});
