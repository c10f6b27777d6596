/**
 * Two service instances on one Redis and one routing queue (as behind a load
 * balancer): calls stream into one instance while their agents and the
 * supervisors are connected to the other. Real model, real sockets, real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage, AgentPromptMessage } from '../../src/delivery/agent-messages.js';
import type { RoutingJobResult } from '../../src/delivery/routing-worker.js';
import type { SupervisorServerMessage } from '../../src/delivery/supervisor-messages.js';
import { exposedSamples } from '../observability/exposition-samples.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, startTestService, TwilioGateway, twilioCallSid, waitFor, type TestService } from './helpers.js';

const callEnded = async (svc: TestService, callSid: string): Promise<CallDetail> =>
  waitFor(async () => {
    const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
    return status === 200 && body.state === 'ended' ? body : undefined;
  }, `call ${callSid} to end`, 60_000);

/** Every routing job of a call, once none is pending. */
async function settledJobs(svc: TestService, callSid: string, expected: number) {
  return waitFor(async () => {
    const jobs = (await svc.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'prioritized', 'delayed'], 0, 1000)).filter(
      // Policy events only: the post-call summary job is counted apart.
      (j) => (j.data as { callId?: string }).callId === callSid && j.name !== 'summary',
    );
    const done = jobs.filter((j) => j.finishedOn !== undefined);
    return done.length === expected && jobs.length === expected ? done : undefined;
  }, `the ${expected} routing jobs of ${callSid}`);
}

describe('two instances on one Redis', () => {
  let a: TestService;
  let b: TestService;
  let angry: Uint8Array;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    a = await startTestService({ INSTANCE_ID: 'inst-a' });
    b = await startTestService({ INSTANCE_ID: 'inst-b', ROUTING_QUEUE: a.queueName });
    angry = await loadFixtureMuLaw('calm-then-angry');
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await b?.close();
    await a?.close();
  });

  const open = async (url: string): Promise<WebSocket> => {
    const ws = await openSocket(url);
    sockets.push(ws);
    return ws;
  };

  it('delivers each prompt once to the agent on the other instance, keeps agents apart, and shows both calls to supervisors on either instance', async () => {
    // Supervisors first, so they see the calls start.
    const supA = await open(`${a.wsUrl}/v1/supervisor/stream?supervisorId=sup-a`);
    const feedA = collectJson<SupervisorServerMessage>(supA);
    const supB = await open(`${b.wsUrl}/v1/supervisor/stream?supervisorId=sup-b`);
    const feedB = collectJson<SupervisorServerMessage>(supB);
    const supTeam = await open(`${b.wsUrl}/v1/supervisor/stream?team=red`);
    const feedTeam = collectJson<SupervisorServerMessage>(supTeam);
    await waitFor(() => (feedA.length && feedB.length && feedTeam.length ? true : undefined), 'the three snapshots');
    expect(feedA[0]).toMatchObject({ type: 'snapshot', calls: [], alerts: [] });

    // Call 1 streams into A, its agent listens on B; call 2 the other way round.
    const agent1 = await open(`${b.wsUrl}/v1/agents/mi-agent-1/stream`);
    const got1 = collectJson<AgentMessage>(agent1);
    const agent2 = await open(`${a.wsUrl}/v1/agents/mi-agent-2/stream`);
    const got2 = collectJson<AgentMessage>(agent2);
    const call1 = twilioCallSid();
    const call2 = twilioCallSid();
    const gw1 = await TwilioGateway.open(a.wsUrl, call1);
    const gw2 = await TwilioGateway.open(b.wsUrl, call2);
    gw1.start({ agentId: 'mi-agent-1', language: 'en-US', extra: { team: 'red', queue: 'billing' } }).audio(angry).stop();
    gw2.start({ agentId: 'mi-agent-2', language: 'en-US', extra: { team: 'blue' } }).audio(angry).stop();

    const [detail1, detail2] = await Promise.all([callEnded(a, call1), callEnded(b, call2)]);
    for (const [detail, got, callSid] of [
      [detail1, got1, call1],
      [detail2, got2, call2],
    ] as const) {
      const prompts = detail.events.filter((e) => e.type === 'prompt');
      expect(prompts.length).toBeGreaterThan(0);
      const jobs = await settledJobs(a, callSid, detail.events.length);
      const posted = jobs
        .filter((j) => (j.returnvalue as RoutingJobResult).agent === 'posted')
        .map((j) => String(j.id))
        .sort();
      // Every job was handled: posted, or (only prompts) stale because a newer one was sent.
      for (const j of jobs) expect(['posted', 'stale']).toContain((j.returnvalue as RoutingJobResult).agent);
      const mine = await waitFor(() => {
        const m = got.filter((x) => x.callId === callSid);
        return m.length >= posted.length ? m : undefined;
      }, `the agent of ${callSid} to get ${posted.length} messages`);
      const ids = mine.map((m) => (m.type === 'prompt' ? m.promptId : m.priorityId)).sort();
      // Exactly once each: the same ids as posted, no repeats.
      expect(ids).toEqual(posted);
      const promptSeqs = mine.filter((m): m is AgentPromptMessage => m.type === 'prompt').map((m) => m.seq);
      expect(promptSeqs).toEqual([...promptSeqs].sort((x, y) => x - y));
      expect(promptSeqs.length).toBeGreaterThan(0);
    }
    // An agent never sees another agent's call.
    expect(got1.filter((m) => m.callId !== call1)).toEqual([]);
    expect(got2.filter((m) => m.callId !== call2)).toEqual([]);

    // Each supervisor saw both calls start and end, with the instance they stream into.
    for (const feed of [feedA, feedB]) {
      await waitFor(() => (feed.filter((m) => m.type === 'call.ended').length >= 2 ? true : undefined), 'both calls to end on the feed');
      const started = feed.filter((m) => m.type === 'call.started');
      expect(Object.fromEntries(started.map((m) => [m.call.callId, m.call.instanceId]))).toEqual({ [call1]: 'inst-a', [call2]: 'inst-b' });
      expect(started.find((m) => m.call.callId === call1)?.call).toMatchObject({ agentId: 'mi-agent-1', team: 'red', queue: 'billing' });
      const ended = feed.filter((m) => m.type === 'call.ended').find((m) => m.callId === call1)!;
      expect(ended.summary).toMatchObject({ endReason: 'hangup', audioMs: detail1.audioMs, prompts: detail1.events.filter((e) => e.type === 'prompt').length });
      expect(ended.summary.peakAgitation).toBeGreaterThan(ended.summary.meanAgitation);
      const scores = feed.filter((m) => m.type === 'call.scores' && m.callId === call1);
      // ≈ 1 per second of audio, not one per window (4 per second).
      expect(scores.length).toBeGreaterThan(detail1.audioMs / 1000 - 3);
      expect(scores.length).toBeLessThanOrEqual(Math.ceil(detail1.audioMs / 1000) + 1);
      const tiers = feed.filter((m) => m.type === 'tier.changed' && m.callId === call1);
      // Every tier change: a priority rise, a recovery, or the handover to tier 4.
      expect(tiers.length).toBe(detail1.events.filter((e) => e.type !== 'prompt').length);
    }
    // The team filter shows call 1 (team red) only.
    await waitFor(() => (feedTeam.some((m) => m.type === 'call.ended') ? true : undefined), 'call 1 to end on the filtered feed');
    const teamCalls = new Set(feedTeam.flatMap((m) => ('callId' in m ? [m.callId] : m.type === 'call.started' ? [m.call.callId] : [])));
    expect([...teamCalls]).toEqual([call1]);

    // Alerts: one per escalation to tier 3 or 4 (the acknowledgement flow is in test/http/supervisor-socket.test.ts).
    const escalations = detail1.events.filter((e) => (e.type === 'priority' && e.tier >= 3 && e.tier > e.previousTier) || e.type === 'handover');
    expect(feedA.filter((m) => m.type === 'alert' && m.alert.callId === call1)).toHaveLength(escalations.length);

    // Any instance answers a call's feed history (GET /v1/calls/:callId: the timeline only where the call streams).
    const history = await getJson<{ live: unknown; events: SupervisorServerMessage[] }>(`${b.url}/v1/supervisor/calls/${call1}`);
    expect(history.status).toBe(200);
    expect(history.body.live).toBeNull();
    const htypes = history.body.events.map((m) => m.type).filter((t) => t !== 'call.scores');
    expect(htypes[0]).toBe('call.started');
    expect(htypes.at(-1)).toBe('call.ended');
    expect(htypes.filter((t) => t === 'prompt')).toHaveLength(detail1.events.filter((e) => e.type === 'prompt').length);
    // GET /v1/calls/:callId on the other instance: the post-call summary kept in Redis.
    expect(await getJson(`${b.url}/v1/calls/${call1}`)).toMatchObject({ status: 200, body: { state: 'ended', summary: { callId: call1 } } });
    expect((await getJson(`${b.url}/v1/supervisor/calls/CA-never`)).status).toBe(404);

    // Bad supervisor input is answered, not fatal.
    const before = feedB.length;
    supB.send('not json');
    supB.send(JSON.stringify({ type: 'ack', alertId: 'no-such-alert' }));
    const errors = await waitFor(() => {
      const e = feedB.slice(before).filter((m) => m.type === 'error');
      return e.length >= 2 ? e : undefined;
    }, 'two error replies');
    expect(errors.map((e) => e.type === 'error' && e.message)).toEqual(['message is not JSON', 'unknown alertId "no-such-alert"']);
    expect(supB.readyState).toBe(supB.OPEN);
  }, 120_000);

  it('shows a live call of one instance in the snapshot of a supervisor on the other', async () => {
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(a.wsUrl, callSid);
    gw.start({ agentId: 'mi-agent-3' }).audio(angry.subarray(0, 8000 * 4));
    await waitFor(async () => {
      const { body } = await getJson<{ calls: { callId: string; audioMs: number }[] }>(`${a.url}/v1/calls`);
      return body.calls.some((c) => c.callId === callSid && c.audioMs >= 3500) ? true : undefined;
    }, 'the call to be live on A');
    const sup = await open(`${b.wsUrl}/v1/supervisor/stream`);
    const feed = collectJson<SupervisorServerMessage>(sup);
    const snap = await waitFor(() => feed.find((m) => m.type === 'snapshot'), 'snapshot');
    expect(snap.type === 'snapshot' && snap.calls.map((c) => c.callId)).toContain(callSid);
    expect(snap.type === 'snapshot' && snap.calls.find((c) => c.callId === callSid)).toMatchObject({ instanceId: 'inst-a', agentId: 'mi-agent-3', tier: 1 });
    // GET /v1/calls/:callId answers from the instance's own memory, or from the
    // post-call summary once the call has ended: for a call live on another
    // instance it is 404. The supervisor API is the cross-instance view of a live call.
    const elsewhere = await getJson<{ error: string }>(`${b.url}/v1/calls/${callSid}`);
    expect(elsewhere).toMatchObject({ status: 404, body: { error: 'UT_ERR_CALL_NOT_FOUND' } });
    expect((await getJson(`${a.url}/v1/calls/${callSid}`)).body).toMatchObject({ callId: callSid, state: 'live' });
    const liveOnB = await getJson<{ live: { instanceId: string } | null }>(`${b.url}/v1/supervisor/calls/${callSid}`);
    expect(liveOnB).toMatchObject({ status: 200, body: { live: { instanceId: 'inst-a' } } });
    gw.stop();
    await callEnded(a, callSid);
    await waitFor(() => feed.find((m) => m.type === 'call.ended' && m.callId === callSid), 'call.ended');
  }, 60_000);

  it("delivers a call's second stream (new streamSid, seq restarts) on another instance as well as its first", async () => {
    const agent = await open(`${b.wsUrl}/v1/agents/mi-agent-4/stream`);
    const got = collectJson<AgentMessage>(agent);
    const callSid = twilioCallSid();
    const first = await TwilioGateway.open(a.wsUrl, callSid, `MZ1${callSid.slice(3)}`);
    first.start({ agentId: 'mi-agent-4' }).audio(angry).stop();
    const d1 = await callEnded(a, callSid);
    // The call is transferred: its <Stream> restarts, this time through instance B.
    const second = await TwilioGateway.open(b.wsUrl, callSid, `MZ2${callSid.slice(3)}`);
    second.start({ agentId: 'mi-agent-4' }).audio(angry).stop();
    const d2 = await callEnded(b, callSid);
    expect(d2.streamId).not.toBe(d1.streamId);
    const seqs1 = d1.events.map((e) => e.seq);
    expect(d2.events.map((e) => e.seq)).toEqual(seqs1); // same seqs: only the stream id tells them apart
    const total = d1.events.length + d2.events.length;
    const mine = await waitFor(() => (got.length >= total ? got : undefined), `all ${total} messages of both streams`);
    // (A prompt and a priority change of one tier may be taken by two workers at once: sort by seq, as a softphone would.)
    const bySeq = (streamId: string) => mine.filter((m) => m.streamId === streamId).map((m) => m.seq).sort((x, y) => x - y);
    expect(bySeq(d1.streamId)).toEqual(seqs1);
    expect(bySeq(d2.streamId)).toEqual(seqs1);
  }, 120_000);

  it('an agent with a socket on each instance: the one where the call streams has every event as decided, the other each posted one, neither any twice', async () => {
    const here = await open(`${a.wsUrl}/v1/agents/mi-agent-5/stream`);
    const gotHere = collectJson<AgentMessage>(here);
    const there = await open(`${b.wsUrl}/v1/agents/mi-agent-5/stream`);
    const gotThere = collectJson<AgentMessage>(there);
    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(a.wsUrl, callSid);
    gw.start({ agentId: 'mi-agent-5', language: 'en-US' }).audio(angry).stop();
    const detail = await callEnded(a, callSid);
    expect(detail.events.filter((e) => e.type === 'prompt').length).toBeGreaterThan(0);
    const jobs = await settledJobs(a, callSid, detail.events.length);
    const posted = jobs
      .filter((j) => (j.returnvalue as RoutingJobResult).agent === 'posted')
      .map((j) => String(j.id))
      .sort();
    const idOf = (m: AgentMessage): string => (m.type === 'prompt' ? m.promptId : m.priorityId);
    // The other instance: through the queue and the inbox, exactly what the workers posted.
    const viaInbox = await waitFor(() => {
      const m = gotThere.filter((x) => x.callId === callSid);
      return m.length >= posted.length ? m : undefined;
    }, `the socket on B to get ${posted.length} messages`);
    expect(viaInbox.map(idOf).sort()).toEqual(posted);
    // A had the same inbox entries to read (the nudges reach both hubs); give it the moment B needed and more.
    await new Promise((r) => setTimeout(r, 500));
    // The instance the call streams into: every event, in seq order, each once (its inbox copies skipped).
    const local = gotHere.filter((x) => x.callId === callSid);
    expect(local.map((m) => m.seq)).toEqual(detail.events.map((e) => e.seq));
    expect(new Set(local.map(idOf)).size).toBe(local.length);
    expect(gotHere.every((m) => m.stale === undefined)).toBe(true);
    // Sent by A as decided, not through its inbox: A's counter has every event of the call (no other
    // test of this file has an agent socket on the instance its call streams into, A).
    const samples = exposedSamples(await (await fetch(`${a.url}/metrics`)).text());
    const sentAhead = [...samples].filter(([k]) => k.startsWith('undertone_agent_local_messages_total')).reduce((n, [, v]) => n + v, 0);
    expect(sentAhead).toBe(detail.events.length);
  }, 120_000);
});
