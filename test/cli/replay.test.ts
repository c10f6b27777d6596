/**
 * `undertone replay` as an operator runs it: a WAV file streamed to a real
 * server over a real socket, paced as Twilio paces it (here at high speed).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import { run } from '../../src/cli/replay.js';
import { streamTwilioCall } from '../../src/gateway-sim/twilio-stream-client.js';
import { getJson, startTestService, waitFor, type TestService } from '../integration/helpers.js';

const fixture = fileURLToPath(new URL('../../audio-fixtures/demo/calm-then-angry.wav', import.meta.url));

describe('replay', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('streams a WAV file as a Twilio call that the server scores end to end', async () => {
    const callSid = 'CAreplaytest0000000000000000000001';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await run(['--url', `${svc.wsUrl}/v1/streams/twilio`, '--agent', 'agent-replay', '--speed', '50', '--language', 'zh-CN', '--call-sid', callSid, fixture]);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
    expect(code).toBe(0);
    const detail = await waitFor(async () => {
      const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
      return status === 200 && body.state === 'ended' ? body : undefined;
    }, 'the replayed call to end');
    expect(detail.agentId).toBe('agent-replay');
    expect(detail.language).toBe('zh-CN');
    expect(detail.audioMs).toBeGreaterThan(40_000);
    const prompt = detail.events.find((e) => e.type === 'prompt');
    expect(prompt?.type === 'prompt' && prompt.language).toBe('zh-CN');
  });

  it('gives the same events at any pace, because the pipeline runs on audio time', async () => {
    const { loadCallAudioAsMuLaw } = await import('../../src/audio/load-call-audio.js');
    const mulaw = await loadCallAudioAsMuLaw(fixture);
    const eventsAt = async (speed: number, callSid: string): Promise<CallDetail['events']> => {
      await streamTwilioCall({ url: `${svc.wsUrl}/v1/streams/twilio`, mulaw, callSid, agentId: 'agent-pace', speed });
      const detail = await waitFor(async () => {
        const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callSid}`);
        return status === 200 && body.state === 'ended' ? body : undefined;
      }, `call ${callSid} to end`);
      return detail.events.map((e) => ({ ...e, callId: 'same' }));
    };
    const fast = await eventsAt(Infinity, 'CApace00000000000000000000000000001');
    const slower = await eventsAt(20, 'CApace00000000000000000000000000002');
    expect(fast.length).toBeGreaterThan(0);
    expect(slower).toEqual(fast);
  });

  it('refuses bad arguments with exit code 2 and says why', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run(['--agent', 'a1', fixture])).toBe(2);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/--url is required/);
      expect(await run(['--url', 'ws://127.0.0.1:1/x', '--agent', 'a1', '--speed=-3', fixture])).toBe(2);
      expect(String(stderr.mock.calls[1]?.[0])).toMatch(/--speed must be a positive number/);
    } finally {
      stderr.mockRestore();
    }
  });
});
