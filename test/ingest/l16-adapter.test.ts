/**
 * L16 adapter against each gateway's documented first message: Vonage
 * `websocket:connected`, jambonz `listen`, FreeSWITCH mod_audio_fork.
 */
import { describe, expect, it } from 'vitest';
import type { CallStartEvent } from '../../src/ingest/call-event.js';
import { L16Adapter } from '../../src/ingest/l16-adapter.js';
import { ProtocolError } from '../../src/shared/errors.js';

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const start = (adapter: L16Adapter, first: unknown): CallStartEvent => adapter.onText(JSON.stringify(first)).events[0] as CallStartEvent;

describe('L16 first messages', () => {
  it('Vonage websocket:connected: rate from content-type, custom headers at top level', () => {
    const a = new L16Adapter();
    const s = start(a, { event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000', uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', agentId: 'agent-v', customerTier: 'gold', language: 'en-GB' });
    expect(s).toMatchObject({
      kind: 'start',
      callId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      agentId: 'agent-v',
      language: 'en-GB',
      tracks: ['caller'],
      format: { encoding: 'l16', sampleRate: 16000 },
      source: 'l16',
      metadata: { customerTier: 'gold', language: 'en-GB', gateway: 'vonage', mixType: 'mono' },
    });
    expect(a.onBinary(new Uint8Array(640)).events).toEqual([{ kind: 'audio', callId: s.callId, track: 'caller', payload: new Uint8Array(640) }]);
    expect(a.onText(JSON.stringify({ event: 'websocket:dtmf', digit: '5', duration: 260 })).events).toEqual([{ kind: 'dtmf', callId: s.callId, digit: '5' }]);
  });

  it('jambonz listen: callSid, sampleRate, stereo mixType, nested metadata; left = caller', () => {
    const a = new L16Adapter({ headers: { 'sec-websocket-protocol': 'audio.jambonz.org' } });
    const s = start(a, {
      callSid: '9fb35c28-9688-4531-943c-e280b04f3adf',
      from: '+15083084809',
      to: '+15083728299',
      direction: 'inbound',
      sampleRate: 8000,
      mixType: 'stereo',
      metadata: { agentId: 'agent-j', queue: 'billing', customerName: 'Ada' },
    });
    expect(s).toMatchObject({ callId: '9fb35c28-9688-4531-943c-e280b04f3adf', agentId: 'agent-j', tracks: ['caller', 'agent'], format: { encoding: 'l16', sampleRate: 8000 } });
    expect(s.metadata).toMatchObject({ from: '+15083084809', queue: 'billing', customerName: 'Ada', gateway: 'jambonz', mixType: 'stereo' });
    const r = a.onBinary(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(r.events).toEqual([
      { kind: 'audio', callId: s.callId, track: 'caller', payload: Uint8Array.from([1, 2, 5, 6]) },
      { kind: 'audio', callId: s.callId, track: 'agent', payload: Uint8Array.from([3, 4, 7, 8]) },
    ]);
  });

  it('mod_audio_fork: the operator metadata with uuid and "16k"', () => {
    const a = new L16Adapter({ headers: { 'sec-websocket-protocol': 'audio.drachtio.org' } });
    const s = start(a, { uuid: '5a6e1c7e-1b0a-4c1e-9a57-1d5e8f0c2b11', sampleRate: '16k', to: '6173333456', from: '2061236666', callid: 'sip-call-id' });
    expect(s).toMatchObject({ callId: '5a6e1c7e-1b0a-4c1e-9a57-1d5e8f0c2b11', format: { encoding: 'l16', sampleRate: 16000 }, metadata: { gateway: 'mod_audio_fork', to: '6173333456' } });
  });

  it('takes callId before callSid before uuid, and PCMU by content-type', () => {
    const s = start(new L16Adapter(), { callSid: 'b', uuid: 'c', callId: 'a', 'content-type': 'audio/pcmu;rate=8000' });
    expect(s.callId).toBe('a');
    expect(s.format).toEqual({ encoding: 'pcmu', sampleRate: 8000 });
  });

  it.each([
    ['not JSON', 'hello', 1007, /first message must be JSON call metadata/],
    ['a JSON array', '[1]', 1007, /must be a JSON object of call metadata/],
    ['no call id', JSON.stringify({ sampleRate: 8000 }), 1008, /names no call: give callId, callSid or uuid/],
    ['no format', JSON.stringify({ callSid: 'CA1' }), 1008, /gives no audio format/],
    ['an unsupported rate', JSON.stringify({ callSid: 'CA1', sampleRate: 11025 }), 1003, /unsupported L16 rate 11025/],
    ['an unsupported content-type', JSON.stringify({ callSid: 'CA1', 'content-type': 'audio/opus' }), 1003, /unsupported content-type/],
    ['contradicting rates', JSON.stringify({ callSid: 'CA1', 'content-type': 'audio/l16;rate=16000', sampleRate: 8000 }), 1007, /contradicts/],
    ['a bad mixType', JSON.stringify({ callSid: 'CA1', sampleRate: 8000, mixType: 'surround' }), 1007, /mixType/],
    ['a bad call id', JSON.stringify({ callSid: 'has space', sampleRate: 8000 }), 1007, /callSid/],
    ['another event first', JSON.stringify({ event: 'websocket:dtmf', digit: '1' }), 1008, /want websocket:connected/],
  ])('refuses a first message with %s, with a clear reason', (_what, text, code, reason) => {
    const e = thrown(() => new L16Adapter().onText(text));
    expect(e.closeCode).toBe(code);
    expect(e.message).toMatch(reason);
  });

  it('refuses audio before the first message', () => {
    expect(thrown(() => new L16Adapter().onBinary(new Uint8Array(320)))).toMatchObject({ closeCode: 1008, code: 'UT_ERR_NOT_STARTED' });
  });

  it('ends the call as a hangup on a normal close, as a disconnect otherwise', () => {
    const a = new L16Adapter();
    start(a, { callId: 'c1', sampleRate: 8000 });
    expect(a.onClose('disconnect', 1000)).toEqual([{ kind: 'stop', callId: 'c1', reason: 'hangup' }]);
    const b = new L16Adapter();
    start(b, { callId: 'c2', sampleRate: 8000 });
    expect(b.onClose('disconnect', 1006)).toEqual([{ kind: 'stop', callId: 'c2', reason: 'disconnect' }]);
  });

  it('logs and ignores other text events after the start', () => {
    const a = new L16Adapter();
    start(a, { callId: 'c1', sampleRate: 8000 });
    const r = a.onText(JSON.stringify({ event: 'websocket:notify', payload: 1 }));
    expect(r.events).toEqual([]);
    expect(r.notices?.[0]).toMatchObject({ level: 'info', fields: { event: 'websocket:notify' } });
  });
});
