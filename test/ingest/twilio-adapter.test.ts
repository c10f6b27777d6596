import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/ingest/call-event.js';
import { createTwilioAdapter } from '../../src/ingest/twilio-adapter.js';
import { ProtocolError } from '../../src/shared/errors.js';
import {
  ACCOUNT_SID,
  connectedMsg,
  dtmfMsg,
  markMsg,
  mediaMsg,
  startMsg,
  stopMsg,
  twilioIds,
} from './twilio-fixtures.js';

const ids = twilioIds('a1');

/** An adapter that has seen connected + start. */
function started(opts: Parameters<typeof startMsg>[1] = {}) {
  const adapter = createTwilioAdapter();
  adapter.onText(connectedMsg());
  adapter.onText(startMsg(ids, opts));
  return adapter;
}

function expectProtocolError(fn: () => unknown, closeCode: number, code: string): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const e = caught as ProtocolError;
  expect({ closeCode: e.closeCode, code: e.code }).toEqual({ closeCode, code });
  return e;
}

describe('Twilio adapter: the happy path', () => {
  it('ignores connected and turns start into a CallStartEvent', () => {
    const adapter = createTwilioAdapter();
    expect(adapter.source).toBe('twilio');
    expect(adapter.onText(connectedMsg()).events).toEqual([]);
    const { events } = adapter.onText(startMsg(ids, { agentId: 'agent-7', language: 'zh-CN', extra: { queue: 'billing' } }));
    expect(events).toEqual([
      {
        kind: 'start',
        callId: ids.callSid,
        streamId: ids.streamSid,
        agentId: 'agent-7',
        language: 'zh-CN',
        tracks: ['caller'],
        format: { encoding: 'pcmu', sampleRate: 8000 },
        metadata: { queue: 'billing', accountSid: ACCOUNT_SID, language: 'zh-CN' },
        source: 'twilio',
      },
    ]);
  });

  it('leaves agentId and language undefined when the gateway does not pass them', () => {
    const { events } = createTwilioAdapter().onText(startMsg(ids));
    expect(events[0]).toMatchObject({ kind: 'start', agentId: undefined, language: undefined });
  });

  it('maps both tracks and accepts a string sampleRate', () => {
    const adapter = createTwilioAdapter();
    const { events } = adapter.onText(
      startMsg(ids, { tracks: ['inbound', 'outbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: '8000', channels: '1' } }),
    );
    expect(events[0]).toMatchObject({ tracks: ['caller', 'agent'] });
  });

  it('decodes media payloads byte for byte, inbound = caller, outbound = agent', () => {
    const adapter = started({ tracks: ['inbound', 'outbound'] });
    const bytes = Uint8Array.from({ length: 160 }, (_, i) => (i * 7) & 0xff);
    const inbound = adapter.onText(mediaMsg(ids, bytes, 2)).events;
    expect(inbound).toHaveLength(1);
    const ev = inbound[0] as Extract<CallEvent, { kind: 'audio' }>;
    expect(ev).toMatchObject({ kind: 'audio', callId: ids.callSid, track: 'caller' });
    expect([...ev.payload]).toEqual([...bytes]);
    const outbound = adapter.onText(mediaMsg(ids, bytes.subarray(0, 33), 3, 'outbound')).events;
    expect(outbound[0]).toMatchObject({ kind: 'audio', track: 'agent' });
    expect((outbound[0] as Extract<CallEvent, { kind: 'audio' }>).payload.length).toBe(33);
  });

  it('produces no event for an empty payload', () => {
    expect(started().onText(mediaMsg(ids, '', 2)).events).toEqual([]);
  });

  it('passes dtmf through and ignores marks', () => {
    const adapter = started();
    expect(adapter.onText(dtmfMsg(ids, '#', 3)).events).toEqual([{ kind: 'dtmf', callId: ids.callSid, digit: '#' }]);
    expect(adapter.onText(markMsg(ids, 4)).events).toEqual([]);
  });

  it('turns stop into a hangup once; a repeated stop is ignored', () => {
    const adapter = started();
    expect(adapter.onText(stopMsg(ids, 9)).events).toEqual([{ kind: 'stop', callId: ids.callSid, reason: 'hangup' }]);
    expect(adapter.onText(stopMsg(ids, 10)).events).toEqual([]);
    expect(adapter.onClose('disconnect')).toEqual([]);
  });

  it('reports a started, unstopped stream as stopped on close', () => {
    expect(started().onClose('disconnect')).toEqual([{ kind: 'stop', callId: ids.callSid, reason: 'disconnect' }]);
    const adapter = started();
    expect(adapter.onClose('error')).toEqual([{ kind: 'stop', callId: ids.callSid, reason: 'error' }]);
    expect(adapter.onClose('disconnect')).toEqual([]);
    expect(createTwilioAdapter().onClose('disconnect')).toEqual([]);
  });

  it('accepts start without a preceding connected', () => {
    expect(createTwilioAdapter().onText(startMsg(ids)).events).toHaveLength(1);
  });
});

describe('Twilio adapter: bad input', () => {
  it('rejects text that is not JSON with 1007', () => {
    expectProtocolError(() => createTwilioAdapter().onText('{"event":"media",'), 1007, 'UT_ERR_INVALID_JSON');
    expectProtocolError(() => createTwilioAdapter().onText('hello'), 1007, 'UT_ERR_INVALID_JSON');
  });

  it.each([
    ['an array', '[1,2]'],
    ['a string', '"start"'],
    ['null', 'null'],
    ['no event', '{"streamSid":"MZ1"}'],
    ['a numeric event', '{"event":3}'],
  ])('rejects %s with 1007', (_n, text) => {
    expectProtocolError(() => createTwilioAdapter().onText(text), 1007, 'UT_ERR_INVALID_MESSAGE');
  });

  it('rejects an unknown event with 1008', () => {
    const e = expectProtocolError(() => started().onText('{"event":"clear","streamSid":"MZ1"}'), 1008, 'UT_ERR_UNKNOWN_EVENT');
    expect(e.message).toContain('clear');
  });

  it('rejects media, dtmf and stop before start with 1008', () => {
    const adapter = createTwilioAdapter();
    adapter.onText(connectedMsg());
    expectProtocolError(() => adapter.onText(mediaMsg(ids, new Uint8Array(160), 2)), 1008, 'UT_ERR_NOT_STARTED');
    expectProtocolError(() => createTwilioAdapter().onText(dtmfMsg(ids, '1', 2)), 1008, 'UT_ERR_NOT_STARTED');
    expectProtocolError(() => createTwilioAdapter().onText(stopMsg(ids, 2)), 1008, 'UT_ERR_NOT_STARTED');
  });

  it('rejects a second start and a late connected with 1008', () => {
    expectProtocolError(() => started().onText(startMsg(ids)), 1008, 'UT_ERR_UNEXPECTED_EVENT');
    expectProtocolError(() => started().onText(connectedMsg()), 1008, 'UT_ERR_UNEXPECTED_EVENT');
  });

  it('rejects media after stop with 1008', () => {
    const adapter = started();
    adapter.onText(stopMsg(ids, 3));
    expectProtocolError(() => adapter.onText(mediaMsg(ids, new Uint8Array(160), 4)), 1008, 'UT_ERR_STREAM_STOPPED');
  });

  it("rejects another stream's media or stop with 1008", () => {
    const other = twilioIds('b2');
    expectProtocolError(() => started().onText(mediaMsg(other, new Uint8Array(160), 2)), 1008, 'UT_ERR_STREAM_MISMATCH');
    const stopOther = JSON.stringify({ event: 'stop', streamSid: ids.streamSid, stop: { accountSid: ACCOUNT_SID, callSid: other.callSid } });
    expectProtocolError(() => started().onText(stopOther), 1008, 'UT_ERR_STREAM_MISMATCH');
  });

  it.each([
    ['missing padding', '//8'],
    ['url-safe alphabet', '-_-_'],
    ['embedded space', '//// ////'],
    ['a stray character', '////*///'],
  ])('rejects a %s base64 payload with 1007', (_n, payload) => {
    expectProtocolError(() => started().onText(mediaMsg(ids, payload, 2)), 1007, 'UT_ERR_INVALID_BASE64');
  });

  it('rejects a non-string payload and an unknown track with 1007', () => {
    const numeric = JSON.stringify({ event: 'media', streamSid: ids.streamSid, media: { track: 'inbound', payload: 5 } });
    expectProtocolError(() => started().onText(numeric), 1007, 'UT_ERR_INVALID_MESSAGE');
    expectProtocolError(() => started().onText(mediaMsg(ids, '/w==', 2, 'sideways')), 1007, 'UT_ERR_INVALID_MESSAGE');
    const noMedia = JSON.stringify({ event: 'media', streamSid: ids.streamSid });
    expectProtocolError(() => started().onText(noMedia), 1007, 'UT_ERR_INVALID_MESSAGE');
  });

  it('rejects non-numeric counters with 1007 (Twilio sends digit strings)', () => {
    const bad = JSON.stringify({ event: 'connected', sequenceNumber: 'one' });
    expectProtocolError(() => createTwilioAdapter().onText(bad), 1007, 'UT_ERR_INVALID_MESSAGE');
    const badChunk = JSON.stringify({ event: 'media', streamSid: ids.streamSid, media: { track: 'inbound', chunk: '1x', timestamp: '0', payload: '/w==' } });
    expectProtocolError(() => started().onText(badChunk), 1007, 'UT_ERR_INVALID_MESSAGE');
  });

  it('rejects an invalid dtmf digit with 1007', () => {
    expectProtocolError(() => started().onText(dtmfMsg(ids, '12', 2)), 1007, 'UT_ERR_INVALID_MESSAGE');
  });

  it('rejects any binary frame with 1003', () => {
    expectProtocolError(() => started().onBinary(new Uint8Array(160)), 1003, 'UT_ERR_BINARY_FRAME');
  });

  it.each([
    ['Opus', { encoding: 'audio/opus', sampleRate: 8000, channels: 1 }],
    ['16 kHz', { encoding: 'audio/x-mulaw', sampleRate: 16000, channels: 1 }],
    ['stereo', { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 2 }],
    ['L16', { encoding: 'audio/l16', sampleRate: 8000, channels: 1 }],
  ])('rejects a %s mediaFormat with 1003', (_n, mediaFormat) => {
    const e = expectProtocolError(() => createTwilioAdapter().onText(startMsg(ids, { mediaFormat })), 1003, 'UT_ERR_UNSUPPORTED_FORMAT');
    expect(e.message).toContain('want audio/x-mulaw, PCMU or PCMA, 8000 Hz, mono');
  });

  it.each([
    ['no start object', JSON.stringify({ event: 'start', streamSid: ids.streamSid })],
    ['no callSid', JSON.stringify({ event: 'start', streamSid: ids.streamSid, start: { tracks: ['inbound'], mediaFormat: {} } })],
    ['a callSid with slashes', startMsg({ callSid: 'CA/../x', streamSid: ids.streamSid })],
    ['no tracks', JSON.stringify({ event: 'start', streamSid: ids.streamSid, start: { callSid: ids.callSid, tracks: [], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } })],
    ['an unknown track', startMsg(ids, { tracks: ['inbound', 'sideways'] })],
    ['no mediaFormat', JSON.stringify({ event: 'start', streamSid: ids.streamSid, start: { callSid: ids.callSid, tracks: ['inbound'] } })],
    ['an invalid agentId', startMsg(ids, { agentId: 'agent 7; drop' })],
    ['an over-long agentId', startMsg(ids, { agentId: 'a'.repeat(129) })],
    ['an invalid language', startMsg(ids, { language: 'english please' })],
    ['a non-string custom parameter', JSON.stringify({ event: 'start', streamSid: ids.streamSid, start: { callSid: ids.callSid, tracks: ['inbound'], customParameters: { agentId: 7 }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } })],
    ['differing streamSids', JSON.stringify({ event: 'start', streamSid: ids.streamSid, start: { streamSid: 'MZother', callSid: ids.callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } })],
  ])('rejects a start with %s with 1007', (_n, text) => {
    expectProtocolError(() => createTwilioAdapter().onText(text), 1007, 'UT_ERR_INVALID_MESSAGE');
  });

  it('still reports the open call as stopped after a rejected message', () => {
    // The contract: a ProtocolError ends the connection. The adapter still
    // reports the open call as stopped so the session is finalised.
    const adapter = started();
    expect(() => adapter.onText('nope')).toThrow(ProtocolError);
    expect(adapter.onClose('error')).toEqual([{ kind: 'stop', callId: ids.callSid, reason: 'error' }]);
  });
});

describe("Twilio's cousins through the same adapter", () => {
  // Telnyx media streaming, shaped as in Telnyx's documentation (snake_case).
  const telnyxStart = (encoding: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_id: '32de0dea-53cb-4b21-89a4-9e1819c043bc',
      start: {
        user_id: '3e6f995f-85f7-4705-9741-53b116d28237',
        call_control_id: 'v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg',
        client_state: 'aGF2ZSBhIG5pY2UgZGF5ID1d',
        from: '+13122010094',
        to: '+13122123456',
        media_format: { encoding, sample_rate: 8000, channels: 1 },
        ...extra,
      },
    });

  it('Telnyx: snake_case start with PCMA, call_control_id as the call id, custom parameters as {name, value} pairs', () => {
    const adapter = createTwilioAdapter();
    expect(adapter.onText(JSON.stringify({ event: 'connected', version: '1.0.0' })).events).toEqual([]);
    const { events } = adapter.onText(telnyxStart('PCMA', { custom_parameters: [{ name: 'agentId', value: 'agent-t' }, { name: 'customerTier', value: 'gold' }] }));
    expect(events[0]).toMatchObject({
      kind: 'start',
      callId: 'v3_MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg',
      streamId: '32de0dea-53cb-4b21-89a4-9e1819c043bc',
      agentId: 'agent-t',
      tracks: ['caller'],
      format: { encoding: 'pcma', sampleRate: 8000 },
      metadata: { customerTier: 'gold', callControlId: 'v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg', from: '+13122010094', to: '+13122123456' },
    });
    const payload = Buffer.from([0xd5, 0xd5, 0x55]).toString('base64');
    const media = adapter.onText(JSON.stringify({ event: 'media', sequence_number: '2', stream_id: '32de0dea-53cb-4b21-89a4-9e1819c043bc', media: { track: 'inbound', chunk: '1', timestamp: '5', payload } }));
    expect(media.events).toEqual([{ kind: 'audio', callId: 'v3_MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg', track: 'caller', payload: Uint8Array.from([0xd5, 0xd5, 0x55]) }]);
    expect(() => adapter.onText(JSON.stringify({ event: 'media', stream_id: 'other', media: { track: 'inbound', payload } }))).toThrow(/another streamSid/);
    expect(adapter.onText(JSON.stringify({ event: 'error', stream_id: '32de0dea-53cb-4b21-89a4-9e1819c043bc', payload: { code: 100002, title: 'Unknown error' } })).notices?.[0]).toMatchObject({ level: 'warn' });
    const stop = adapter.onText(JSON.stringify({ event: 'stop', sequence_number: '5', stream_id: '32de0dea-53cb-4b21-89a4-9e1819c043bc', stop: { user_id: 'u', call_control_id: 'v3:x' } }));
    expect(stop.events).toEqual([{ kind: 'stop', callId: 'v3_MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg', reason: 'hangup' }]);
  });

  it('Telnyx: PCMU too; G722 and 16 kHz are refused with 1003', () => {
    expect(createTwilioAdapter().onText(telnyxStart('PCMU')).events[0]).toMatchObject({ format: { encoding: 'pcmu', sampleRate: 8000 } });
    expectProtocolError(() => createTwilioAdapter().onText(telnyxStart('G722')), 1003, 'UT_ERR_UNSUPPORTED_FORMAT');
  });

  it('SignalWire (Twilio-shaped) with audio/x-alaw', () => {
    const { events } = createTwilioAdapter().onText(startMsg(ids, { mediaFormat: { encoding: 'audio/x-alaw', sampleRate: 8000, channels: 1 } }));
    expect(events[0]).toMatchObject({ callId: ids.callSid, format: { encoding: 'pcma', sampleRate: 8000 } });
  });
});
