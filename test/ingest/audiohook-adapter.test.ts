/**
 * AudioHook adapter against the protocol's own message shapes (Genesys
 * AudioHook v2, as in the published spec and Genesys's reference client and
 * conformance tests): open/opened, ping/pong, sequence numbers, the probe,
 * pause/resume, discarded, error, close/closed, disconnect.
 */
import { describe, expect, it } from 'vitest';
import { AudiohookMessages, type ServerMessage } from '../../src/gateway-sim/audiohook-stream-client.js';
import { AudiohookAdapter } from '../../src/ingest/audiohook-adapter.js';
import type { CallStartEvent } from '../../src/ingest/call-event.js';
import type { IngestResult } from '../../src/ingest/ingest-adapter.js';
import { ProtocolError } from '../../src/shared/errors.js';

const SESSION = 'e160e428-53e2-487c-977d-96989bf5c99d';
const ORG = 'd7934305-0972-4844-938e-9060eef73d05';
const CONVERSATION = '090eaa2f-72fa-480a-83e0-8667ff89c0ec';
const PCMU_BOTH = { type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 };

function setup(headers: Record<string, string> = { 'audiohook-session-id': SESSION, 'audiohook-organization-id': ORG }) {
  const adapter = new AudiohookAdapter({ headers });
  const client = new AudiohookMessages(SESSION);
  const replies: ServerMessage[] = [];
  const send = (text: string): IngestResult => {
    const r = adapter.onText(text);
    for (const reply of r.replies ?? []) replies.push(client.received(reply));
    return r;
  };
  return { adapter, client, replies, send };
}

function opened(media: unknown[] = [PCMU_BOTH], extra: { customConfig?: Record<string, unknown>; language?: string } = {}) {
  const s = setup();
  const result = s.send(s.client.openMessage({ organizationId: ORG, conversationId: CONVERSATION, media, ...extra }));
  return { ...s, result };
}

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('AudioHook open → opened', () => {
  it('answers opened (version 2, session id, seq 1, clientseq 1) with exactly one offered media entry, and starts the call', () => {
    const { result, replies } = opened([PCMU_BOTH], {
      language: 'en-US',
      customConfig: { agentId: 'agent-7', customerTier: 'gold', queue: 'billing', priority: 3 },
    });
    expect(replies).toEqual([{ version: '2', id: SESSION, type: 'opened', seq: 1, clientseq: 1, parameters: { media: [PCMU_BOTH], startPaused: false } }]);
    const start = result.events[0] as CallStartEvent;
    expect(start).toMatchObject({
      kind: 'start',
      callId: CONVERSATION,
      streamId: SESSION,
      agentId: 'agent-7',
      language: 'en-US',
      tracks: ['caller', 'agent'],
      format: { encoding: 'pcmu', sampleRate: 8000 },
      source: 'audiohook',
    });
    expect(start.metadata).toMatchObject({ customerTier: 'gold', queue: 'billing', priority: '3', customerName: 'John Doe', ani: '+1-555-555-1234', dnis: '+1-800-555-6789', organizationId: ORG, language: 'en-US' });
    expect(start.metadata['agentId']).toBeUndefined();
  });

  it.each([
    [[['external', 'internal'], ['external'], ['internal']], ['external', 'internal']],
    [[['internal', 'external'], ['internal'], ['external']], ['internal', 'external']],
    [[['internal'], ['external']], ['external']],
    [[['internal']], ['internal']],
  ])('selects from offered channels %j the entry %j (the customer first, order as offered)', (offered, chosen) => {
    const media = offered.map((channels) => ({ type: 'audio', format: 'PCMU', channels, rate: 8000 }));
    const { replies, result } = opened(media);
    expect(replies[0]!.parameters['media']).toEqual([{ type: 'audio', format: 'PCMU', channels: chosen, rate: 8000 }]);
    expect((result.events[0] as CallStartEvent).tracks).toEqual(chosen.map((c) => (c === 'external' ? 'caller' : 'agent')));
  });

  it('lists the script languages in opened when the open asks for supportedLanguages', () => {
    const { adapter, client } = setup();
    const open = JSON.parse(client.openMessage({ organizationId: ORG, conversationId: CONVERSATION, media: [PCMU_BOTH] }));
    open.parameters.supportedLanguages = true;
    const reply = JSON.parse(adapter.onText(JSON.stringify(open)).replies![0]!);
    expect(reply.parameters).toEqual({ media: [PCMU_BOTH], startPaused: false, supportedLanguages: ['en-US', 'zh-CN'] });
  });

  it('takes L16 at 8000 Hz and skips formats it cannot decode', () => {
    const l16 = { type: 'audio', format: 'L16', channels: ['external'], rate: 8000 };
    const { replies, result } = opened([{ type: 'audio', format: 'OPUS', channels: ['external'], rate: 48000 }, l16]);
    expect(replies[0]!.parameters['media']).toEqual([l16]);
    expect((result.events[0] as CallStartEvent).format).toEqual({ encoding: 'l16', sampleRate: 8000 });
  });

  it('refuses an open with no decodable media (1003), answered by disconnect {reason: error}', () => {
    const { adapter, client } = setup();
    const e = thrown(() => adapter.onText(client.openMessage({ organizationId: ORG, conversationId: CONVERSATION, media: [{ type: 'audio', format: 'OPUS', channels: ['external'], rate: 48000 }] })));
    expect(e.closeCode).toBe(1003);
    const [bye] = adapter.onFatal(e).map((t) => JSON.parse(t) as ServerMessage);
    expect(bye).toMatchObject({ type: 'disconnect', seq: 1, clientseq: 1, parameters: { reason: 'error', info: expect.stringContaining('UT_ERR_UNSUPPORTED_FORMAT') } });
  });

  it('answers an organizationId that differs from the upgrade header with disconnect {reason: unauthorized}', () => {
    const { adapter, client } = setup();
    const e = thrown(() => adapter.onText(client.openMessage({ organizationId: '11111111-0972-4844-938e-9060eef73d05', conversationId: CONVERSATION, media: [PCMU_BOTH] })));
    expect(JSON.parse(adapter.onFatal(e)[0]!)).toMatchObject({ type: 'disconnect', parameters: { reason: 'unauthorized' } });
  });
});

describe('AudioHook sequence numbers', () => {
  it('pong carries the next server seq and the ping seq as clientseq (ping seq 2, serverseq 1 → pong seq 2, clientseq 2)', () => {
    const { send, client, replies } = opened();
    send(client.message('ping'));
    expect(replies[1]).toEqual({ version: '2', id: SESSION, type: 'pong', seq: 2, clientseq: 2, parameters: {} });
    send(client.message('ping', { rtt: 'PT0.012S' }));
    expect(replies[2]).toMatchObject({ type: 'pong', seq: 3, clientseq: 3 });
  });

  it('refuses a skipped or repeated client seq', () => {
    const { adapter, client } = opened();
    client.seq += 1; // skip one
    expect(thrown(() => adapter.onText(client.message('ping')))).toMatchObject({ code: 'UT_ERR_SEQUENCE', message: 'invalid seq 3 (expected 2)' });
  });

  it('refuses a serverseq ahead of what the server sent, and a foreign session id', () => {
    const a = opened();
    a.client.serverseq = 5;
    expect(thrown(() => a.adapter.onText(a.client.message('ping'))).code).toBe('UT_ERR_SEQUENCE');
    const b = opened();
    const foreign = new AudiohookMessages('aaaaaaaa-53e2-487c-977d-96989bf5c99d');
    foreign.seq = 1;
    foreign.serverseq = 1;
    expect(thrown(() => b.adapter.onText(foreign.message('ping'))).code).toBe('UT_ERR_SESSION_MISMATCH');
  });

  it.each([
    ['not JSON', 'hello', 1007],
    ['version 1', JSON.stringify({ version: '1', id: SESSION, type: 'ping', seq: 2, serverseq: 1, position: 'PT0S', parameters: {} }), 1007],
    ['a bad position', JSON.stringify({ version: '2', id: SESSION, type: 'ping', seq: 2, serverseq: 1, position: '12s', parameters: {} }), 1007],
    ['no parameters', JSON.stringify({ version: '2', id: SESSION, type: 'ping', seq: 2, serverseq: 1, position: 'PT0S' }), 1007],
    ['an unknown type', JSON.stringify({ version: '2', id: SESSION, type: 'dance', seq: 2, serverseq: 1, position: 'PT0S', parameters: {} }), 1008],
  ])('refuses %s', (_what, text, code) => {
    const { adapter } = opened();
    expect(thrown(() => adapter.onText(text)).closeCode).toBe(code);
  });
});

describe('AudioHook audio', () => {
  it('splits interleaved stereo PCMU: external → caller, internal → agent', () => {
    const { adapter } = opened();
    const r = adapter.onBinary(Uint8Array.from([1, 101, 2, 102, 3, 103]));
    expect(r.events).toEqual([
      { kind: 'audio', callId: CONVERSATION, track: 'caller', payload: Uint8Array.from([1, 2, 3]) },
      { kind: 'audio', callId: CONVERSATION, track: 'agent', payload: Uint8Array.from([101, 102, 103]) },
    ]);
    expect(adapter.positionS).toBeCloseTo(3 / 8000);
  });

  it('splits stereo L16 by 2-byte samples in the offered channel order', () => {
    const { adapter } = opened([{ type: 'audio', format: 'L16', channels: ['internal', 'external'], rate: 8000 }]);
    const r = adapter.onBinary(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(r.events).toEqual([
      { kind: 'audio', callId: CONVERSATION, track: 'agent', payload: Uint8Array.from([1, 2, 5, 6]) },
      { kind: 'audio', callId: CONVERSATION, track: 'caller', payload: Uint8Array.from([3, 4, 7, 8]) },
    ]);
  });

  it('refuses audio before opened and a frame that is not whole samples', () => {
    expect(thrown(() => setup().adapter.onBinary(new Uint8Array(4))).code).toBe('UT_ERR_NOT_STARTED');
    expect(thrown(() => opened().adapter.onBinary(new Uint8Array(3))).closeCode).toBe(1007);
  });

  it("takes audio after 'paused' without 'resumed' as the end of the pause (as Genesys's reference client does), and logs it", () => {
    const p = opened();
    p.send(p.client.message('paused'));
    const r = p.adapter.onBinary(new Uint8Array(4));
    expect(r.events).toHaveLength(2);
    expect(r.notices?.[0]?.msg).toContain('treated as resumed');
    expect(p.adapter.onBinary(new Uint8Array(4)).notices).toBeUndefined();
  });

  it('paused → resumed {start, discarded} resumes audio and keeps the discarded total; discarded is bookkept too', () => {
    const { adapter, client, send, replies } = opened();
    adapter.onBinary(new Uint8Array(1600)); // 0.1 s stereo
    client.samplesSent = 800;
    expect(send(client.message('paused')).notices?.[0]?.msg).toBe('AudioHook stream paused');
    const resumed = send(client.message('resumed', { start: 'PT0.1S', discarded: 'PT10S' }));
    expect(resumed.notices?.[0]?.fields).toMatchObject({ startS: 0.1, discardedS: 10, totalDiscardedS: 10 });
    expect(adapter.onBinary(new Uint8Array(320)).events).toHaveLength(2);
    const discarded = send(client.message('discarded', { start: 'PT6.3S', discarded: 'PT0.3S' }));
    expect(discarded.notices?.[0]?.fields).toMatchObject({ discardedS: 0.3, totalDiscardedS: 10.3 });
    expect(replies.map((r) => r.type)).toEqual(['opened']); // none of these is answered
  });

  it('logs a client error and an update without replying', () => {
    const { send, client, replies } = opened();
    expect(send(client.message('error', { code: 500, message: 'boom' })).notices?.[0]).toMatchObject({ level: 'warn', fields: { code: 500, message: 'boom' } });
    expect(send(client.message('update', { language: 'es-ES' })).notices?.[0]?.fields).toEqual({ language: 'es-ES' });
    expect(replies).toHaveLength(1);
  });
});

describe('AudioHook close, probe and disconnect', () => {
  it('close → closed (seq and clientseq right), stops the call as a hangup, ends the session', () => {
    const { send, client, replies } = opened();
    send(client.message('ping'));
    const r = send(client.message('close', { reason: 'end' }));
    expect(replies.at(-1)).toEqual({ version: '2', id: SESSION, type: 'closed', seq: 3, clientseq: 3, parameters: {} });
    expect(r.events).toEqual([{ kind: 'stop', callId: CONVERSATION, reason: 'hangup' }]);
    expect(r.endSession).toBe(true);
  });

  it('answers the connection probe (null conversationId) with opened and closed, creating no call', () => {
    const { send, client, replies, adapter } = setup();
    const open = send(client.openMessage({ organizationId: ORG, conversationId: '00000000-0000-0000-0000-000000000000', media: [PCMU_BOTH] }));
    expect(open.events).toEqual([]);
    expect(replies[0]).toMatchObject({ type: 'opened', seq: 1, clientseq: 1, parameters: { media: [PCMU_BOTH] } });
    const close = send(client.message('close', { reason: 'end' }));
    expect(close.events).toEqual([]);
    expect(replies[1]).toMatchObject({ type: 'closed', seq: 2, clientseq: 2 });
    expect(adapter.onClose('disconnect')).toEqual([]);
  });

  it('after its disconnect, still answers the client close with closed', () => {
    const { adapter, client, replies } = opened();
    const bye = JSON.parse(adapter.onFatal(new Error('model crashed'))[0]!) as ServerMessage;
    expect(bye).toMatchObject({ type: 'disconnect', seq: 2, parameters: { reason: 'error', info: 'UT_ERR_INTERNAL: internal error' } });
    client.received(JSON.stringify(bye));
    expect(adapter.onBinary(new Uint8Array(2)).events).toEqual([]);
    const r = adapter.onText(client.message('close', { reason: 'disconnect' }));
    expect(JSON.parse(r.replies![0]!)).toMatchObject({ type: 'closed', seq: 3, clientseq: 2 });
    expect(replies).toHaveLength(1);
  });

  it('reports an open call as stopped when the socket drops', () => {
    const { adapter } = opened();
    expect(adapter.onClose('disconnect')).toEqual([{ kind: 'stop', callId: CONVERSATION, reason: 'disconnect' }]);
    expect(adapter.onClose('disconnect')).toEqual([]);
  });
});
