/**
 * Bad gateway input over real sockets: each case is closed with its code
 * and a coded reason, and a call running alongside on the same server is not
 * disturbed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { connectedMsg, mediaMsg, startMsg } from '../ingest/twilio-fixtures.js';
import {
  closed,
  collectJson,
  getJson,
  LEVEL,
  loadFixtureMuLaw,
  openSocket,
  startTestService,
  TwilioGateway,
  twilioCallSid,
  waitFor,
  type TestService,
} from '../integration/helpers.js';

const MAX = 4096;

describe('Twilio stream endpoint: bad input', () => {
  let svc: TestService;
  let audio: Uint8Array;
  let good: TwilioGateway;

  beforeAll(async () => {
    svc = await startTestService({ MAX_MESSAGE_BYTES: String(MAX) });
    audio = await loadFixtureMuLaw('calm-then-angry');
    // A well-behaved call that runs alongside every bad one.
    good = await TwilioGateway.open(svc.wsUrl);
    good.start({ agentId: 'agent-good' }).audio(audio.subarray(0, 8000 * 10));
  });
  afterAll(async () => {
    await svc?.close();
  });

  async function expectClose(send: (gw: TwilioGateway) => void, code: number, reasonPrefix: string): Promise<TwilioGateway> {
    const gw = await TwilioGateway.open(svc.wsUrl);
    send(gw);
    const result = await gw.closedP;
    expect(result.code).toBe(code);
    expect(result.reason.startsWith(reasonPrefix)).toBe(true);
    expect(Buffer.byteLength(result.reason)).toBeLessThanOrEqual(123);
    return gw;
  }

  it('closes text that is not JSON with 1007', async () => {
    await expectClose((gw) => gw.send('this is not json'), 1007, 'UT_ERR_INVALID_JSON: ');
  });

  it('closes a text frame that is not UTF-8 with 1007 (ws checks before the adapter sees it)', async () => {
    await expectClose((gw) => gw.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false), 1007, '');
  });

  it('closes an unknown event with 1008', async () => {
    await expectClose((gw) => gw.start().send(JSON.stringify({ event: 'clear', streamSid: gw.ids.streamSid })), 1008, 'UT_ERR_UNKNOWN_EVENT: ');
  });

  it('closes media before start with 1008', async () => {
    await expectClose((gw) => gw.send(connectedMsg()).send(mediaMsg(gw.ids, new Uint8Array(160), 2)), 1008, 'UT_ERR_NOT_STARTED: ');
  });

  it('closes bad base64 with 1007 and ends that call as an error, keeping the audio it had', async () => {
    const gw = await expectClose(
      (g) => g.start().audio(audio.subarray(0, 8000 * 2)).send(mediaMsg(g.ids, '-_-_', 999)),
      1007,
      'UT_ERR_INVALID_BASE64: ',
    );
    const detail = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${gw.ids.callSid}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the failed call to end');
    expect(detail).toMatchObject({ endReason: 'error', audioMs: 2000 });
    // The operator sees why, on a warning line that carries the call id.
    const warning = svc.lines.find((l) => l.level === LEVEL.warn && l.callId === gw.ids.callSid && l['closeCode'] === 1007);
    expect(warning?.['reason']).toMatch(/^UT_ERR_INVALID_BASE64: /);
  });

  it('keeps an agent socket with no call open and waiting, then delivers once its call escalates', async () => {
    const agentId = 'agent-waiting';
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    const received = collectJson<AgentMessage>(agent);
    await new Promise((r) => setTimeout(r, 300));
    expect(agent.readyState).toBe(agent.OPEN);
    expect(received).toEqual([]);
    const gw = await TwilioGateway.open(svc.wsUrl);
    gw.start({ agentId }).audio(audio).stop();
    await waitFor(() => (received.some((m) => m.type === 'prompt' && m.callId === gw.ids.callSid) ? true : undefined), 'a prompt for the waiting agent');
    agent.close();
  });

  it('closes a binary frame with 1003', async () => {
    await expectClose((gw) => gw.start().send(Buffer.alloc(160, 0xff), true), 1003, 'UT_ERR_BINARY_FRAME: ');
  });

  it('closes an unsupported media format with 1003', async () => {
    await expectClose(
      (gw) => gw.send(startMsg(gw.ids, { mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 16000, channels: 1 } })),
      1003,
      'UT_ERR_UNSUPPORTED_FORMAT: ',
    );
  });

  it('closes a message over MAX_MESSAGE_BYTES with 1009 and a coded reason', async () => {
    const big = JSON.stringify({ event: 'mark', pad: 'x'.repeat(MAX) });
    await expectClose((gw) => gw.start().send(big), 1009, 'UT_ERR_MESSAGE_TOO_BIG: ');
  });

  it('closes a message over the hard ceiling (2 × MAX_MESSAGE_BYTES) with 1009 from ws itself', async () => {
    const huge = JSON.stringify({ event: 'mark', pad: 'x'.repeat(3 * MAX) });
    await expectClose((gw) => gw.start().send(huge), 1009, '');
  });

  it('closes a second stream for a live callId with 1008', async () => {
    const dup = await TwilioGateway.open(svc.wsUrl, good.ids.callSid);
    dup.start();
    const result = await dup.closedP;
    expect(result).toMatchObject({ code: 1008 });
    expect(result.reason).toMatch(/^UT_ERR_CALL_ALREADY_LIVE: /);
  });

  it('closes an agent socket with an invalid agentId with 1008', async () => {
    for (const bad of ['agent%20one', 'a'.repeat(129), 'x%3Ay']) {
      const ws = await openSocket(`${svc.wsUrl}/v1/agents/${bad}/stream`);
      const result = await closed(ws);
      expect(result.code).toBe(1008);
      expect(result.reason).toMatch(/^UT_ERR_INVALID_AGENT_ID: /);
    }
  });

  it('lets the concurrent good call finish normally', async () => {
    good.audio(audio.subarray(8000 * 10)).stop();
    const detail = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${svc.url}/v1/calls/${good.ids.callSid}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the good call to end');
    expect(detail.endReason).toBe('hangup');
    expect(detail.audioMs).toBe(Math.round((audio.length * 1000) / 8000));
    expect(detail.timeline.length).toBeGreaterThan(10);
    expect(detail.events.length).toBeGreaterThan(0);
    // Still open: the server never closed it.
    expect(await good.close()).toMatchObject({ code: 1000 });
  });
});

describe('Twilio stream endpoint: capacity', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ MAX_CALLS: '1' });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('closes a stream beyond MAX_CALLS with 1013 and takes calls again once one ends', async () => {
    const first = await TwilioGateway.open(svc.wsUrl);
    first.start();
    await waitFor(async () => ((await getJson<{ calls: unknown[] }>(`${svc.url}/v1/calls`)).body.calls.length === 1 ? true : undefined), 'first call live');
    const second = await TwilioGateway.open(svc.wsUrl);
    second.start();
    const result = await second.closedP;
    expect(result.code).toBe(1013);
    expect(result.reason).toMatch(/^UT_ERR_TOO_MANY_CALLS: /);

    first.stop();
    await waitFor(async () => ((await getJson<{ calls: unknown[] }>(`${svc.url}/v1/calls`)).body.calls.length === 0 ? true : undefined), 'first call ended');
    const third = await TwilioGateway.open(svc.wsUrl, twilioCallSid());
    third.start().stop();
    await waitFor(async () => ((await getJson<CallDetail>(`${svc.url}/v1/calls/${third.ids.callSid}`)).body.state === 'ended' ? true : undefined), 'third call');
    expect(await third.close()).toMatchObject({ code: 1000 });
    await first.close();
  });
});
