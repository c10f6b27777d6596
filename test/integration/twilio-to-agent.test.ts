/**
 * The whole chain over real sockets and a real Redis: a Twilio gateway
 * streams an angry call, the agent's softphone socket receives a prompt and a
 * priority change for that call, and the routing queue holds the jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage, AgentPriorityMessage, AgentPromptMessage } from '../../src/delivery/agent-messages.js';
import {
  collectJson,
  getJson,
  loadFixtureMuLaw,
  openSocket,
  startTestService,
  TwilioGateway,
  twilioCallSid,
  waitFor,
  type TestService,
} from './helpers.js';
import { publishedSchemaValidator } from '../queue/schema-validator.js';

describe('Twilio stream → model → policy → BullMQ → agent socket', () => {
  let svc: TestService;
  let angry: Uint8Array;

  beforeAll(async () => {
    svc = await startTestService();
    angry = await loadFixtureMuLaw('calm-then-angry');
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('delivers prompt and priority messages for the call to its agent, via the routing queue', async () => {
    const agentId = 'agent-int-1';
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    const received = collectJson<AgentMessage>(agent);
    // Another agent's socket must not see this call.
    const bystander = await openSocket(`${svc.wsUrl}/v1/agents/agent-int-2/stream`);
    const overheard = collectJson<AgentMessage>(bystander);

    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ agentId, language: 'en-US' }).audio(angry).stop();

    const detail = await waitFor(async () => {
      const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
      return status === 200 && body.state === 'ended' ? body : undefined;
    }, 'the call to end');
    expect(detail.endReason).toBe('hangup');
    expect(detail.audioMs).toBe(Math.round((angry.length * 1000) / 8000));
    expect(detail.timeline.length).toBeGreaterThan(10);
    const eventTypes = detail.events.map((e) => e.type);
    expect(eventTypes).toContain('prompt');
    expect(eventTypes).toContain('priority');

    const mine = await waitFor(() => {
      const forCall = received.filter((m) => m.callId === callSid);
      const types = new Set(forCall.map((m) => m.type));
      return types.has('prompt') && types.has('priority') && forCall.length >= detail.events.length ? forCall : undefined;
    }, 'prompt and priority on the agent socket');
    const prompt = mine.find((m): m is AgentPromptMessage => m.type === 'prompt')!;
    expect(prompt).toMatchObject({ callId: callSid, language: expect.stringMatching(/^en/) });
    expect(prompt.text.length).toBeGreaterThan(0);
    expect(prompt.tier).toBeGreaterThan(1);
    // The first priority change of an angry call is an escalation.
    const priority = mine.find((m): m is AgentPriorityMessage => m.type === 'priority')!;
    expect(priority.tier).toBeGreaterThan(priority.previousTier);
    expect(priority.reason.length).toBeGreaterThan(0);
    expect(overheard.filter((m) => m.callId === callSid)).toEqual([]);

    // The uniquely named routing queue holds the call's jobs.
    const jobs = await svc.queue.getJobs(['completed', 'active', 'waiting', 'prioritized', 'delayed'], 0, 1000);
    const callJobs = jobs.filter((j) => (j.data as { callId?: string }).callId === callSid);
    const names = new Set(callJobs.map((j) => j.name));
    expect(names.has('prompt')).toBe(true);
    expect(names.has('priority')).toBe(true);
    // One job per policy event, plus the post-call summary.
    expect(callJobs.filter((j) => j.name !== 'summary')).toHaveLength(detail.events.length);
    expect(callJobs.filter((j) => j.name === 'summary')).toHaveLength(1);
    // Every payload the chain produced matches the published JSON Schema.
    const check = publishedSchemaValidator();
    for (const job of callJobs) expect(check(job.data), `${job.name}: ${JSON.stringify(check.errors)}`).toBe(true);
    for (const job of callJobs) expect((job.data as { agentId: string }).agentId).toBe(agentId);

    // The gateway's socket stays a normal close: we close it ourselves after stop.
    expect(await gw.close()).toMatchObject({ code: 1000 });
    agent.close();
    bystander.close();
  });

  it('lists a live call with its agent, tier and latest scores', async () => {
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ agentId: 'agent-int-3', language: 'zh-CN' }).audio(angry.subarray(0, 8000 * 10));
    const row = await waitFor(async () => {
      const { body } = await getJson<{ calls: Array<Record<string, unknown>> }>(`${svc.url}/v1/calls`);
      const r = body.calls.find((c) => c['callId'] === callSid);
      return r && r['audioMs'] === 10_000 && r['latestScores'] !== null ? r : undefined;
    }, 'the live call in /v1/calls');
    expect(row).toMatchObject({ agentId: 'agent-int-3', source: 'twilio', language: 'zh-CN', state: 'live', tier: expect.any(Number) });
    expect(typeof row['startedAt']).toBe('string');
    expect(row['latestScores']).toEqual(
      expect.objectContaining({ neutral: expect.any(Number), anger: expect.any(Number), happiness: expect.any(Number), sadness: expect.any(Number), arousal: expect.any(Number), agitation: expect.any(Number) }),
    );
    // Socket close without stop finalises the call as a disconnect.
    await gw.close();
    const detail = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the call to end');
    expect(detail.endReason).toBe('disconnect');
    const { body } = await getJson<{ calls: Array<{ callId: string }> }>(`${svc.url}/v1/calls`);
    expect(body.calls.some((c) => c.callId === callSid)).toBe(false);
  });
});
