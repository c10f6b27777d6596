/**
 * `serve` with DSP_THREADS=1 over real sockets and Redis: a Twilio call is
 * decoded, framed and scored on the worker thread, the agent gets its prompt,
 * and a graceful shutdown flushes a live call through the worker before the
 * worker is terminated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, startTestService, TwilioGateway, twilioCallSid, waitFor, waitForCallEnded } from '../integration/helpers.js';

describe('serve with DSP worker threads', () => {
  let angry: Uint8Array;
  beforeAll(async () => {
    angry = await loadFixtureMuLaw('calm-then-angry');
  });

  describe('a call end to end', () => {
    let svc: Awaited<ReturnType<typeof startTestService>>;
    beforeAll(async () => {
      svc = await startTestService({ DSP_THREADS: '1' });
    });
    afterAll(async () => {
      await svc?.close();
    });

    it('scores the call on the worker and prompts its agent', async () => {
      expect(svc.lines.find((l) => l.msg === 'undertone serving')).toMatchObject({ dspThreads: 1 });
      const agentId = 'agent-dsp-1';
      const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
      const received = collectJson<AgentMessage>(agent);
      const callSid = twilioCallSid();
      const gw = await TwilioGateway.open(svc.wsUrl, callSid);
      gw.start({ agentId, language: 'en-US' }).audio(angry).stop();
      const detail = await waitForCallEnded(svc.url, callSid);
      expect(detail.endReason).toBe('hangup');
      expect(detail.audioMs).toBe(Math.round((angry.length * 1000) / 8000));
      expect(detail.timeline.length).toBeGreaterThan(10);
      expect(detail.events.map((e) => e.type)).toContain('prompt');
      await waitFor(() => (received.some((m) => m.callId === callSid && m.type === 'prompt') ? true : undefined), 'the prompt on the agent socket');
      agent.close();
      // The workers' batched runs feed the inference histogram, as the inline model does.
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      const count = /^undertone_inference_seconds_count (\d+)/m.exec(metrics);
      expect(Number(count?.[1])).toBeGreaterThan(0);
      // And the batches posted to them: fewer than the call's audio messages (several go in one).
      const batches = Number(/^undertone_dsp_batches_total (\d+)/m.exec(metrics)?.[1]);
      const messages = Number(/^undertone_audio_messages_total\{source="twilio"\} (\d+)/m.exec(metrics)?.[1]);
      expect(batches).toBeGreaterThan(0);
      expect(batches).toBeLessThan(messages);
    });
  });

  it('packs calls onto the first worker up to DSP_PACK_CALLS, then the next, and shows each worker\'s calls in /metrics', async () => {
    const svc = await startTestService({ DSP_THREADS: '2', DSP_PACK_CALLS: '3' });
    try {
      expect(svc.lines.find((l) => l.msg === 'undertone serving')).toMatchObject({ dspThreads: 2, dspPackCalls: 3 });
      const workerCalls = async (): Promise<string[]> => {
        const text = await (await fetch(`${svc.url}/metrics`)).text();
        return text.split('\n').filter((l) => l.startsWith('undertone_dsp_worker_calls{'));
      };
      expect(await workerCalls()).toEqual(['undertone_dsp_worker_calls{worker="0"} 0', 'undertone_dsp_worker_calls{worker="1"} 0']);
      // Four calls: packed 3 + 1 (spread would give 2 + 2, the default of 100 4 + 0).
      const sids = [twilioCallSid(), twilioCallSid(), twilioCallSid(), twilioCallSid()];
      const gateways = await Promise.all(sids.map((sid) => TwilioGateway.open(svc.wsUrl, sid)));
      gateways.forEach((gw, i) => gw.start({ agentId: `agent-pack-${i}` }).audio(angry.subarray(0, 8000)));
      await waitFor(async () => {
        const all = await Promise.all(sids.map((sid) => getJson<CallDetail>(`${svc.url}/v1/calls/${sid}`)));
        return all.every((r) => r.body.audioMs === 1000) ? true : undefined;
      }, 'the four calls to stream 1 s each');
      expect(await workerCalls()).toEqual(['undertone_dsp_worker_calls{worker="0"} 3', 'undertone_dsp_worker_calls{worker="1"} 1']);
      for (const gw of gateways) gw.stop();
      for (const sid of sids) await waitForCallEnded(svc.url, sid);
      expect(await workerCalls()).toEqual(['undertone_dsp_worker_calls{worker="0"} 0', 'undertone_dsp_worker_calls{worker="1"} 0']);
    } finally {
      await svc.close();
    }
  });

  it('a graceful shutdown flushes a live call through its worker, then stops the worker', async () => {
    const svc = await startTestService({ DSP_THREADS: '1' });
    let closed = false;
    try {
      const callSid = twilioCallSid();
      const gw = await TwilioGateway.open(svc.wsUrl, callSid);
      const part = angry.subarray(0, 8000 * 20);
      gw.start({ agentId: 'agent-dsp-2' }).audio(part);
      await waitFor(async () => {
        const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
        return body.audioMs === 20_000 ? true : undefined;
      }, 'the server to take 20 s of audio');
      await svc.close();
      closed = true;
      const ended = svc.lines.find((l) => l.msg === 'call ended' && l.callId === callSid);
      expect(ended).toMatchObject({ reason: 'shutdown', audioMs: 20_000 });
      // Every window of the 20 s was scored before the call ended: 2 s windows every 0.5 s.
      expect(ended!['windows']).toBeGreaterThan(20);
      expect(svc.lines.some((l) => l.level >= 50)).toBe(false);
    } finally {
      if (!closed) await svc.close();
    }
  });
});
