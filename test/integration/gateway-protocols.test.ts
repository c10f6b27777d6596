/**
 * Every gateway protocol end to end over real sockets and a real Redis: a
 * client written from each protocol's documentation streams a fixture call
 * and the agent's softphone receives the prompt. AudioHook handshakes and
 * upgrade-time signature checks; L16 at 8 and 16 kHz; Telnyx A-law; bad
 * first messages; reassigning a live call's agent.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { linearToALaw, muLawToFloat } from '../../src/audio/g711.js';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { signAudiohookRequest } from '../../src/gateway-sim/audiohook-signer.js';
import { AudiohookMessages, streamAudiohookCall, type ServerMessage } from '../../src/gateway-sim/audiohook-stream-client.js';
import { l16FirstMessage, streamL16Call } from '../../src/gateway-sim/l16-stream-client.js';
import { closed, collectJson, getJson, LEVEL, loadFixtureMuLaw, openSocket, startTestService, waitFor, type TestService } from './helpers.js';

const API_KEY = 'undertone-test-key';
const SECRET = Buffer.from('a client secret of thirty-two by').toString('base64');
const OPEN_KEY = 'unsigned-key';

async function endedCall(svc: TestService, callId: string): Promise<CallDetail> {
  return waitFor(async () => {
    const { status, body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${callId}`);
    return status === 200 && body.state === 'ended' ? body : undefined;
  }, `call ${callId} to end`);
}

async function promptFor(received: AgentMessage[], callId: string): Promise<AgentMessage> {
  return waitFor(() => received.find((m) => m.type === 'prompt' && m.callId === callId), `a prompt for ${callId}`);
}

/** Upgrade status for an AudioHook request with these headers (101 = socket opened). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/** A raw AudioHook session over a real socket, driven message by message. */
async function audiohookSession(svc: TestService, apiKey = OPEN_KEY) {
  const sessionId = randomUUID();
  const organizationId = randomUUID();
  const ws = new WebSocket(`${svc.wsUrl}/v1/streams/audiohook`, {
    headers: { 'audiohook-organization-id': organizationId, 'audiohook-session-id': sessionId, 'audiohook-correlation-id': randomUUID(), 'x-api-key': apiKey },
  });
  ws.on('error', () => undefined);
  const client = new AudiohookMessages(sessionId);
  const received: ServerMessage[] = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) received.push(client.received(String(data)));
  });
  const closedP = closed(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (type: string, from = received.length): Promise<ServerMessage> =>
    waitFor(() => received.slice(from).find((m) => m.type === type), `AudioHook '${type}'`);
  return { ws, client, received, next, organizationId, sessionId, closedP };
}

describe('gateway protocols → model → policy → agent socket', () => {
  let svc: TestService;
  let angry: Uint8Array;
  let angry8k: Float32Array;
  let agent: WebSocket;
  let received: AgentMessage[];
  const agentId = 'agent-gw';

  beforeAll(async () => {
    svc = await startTestService({ AUDIOHOOK_API_KEYS: JSON.stringify({ [API_KEY]: SECRET, [OPEN_KEY]: '' }) });
    angry = await loadFixtureMuLaw('calm-then-angry');
    angry8k = muLawToFloat(angry);
    agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    received = collectJson<AgentMessage>(agent);
  });
  afterAll(async () => {
    agent?.close();
    await svc?.close();
  });

  describe('Genesys AudioHook', () => {
    it('a signed Genesys-style client streams a stereo call; the agent in customConfig gets the prompt', async () => {
      const conversationId = randomUUID();
      const result = await streamAudiohookCall({
        url: `${svc.wsUrl}/v1/streams/audiohook`,
        mulaw: angry,
        apiKey: API_KEY,
        clientSecret: SECRET,
        conversationId,
        agentId,
        language: 'en-US',
        customConfig: { customerTier: 'gold' },
        stereo: true,
        speed: Infinity,
      });
      expect(result.received.map((m) => m.type)).toEqual(['opened', 'closed']);
      expect(result.received[0]).toMatchObject({ version: '2', id: result.sessionId, seq: 1, clientseq: 1, parameters: { media: [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }] } });
      const detail = await endedCall(svc, conversationId);
      expect(detail).toMatchObject({ source: 'audiohook', agentId, endReason: 'hangup', audioMs: Math.round((angry.length * 1000) / 8000) });
      expect(detail.agentAudioMs).toBe(detail.audioMs);
      expect(await promptFor(received, conversationId)).toMatchObject({ type: 'prompt', callId: conversationId });
    });

    it('refuses a bad signature at the upgrade with HTTP 401 and no socket', async () => {
      const url = `${svc.wsUrl}/v1/streams/audiohook`;
      const u = new URL(url);
      const ids = { organizationId: randomUUID(), sessionId: randomUUID(), correlationId: randomUUID() };
      const sign = (o: Partial<Parameters<typeof signAudiohookRequest>[0]> = {}): Record<string, string> =>
        signAudiohookRequest({ ...ids, requestTarget: u.pathname, authority: u.host, apiKey: API_KEY, clientSecret: SECRET, ...o });
      const cases: Array<[string, Record<string, string>, number, RegExp | undefined]> = [
        ['valid', sign(), 101, undefined],
        ['wrong secret', sign({ clientSecret: Buffer.from('not the right secret').toString('base64') }), 401, /signature does not match/],
        ['expired', sign({ createdS: Math.floor(Date.now() / 1000) - 600, lifetimeS: 30 }), 401, /signature expired/],
        ['missing signature', { ...sign(), 'signature-input': '', signature: '' }, 401, /not signed/],
        ['tampered header', { ...sign(), 'audiohook-session-id': randomUUID() }, 401, /signature does not match/],
        ['unknown key', sign({ apiKey: 'nobody' }), 401, /unknown api key/],
      ];
      for (const [what, headers, status, reason] of cases) {
        const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
        const r = await upgradeStatus(url, clean);
        expect({ what, status: r.status }).toEqual({ what, status });
        if (reason) expect(JSON.parse(r.body)).toMatchObject({ error: 'UT_ERR_UNAUTHORIZED', message: expect.stringMatching(reason) });
      }
      const refusals = svc.lines.filter((l) => l.msg === 'AudioHook upgrade refused');
      expect(refusals.length).toBeGreaterThanOrEqual(5);
    });

    it('answers the connection probe with opened and closed, creating no call', async () => {
      const s = await audiohookSession(svc);
      s.ws.send(s.client.openMessage({ organizationId: s.organizationId, conversationId: '00000000-0000-0000-0000-000000000000', media: [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }] }));
      expect(await s.next('opened')).toMatchObject({ seq: 1, clientseq: 1 });
      s.ws.send(s.client.message('close', { reason: 'end' }));
      expect(await s.next('closed')).toMatchObject({ seq: 2, clientseq: 2 });
      s.ws.close(1000);
      await s.closedP;
      const { body } = await getJson<{ calls: Array<{ callId: string }> }>(`${svc.url}/v1/calls`);
      expect(body.calls.some((c) => c.callId === '00000000-0000-0000-0000-000000000000')).toBe(false);
      expect((await getJson(`${svc.url}/v1/calls/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
    });

    it('ping/pong, paused/resumed, discarded, update and error keep the sequence numbers; close → closed', async () => {
      const s = await audiohookSession(svc);
      const conversationId = randomUUID();
      s.ws.send(s.client.openMessage({ organizationId: s.organizationId, conversationId, media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }], customConfig: { agentId } }));
      await s.next('opened');
      s.ws.send(angry.subarray(0, 8000), { binary: true });
      s.client.samplesSent += 8000;
      s.ws.send(s.client.message('ping'));
      expect(await s.next('pong')).toMatchObject({ seq: 2, clientseq: 2 });
      s.ws.send(s.client.message('paused'));
      s.ws.send(s.client.message('resumed', { start: s.client.position, discarded: 'PT10S' }));
      s.ws.send(angry.subarray(8000, 16000), { binary: true });
      s.client.samplesSent += 8000;
      s.ws.send(s.client.message('discarded', { start: 'PT1.5S', discarded: 'PT0.3S' }));
      s.ws.send(s.client.message('update', { language: 'en-US' }));
      s.ws.send(s.client.message('error', { code: 429, message: 'rate limited (test)' }));
      s.ws.send(s.client.message('close', { reason: 'end' }));
      expect(await s.next('closed')).toEqual({ version: '2', id: s.sessionId, type: 'closed', seq: 3, clientseq: 8, parameters: {} });
      s.ws.close(1000);
      await s.closedP;
      expect(await endedCall(svc, conversationId)).toMatchObject({ audioMs: 2000, endReason: 'hangup' });
      const resumed = svc.lines.find((l) => l.msg === 'AudioHook stream resumed' && l.callId === conversationId);
      expect(resumed).toMatchObject({ discardedS: 10 });
      expect(svc.lines.find((l) => l.msg === 'AudioHook client reported an error' && l.callId === conversationId)).toMatchObject({ level: LEVEL.warn, code: 429 });
    });

    it('answers a sequence error with disconnect (reason error), still closes cleanly, and leaves another session alone', async () => {
      const bystander = await audiohookSession(svc);
      bystander.ws.send(bystander.client.openMessage({ organizationId: bystander.organizationId, conversationId: randomUUID(), media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }] }));
      await bystander.next('opened');

      const s = await audiohookSession(svc);
      const conversationId = randomUUID();
      s.ws.send(s.client.openMessage({ organizationId: s.organizationId, conversationId, media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }] }));
      await s.next('opened');
      s.client.seq += 5; // skips seq numbers
      s.ws.send(s.client.message('ping'));
      const bye = await s.next('disconnect');
      expect(bye).toMatchObject({ seq: 2, parameters: { reason: 'error', info: expect.stringContaining('UT_ERR_SEQUENCE') } });
      s.ws.send(s.client.message('close', { reason: 'disconnect' }));
      expect(await s.next('closed')).toMatchObject({ seq: 3 });
      s.ws.close(1000);
      await s.closedP;
      expect(await endedCall(svc, conversationId)).toMatchObject({ endReason: 'error' });
      expect(svc.lines.find((l) => l.msg === 'closing gateway stream' && l.callId === conversationId)).toMatchObject({ level: LEVEL.warn, reason: expect.stringContaining('UT_ERR_SEQUENCE') });

      // The other session still answers.
      bystander.ws.send(bystander.client.message('ping'));
      expect(await bystander.next('pong')).toMatchObject({ seq: 2, clientseq: 2 });
      bystander.ws.send(bystander.client.message('close', { reason: 'end' }));
      await bystander.next('closed');
      bystander.ws.close(1000);
    });

    it('answers audio before open with disconnect', async () => {
      const s = await audiohookSession(svc);
      s.ws.send(new Uint8Array(160), { binary: true });
      expect(await s.next('disconnect')).toMatchObject({ seq: 1, parameters: { reason: 'error', info: expect.stringContaining("audio before 'opened'") } });
      s.ws.close(1000);
      await s.closedP;
    });
  });

  describe('L16 streams (Vonage, jambonz, mod_audio_fork)', () => {
    it('Vonage at 16 kHz and at 8 kHz give the same scores within tolerance; the agent gets the prompt', async () => {
      const id16 = `vonage16-${randomUUID()}`;
      const id8 = `vonage8-${randomUUID()}`;
      const base = { url: `${svc.wsUrl}/v1/streams/l16`, samples8k: angry8k, flavour: 'vonage' as const, agentId, speed: Infinity };
      const r16 = await streamL16Call({ ...base, callId: id16, sampleRate: 16000 });
      const r8 = await streamL16Call({ ...base, callId: id8, sampleRate: 8000 });
      expect(r16.closedByServer).toBeUndefined();
      expect(r8.closedByServer).toBeUndefined();
      const [d16, d8] = [await endedCall(svc, id16), await endedCall(svc, id8)];
      expect(d16).toMatchObject({ source: 'l16', endReason: 'hangup' });
      expect(Math.abs(d16.audioMs - d8.audioMs)).toBeLessThanOrEqual(5);
      expect(d16.timeline.length).toBe(d8.timeline.length);
      let maxDiff = 0;
      for (let i = 0; i < d8.timeline.length; i++) maxDiff = Math.max(maxDiff, Math.abs(d16.timeline[i]!.scores.agitation - d8.timeline[i]!.scores.agitation));
      // Measured: max 0.035, mean 0.004 over 81 windows (the 16 kHz path is filtered twice).
      expect(maxDiff).toBeLessThan(0.05);
      expect(d16.events.map((e) => e.type)).toEqual(d8.events.map((e) => e.type));
      await promptFor(received, id16);
      await promptFor(received, id8);
    });

    it('jambonz listen: stereo (caller left) with the audio.jambonz.org subprotocol', async () => {
      const callId = randomUUID();
      const r = await streamL16Call({ url: `${svc.wsUrl}/v1/streams/l16`, samples8k: angry8k, flavour: 'jambonz', stereo: true, sampleRate: 16000, callId, agentId, speed: Infinity });
      expect(r.protocol).toBe('audio.jambonz.org');
      const detail = await endedCall(svc, callId);
      // The agent channel is counted at the wire rate; the caller's clock is after the 16 → 8 kHz filter (≈ 4 ms behind).
      expect(detail.audioMs).toBeGreaterThan(40_000);
      expect(Math.abs(detail.agentAudioMs - detail.audioMs)).toBeLessThanOrEqual(10);
      await promptFor(received, callId);
    });

    it('mod_audio_fork: its metadata frame then 8 kHz L16', async () => {
      const callId = randomUUID();
      const r = await streamL16Call({ url: `${svc.wsUrl}/v1/streams/l16`, samples8k: angry8k.subarray(0, 8000 * 3), flavour: 'mod_audio_fork', sampleRate: 8000, callId, speed: Infinity });
      expect(r.protocol).toBe('audio.drachtio.org');
      expect(await endedCall(svc, callId)).toMatchObject({ audioMs: 3000, endReason: 'hangup' });
    });

    it.each([
      ['no call id', { sampleRate: 16000 }, 1008, /names no call/],
      ['no format', { callSid: 'CA-nofmt' }, 1008, /gives no audio format/],
      ['an unsupported rate', { callSid: 'CA-rate', sampleRate: 11025 }, 1003, /unsupported L16 rate 11025/],
    ])('refuses a first message with %s with a close code and a clear reason', async (_what, first, code, reason) => {
      const ws = await openSocket(`${svc.wsUrl}/v1/streams/l16`);
      const c = closed(ws);
      ws.send(JSON.stringify(first));
      const { code: got, reason: why } = await c;
      expect(got).toBe(code);
      expect(why).toMatch(reason);
    });
  });

  it('Telnyx media streaming with PCMA through /v1/streams/twilio', async () => {
    const callControlId = `v3:${randomUUID()}`;
    const callId = callControlId.replace(':', '_');
    const alaw = Uint8Array.from(angry8k, (v) => linearToALaw(v * 32768));
    const ws = await openSocket(`${svc.wsUrl}/v1/streams/twilio`);
    const c = closed(ws);
    const streamId = randomUUID();
    ws.send(JSON.stringify({ event: 'connected', version: '1.0.0' }));
    ws.send(JSON.stringify({ event: 'start', sequence_number: '1', stream_id: streamId, start: { call_control_id: callControlId, from: '+13122010094', to: '+13122123456', custom_parameters: { agentId }, media_format: { encoding: 'PCMA', sample_rate: 8000, channels: 1 } } }));
    let seq = 1;
    for (let i = 0; i < alaw.length; i += 160) {
      const payload = Buffer.from(alaw.subarray(i, i + 160)).toString('base64');
      ws.send(JSON.stringify({ event: 'media', sequence_number: String(++seq), stream_id: streamId, media: { track: 'inbound', chunk: String(seq - 1), timestamp: String((seq - 2) * 20), payload } }));
    }
    ws.send(JSON.stringify({ event: 'stop', sequence_number: String(++seq), stream_id: streamId, stop: { call_control_id: callControlId } }));
    const detail = await endedCall(svc, callId);
    expect(detail).toMatchObject({ endReason: 'hangup', agentId, audioMs: Math.round((alaw.length * 1000) / 8000) });
    await promptFor(received, callId);
    ws.close(1000);
    await c;
  });

  describe('PUT /v1/calls/:callId/agent', () => {
    it('reassigns a live call: later prompts go to the new agent', async () => {
      const newAgent = 'agent-after-transfer';
      const socket = await openSocket(`${svc.wsUrl}/v1/agents/${newAgent}/stream`);
      const mine = collectJson<AgentMessage>(socket);
      const callId = `transfer-${randomUUID()}`;
      const ws = await openSocket(`${svc.wsUrl}/v1/streams/l16`);
      const c = closed(ws);
      ws.send(JSON.stringify(l16FirstMessage({ flavour: 'vonage', callId, sampleRate: 8000 })));
      const pcm = new Uint8Array(angry8k.length * 2);
      const view = new DataView(pcm.buffer);
      angry8k.forEach((v, i) => view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(v * 32768))), true));
      ws.send(pcm.subarray(0, 8000 * 2 * 2), { binary: true }); // the first 2 s (calm)
      await waitFor(async () => ((await getJson<CallDetail>(`${svc.url}/v1/calls/${callId}`)).body.audioMs === 2000 ? true : undefined), 'the live call');

      const res = await fetch(`${svc.url}/v1/calls/${callId}/agent`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: newAgent }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ callId, agentId: newAgent, previousAgentId: null });

      for (let i = 8000 * 2 * 2; i < pcm.length; i += 320) ws.send(pcm.subarray(i, i + 320), { binary: true });
      ws.close(1000);
      await c;
      const detail = await endedCall(svc, callId);
      expect(detail.agentId).toBe(newAgent);
      expect(detail.events.some((e) => e.type === 'prompt')).toBe(true);
      await waitFor(() => mine.find((m) => m.callId === callId && m.type === 'prompt'), 'the prompt on the new agent');
      socket.close();
    });

    it('answers 404 for an unknown call and 400 for a bad body', async () => {
      const put = (id: string, body: string) => fetch(`${svc.url}/v1/calls/${id}/agent`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
      const missing = await put('no-such-call', JSON.stringify({ agentId: 'a1' }));
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: 'UT_ERR_CALL_NOT_FOUND' });
      for (const body of [JSON.stringify({}), JSON.stringify({ agentId: 'bad id!' }), JSON.stringify({ agentId: 7 }), '[]']) {
        const bad = await put('no-such-call', body);
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ error: 'UT_ERR_BAD_REQUEST' });
      }
    });
  });
});
