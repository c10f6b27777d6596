/**
 * The whole service (startService: real Redis, BullMQ, routing worker, hub,
 * model) over real sockets: after a call streams through, `/metrics` shows
 * time in every per-call stage and one lag observation per scored window;
 * and a prompt job that reaches the routing worker after its call ended is
 * not shown to the agent as a live prompt: it arrives marked stale, is
 * logged with the callId and counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposedSamples } from '../observability/exposition-samples.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { createBullmqPublisher } from '../../src/queue/bullmq-publisher.js';
import { promptEvent, silentLogger } from '../queue/helpers.js';
import { collectJson, LEVEL, loadFixtureMuLaw, openSocket, REDIS_URL, startTestService, TwilioGateway, twilioCallSid, waitFor, waitForCallEnded, type TestService } from './helpers.js';

async function scrape(url: string): Promise<Map<string, number>> {
  return exposedSamples(await (await fetch(`${url}/metrics`)).text());
}

describe('per-call metrics and late prompts through the service', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('exports per-stage seconds and the window-lag histogram after a call', async () => {
    const audio = await loadFixtureMuLaw('calm-then-angry');
    const before = await scrape(svc.url);
    expect(before.get('undertone_audio_lag_seconds_count')).toBe(0);
    for (const stage of ['decode', 'features', 'pitch', 'model', 'policy']) expect(before.get(`undertone_stage_seconds_total{stage="${stage}"}`)).toBe(0);

    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ agentId: 'agent-metrics-1' }).audio(audio).stop();
    const detail = await waitForCallEnded(svc.url, callSid);
    await gw.close();

    const after = await scrape(svc.url);
    for (const stage of ['decode', 'features', 'pitch', 'model', 'policy']) {
      expect(after.get(`undertone_stage_seconds_total{stage="${stage}"}`), stage).toBeGreaterThan(0);
    }
    expect(after.has('undertone_stage_seconds_total{stage="ingest"}')).toBe(true);
    expect(after.has('undertone_stage_seconds_total{stage="publish"}')).toBe(true);
    const windows = detail.timeline.length + detail.timelineDropped;
    expect(windows).toBeGreaterThan(10);
    expect(after.get('undertone_audio_lag_seconds_count')).toBe(windows);
    expect(after.get('undertone_audio_lag_seconds_bucket{le="+Inf"}')).toBe(windows);
    expect(after.get('undertone_audio_lag_seconds_sum')).toBeGreaterThan(0);
    expect(after.has('undertone_audio_lag_max_seconds')).toBe(true);
    expect(after.get('undertone_overloaded')).toBe(0);
    expect(after.get('undertone_active_calls')).toBe(0);
  });

  it('sends a prompt job handled after its call ended marked stale (not as a live prompt), logs it and counts it', async () => {
    const agentId = 'agent-late-1';
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    const received = collectJson<AgentMessage>(agent);
    const audio = await loadFixtureMuLaw('stays-calm');
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(svc.wsUrl, callSid);
    gw.start({ agentId }).audio(audio.subarray(0, 8000 * 4)).stop();
    const detail = await waitForCallEnded(svc.url, callSid);
    await gw.close();
    const expiredBefore = (await scrape(svc.url)).get('undertone_expired_events_total{type="prompt"}') ?? 0;

    // A prompt of that call that was held up in the queue until now.
    const publisher = createBullmqPublisher({ connection: REDIS_URL, queueName: svc.queueName, logger: silentLogger() });
    try {
      await publisher.publish(promptEvent({ callId: callSid, seq: 500, tier: 2 }), { agentId, streamId: detail.streamId });
      const late = await waitFor(() => received.find((m) => m.callId === callSid && m.seq === 500), 'the late prompt at the agent');
      expect(late).toMatchObject({ type: 'prompt', stale: true, callEndedAt: detail.endedAt });
    } finally {
      await publisher.close();
    }
    expect((await scrape(svc.url)).get('undertone_expired_events_total{type="prompt"}')).toBe(expiredBefore + 1);
    const logged = svc.lines.filter((l) => l.callId === callSid && l['seq'] === 500 && l['callEndedAt'] === detail.endedAt);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.level).toBe(LEVEL.warn);
    expect(logged[0]!.msg).toMatch(/after its call ended/);
    agent.close();
  });
});
