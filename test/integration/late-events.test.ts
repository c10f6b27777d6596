/**
 * Prompts never quietly arrive after the call has ended, over real sockets,
 * a real Redis, routing queue and worker: a call streamed in real time whose
 * scoring is held back until after the gateway's `stop` (an instance behind
 * on the audio) still reaches its agent, but every message is marked stale
 * with the time the stream ended, the jobs say so, routing is not told and
 * each event is logged with the callId. The same audio sent at once (a
 * replay: decided after its audio by design) is delivered as live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import {
  collectJson,
  getJson,
  LEVEL,
  loadFixtureMuLaw,
  openSocket,
  replaceScore,
  startTestService,
  TwilioGateway,
  waitFor,
  waitForCallEnded,
  type TestService,
} from './helpers.js';

/** Scoring waits on this; resolved unless a test holds it back. */
let scoringHeld: Promise<void> = Promise.resolve();

describe('events decided after their call ended', () => {
  let svc: TestService;
  /** 6 s of the fixture's angry part: a prompt and a priority change 3.5 s in. */
  let segment: Uint8Array;

  beforeAll(async () => {
    svc = await startTestService(
      {},
      {
        wrapModel: (real) =>
          replaceScore(real, (m) => async (batch) => {
            await scoringHeld;
            return m.score(batch);
          }),
      },
    );
    segment = (await loadFixtureMuLaw('calm-then-angry')).subarray(24 * 8000, 30 * 8000);
  });
  afterAll(async () => {
    await svc?.close();
  });

  async function agentSocket(agentId: string) {
    const ws = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    return { ws, received: collectJson<AgentMessage>(ws) };
  }

  /** The call once ended (a prompt and a priority change among its events), and every one of them as its agent received it. */
  async function endedWithEvents(callSid: string, received: AgentMessage[]): Promise<{ detail: CallDetail; mine: AgentMessage[] }> {
    const detail = await waitForCallEnded(svc.url, callSid);
    expect(detail.events.map((e) => e.type)).toEqual(expect.arrayContaining(['prompt', 'priority']));
    const mine = await waitFor(() => {
      const forCall = received.filter((m) => m.callId === callSid);
      return forCall.length >= detail.events.length ? forCall : undefined;
    }, 'the events on the agent socket');
    return { detail, mine };
  }

  it('reach the agent marked stale, unrouted and logged when the instance decided them after a real-time stream stopped', { timeout: 60_000 }, async () => {
    const agent = await agentSocket('agent-late-1');
    let release!: () => void;
    scoringHeld = new Promise((resolve) => (release = resolve));
    try {
      const gw = await TwilioGateway.open(svc.wsUrl);
      const callSid = gw.ids.callSid;
      gw.start({ agentId: 'agent-late-1', language: 'en-US' });
      // Real time: 100 ms of audio when the wall clock says it is due.
      const t0 = performance.now();
      for (let sent = 0; sent < segment.length; ) {
        const due = Math.min(segment.length, Math.floor((performance.now() - t0) / 100) * 800 + 800);
        if (due > sent) {
          gw.audio(segment.subarray(sent, due));
          sent = due;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const stoppedAt = Date.now();
      gw.stop();
      // The instance has read the stop (the call is finishing) before anything is scored.
      await waitFor(async () => ((await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`)).body.state === 'finishing' ? true : undefined), 'the call to be finishing');
      release();
      const { detail, mine } = await endedWithEvents(callSid, agent.received);
      const endedAt = (mine[0] as { callEndedAt?: string }).callEndedAt!;
      expect(Date.parse(endedAt)).toBeGreaterThanOrEqual(stoppedAt - 5);
      expect(Date.parse(endedAt)).toBeLessThanOrEqual(Date.now());
      expect(mine.map((m) => m.type).sort()).toEqual(detail.events.map((e) => e.type).sort());
      for (const m of mine) expect(m).toMatchObject({ stale: true, callEndedAt: endedAt });

      const jobs = (await svc.queue.getJobs(['completed', 'waiting', 'active', 'prioritized'], 0, 100)).filter((j) => j.data.callId === callSid && j.name !== 'summary');
      expect(jobs).toHaveLength(detail.events.length);
      for (const job of jobs) expect(job.data).toMatchObject({ streamEndedAt: endedAt });

      const decided = svc.lines.filter((l) => l.callId === callSid && l.msg.includes('decided after the stream ended'));
      expect(decided).toHaveLength(detail.events.length);
      for (const l of decided) expect(l).toMatchObject({ level: LEVEL.warn, streamEndedAt: endedAt });
      await waitFor(() => (svc.lines.some((l) => l.callId === callSid && /priority change handled after its call ended: routing not told/.test(l.msg)) ? true : undefined), 'the worker to skip routing');
      expect(svc.lines.filter((l) => l.callId === callSid && /^call priority (raised|changed)$/.test(l.msg))).toEqual([]);
      await gw.close();
    } finally {
      release();
      scoringHeld = Promise.resolve();
      agent.ws.close();
    }
  });

  it('reach the agent as live when the audio was sent ahead of real time (a replay)', async () => {
    const agent = await agentSocket('agent-late-2');
    try {
      const gw = await TwilioGateway.open(svc.wsUrl);
      const callSid = gw.ids.callSid;
      gw.start({ agentId: 'agent-late-2', language: 'en-US' }).audio(segment).stop();
      const { mine } = await endedWithEvents(callSid, agent.received);
      for (const m of mine) {
        expect(m).not.toHaveProperty('stale');
        expect(m).not.toHaveProperty('callEndedAt');
      }
      await gw.close();
    } finally {
      agent.ws.close();
    }
  });
});
