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
    svc = await startTestService({ AUDIOHOOK_API_KEYS: JSON.stringify({ 'replay-key': Buffer.from('replay secret').toString('base64') }) });
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

  it.each([
    ['audiohook', ['--protocol', 'audiohook', '--api-key', 'replay-key', '--client-secret', Buffer.from('replay secret').toString('base64'), '--call-sid', '5f0c6d62-5a3e-4c1b-9a57-1d5e8f0c2b11'], '5f0c6d62-5a3e-4c1b-9a57-1d5e8f0c2b11', '/v1/streams/audiohook'],
    ['l16', ['--protocol', 'l16', '--flavour', 'jambonz', '--rate', '16000', '--call-sid', 'replay-l16-call'], 'replay-l16-call', '/v1/streams/l16'],
  ])('streams a WAV file as a %s gateway', async (_p, args, callId, path) => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await run(['--url', `${svc.wsUrl}${path}`, '--agent', 'agent-replay', '--speed', 'max', ...args, fixture]);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(code).toBe(0);
    const detail = await waitFor(async () => {
      const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callId}`);
      return status === 200 && body.state === 'ended' ? body : undefined;
    }, 'the replayed call to end');
    expect(detail).toMatchObject({ agentId: 'agent-replay', endReason: 'hangup' });
    expect(detail.events.some((e) => e.type === 'prompt')).toBe(true);
  });

  it('refuses bad arguments with exit code 2 and says why', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run(['--agent', 'a1', fixture])).toBe(2);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/--url is required/);
      expect(await run(['--url', 'ws://127.0.0.1:1/x', '--agent', 'a1', '--speed=-3', fixture])).toBe(2);
      expect(String(stderr.mock.calls[1]?.[0])).toMatch(/--speed must be a positive number/);
      expect(await run(['--url', 'ws://127.0.0.1:1/x', '--agent', 'a1', '--protocol', 'audiohook', fixture])).toBe(2);
      expect(String(stderr.mock.calls[2]?.[0])).toMatch(/needs --api-key and --client-secret/);
    } finally {
      stderr.mockRestore();
    }
  });
});
