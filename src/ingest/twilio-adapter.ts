/**
 * Twilio Media Streams (`<Connect><Stream>` and `<Start><Stream>`) → CallEvents.
 *
 * Twilio sends JSON text frames only: `connected`, `start`, then `media`
 * (base64 mu-law 8 kHz mono, one track per message), `dtmf`, `mark`, and a
 * final `stop`. Numeric-looking fields (`sequenceNumber`, `chunk`,
 * `timestamp`) are strings. Close codes follow the table in ingest-adapter.ts;
 * Twilio-specific choices:
 *
 * - unknown `event` → 1008 (`UT_ERR_UNKNOWN_EVENT`): a well-formed message the
 *   protocol does not define is a policy violation, not undecodable data.
 * - `mediaFormat` other than audio/x-mulaw 8000 Hz mono → 1003.
 * - `media`/`dtmf` before `start`, a second `start`, a `streamSid` that is not
 *   this stream's, media after `stop` → 1008.
 * - not JSON, missing/ill-typed fields, bad base64, invalid ids → 1007.
 * - any binary frame → 1003.
 * - `mark` is ignored; a repeated `stop` is ignored (Twilio closes right after).
 */
import { ProtocolError } from '../shared/errors.js';
import { isValidAgentId, isValidCallId } from '../shared/ids.js';
import { decodeStrictBase64 } from './base64.js';
import type { CallEvent, CallStartEvent, Track } from './call-event.js';
import type { IngestAdapter, IngestResult } from './ingest-adapter.js';

export const TWILIO_SOURCE = 'twilio';

/** Custom parameters with a meaning of their own; the rest go to `metadata`. */
const AGENT_PARAM = 'agentId';
const LANGUAGE_PARAM = 'language';

/** Loose BCP-47: a 2–3 letter language, then subtags. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;
const DTMF_DIGIT = /^[0-9*#A-Da-d]$/;
const NUMERIC_STRING = /^\d{1,15}$/;

const NO_EVENTS: IngestResult = Object.freeze({ events: [] }) as IngestResult;

type Phase = 'new' | 'connected' | 'started' | 'stopped';
type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('UT_ERR_INVALID_MESSAGE', 1007, message);
}

function outOfOrder(code: string, message: string): ProtocolError {
  return new ProtocolError(code, 1008, message);
}

function requireObject(parent: Json, key: string, event: string): Json {
  const value = parent[key];
  if (!isObject(value)) throw invalid(`${event}: '${key}' must be an object`);
  return value;
}

function requireString(parent: Json, key: string, event: string): string {
  const value = parent[key];
  if (typeof value !== 'string' || value === '') throw invalid(`${event}: '${key}' must be a non-empty string`);
  return value;
}

/** Twilio sends counters as digit strings; accept numbers too, reject anything else. */
function checkNumeric(parent: Json, key: string, event: string): void {
  const value = parent[key];
  if (value === undefined) return;
  if (typeof value === 'string' && NUMERIC_STRING.test(value)) return;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return;
  throw invalid(`${event}: '${key}' must be a numeric string`);
}

function mapTrack(value: unknown, event: string): Track {
  // Media messages say `inbound`/`outbound`; dtmf says `inbound_track`.
  if (value === 'inbound' || value === 'inbound_track') return 'caller';
  if (value === 'outbound' || value === 'outbound_track') return 'agent';
  throw invalid(`${event}: unknown track ${JSON.stringify(value)}`);
}

/** One Twilio Media Streams connection. */
export class TwilioAdapter implements IngestAdapter {
  readonly source = TWILIO_SOURCE;
  private phase: Phase = 'new';
  private streamSid = '';
  private callId = '';

  onText(text: string): IngestResult {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      throw new ProtocolError('UT_ERR_INVALID_JSON', 1007, 'message is not valid JSON');
    }
    if (!isObject(message)) throw invalid('message must be a JSON object');
    const event = message['event'];
    if (typeof event !== 'string') throw invalid("message has no string 'event'");
    checkNumeric(message, 'sequenceNumber', event);

    switch (event) {
      case 'connected':
        return this.onConnected();
      case 'start':
        return this.onStart(message);
      case 'media':
        return this.onMedia(message);
      case 'dtmf':
        return this.onDtmf(message);
      case 'mark':
        // Acknowledges audio we sent back; nothing for the pipeline.
        return NO_EVENTS;
      case 'stop':
        return this.onStop(message);
      default:
        throw new ProtocolError('UT_ERR_UNKNOWN_EVENT', 1008, `unknown event '${event.slice(0, 40)}'`);
    }
  }

  onBinary(_data: Uint8Array): IngestResult {
    throw new ProtocolError('UT_ERR_BINARY_FRAME', 1003, 'Twilio streams carry JSON text frames only');
  }

  onClose(reason: 'disconnect' | 'error'): CallEvent[] {
    if (this.phase !== 'started') return [];
    this.phase = 'stopped';
    return [{ kind: 'stop', callId: this.callId, reason }];
  }

  private onConnected(): IngestResult {
    if (this.phase !== 'new') throw outOfOrder('UT_ERR_UNEXPECTED_EVENT', `'connected' after the stream started`);
    this.phase = 'connected';
    return NO_EVENTS;
  }

  private onStart(message: Json): IngestResult {
    if (this.phase === 'started' || this.phase === 'stopped') {
      throw outOfOrder('UT_ERR_UNEXPECTED_EVENT', `second 'start' on one stream`);
    }
    const start = requireObject(message, 'start', 'start');
    const callId = requireString(start, 'callSid', 'start');
    if (!isValidCallId(callId)) throw invalid('start: callSid must be 1-128 characters of [A-Za-z0-9._-]');
    const streamSid = typeof message['streamSid'] === 'string' ? message['streamSid'] : requireString(start, 'streamSid', 'start');
    if (!isValidCallId(streamSid)) throw invalid('start: streamSid must be 1-128 characters of [A-Za-z0-9._-]');
    if (start['streamSid'] !== undefined && start['streamSid'] !== streamSid) {
      throw invalid('start: streamSid differs between message and start');
    }

    const tracksRaw = start['tracks'];
    if (!Array.isArray(tracksRaw) || tracksRaw.length === 0) throw invalid("start: 'tracks' must be a non-empty array");
    const tracks = [...new Set(tracksRaw.map((t) => mapTrack(t, 'start')))];

    const format = requireObject(start, 'mediaFormat', 'start');
    const encoding = format['encoding'];
    const sampleRate = Number(format['sampleRate']);
    const channels = Number(format['channels'] ?? 1);
    if (encoding !== 'audio/x-mulaw' || sampleRate !== 8000 || channels !== 1) {
      throw new ProtocolError(
        'UT_ERR_UNSUPPORTED_FORMAT',
        1003,
        `unsupported mediaFormat ${String(encoding)} ${String(format['sampleRate'])} Hz ${String(format['channels'])} ch (want audio/x-mulaw 8000 1)`,
      );
    }

    const params = start['customParameters'] ?? {};
    if (!isObject(params)) throw invalid("start: 'customParameters' must be an object");
    let agentId: string | undefined;
    let language: string | undefined;
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== 'string') throw invalid(`start: customParameters.${key.slice(0, 40)} must be a string`);
      if (key === AGENT_PARAM) {
        if (!isValidAgentId(value)) throw invalid('start: agentId must be 1-128 characters of [A-Za-z0-9._-]');
        agentId = value;
      } else if (key === LANGUAGE_PARAM) {
        if (!LANGUAGE_TAG.test(value)) throw invalid('start: language must be a BCP-47 tag such as en-US');
        language = value;
      } else {
        metadata[key] = value;
      }
    }
    if (typeof start['accountSid'] === 'string') metadata['accountSid'] = start['accountSid'];

    this.phase = 'started';
    this.streamSid = streamSid;
    this.callId = callId;
    const event: CallStartEvent = {
      kind: 'start',
      callId,
      streamId: streamSid,
      agentId,
      language,
      tracks,
      format: { encoding: 'pcmu', sampleRate: 8000 },
      metadata: Object.freeze(metadata),
      source: TWILIO_SOURCE,
    };
    return { events: [event] };
  }

  /** Media, dtmf and stop must belong to this connection's started stream. */
  private checkStarted(message: Json, event: string): void {
    if (this.phase === 'new' || this.phase === 'connected') {
      throw outOfOrder('UT_ERR_NOT_STARTED', `'${event}' before 'start'`);
    }
    if (this.phase === 'stopped') throw outOfOrder('UT_ERR_STREAM_STOPPED', `'${event}' after 'stop'`);
    const sid = message['streamSid'];
    if (sid !== undefined && sid !== this.streamSid) {
      throw outOfOrder('UT_ERR_STREAM_MISMATCH', `'${event}' for another streamSid`);
    }
  }

  private onMedia(message: Json): IngestResult {
    this.checkStarted(message, 'media');
    const media = requireObject(message, 'media', 'media');
    const track = mapTrack(media['track'] ?? 'inbound', 'media');
    checkNumeric(media, 'chunk', 'media');
    checkNumeric(media, 'timestamp', 'media');
    const payloadText = media['payload'];
    if (typeof payloadText !== 'string') throw invalid("media: 'payload' must be a string");
    const payload = decodeStrictBase64(payloadText);
    if (payload === undefined) throw new ProtocolError('UT_ERR_INVALID_BASE64', 1007, 'media: payload is not valid base64');
    if (payload.length === 0) return NO_EVENTS;
    return { events: [{ kind: 'audio', callId: this.callId, track, payload }] };
  }

  private onDtmf(message: Json): IngestResult {
    this.checkStarted(message, 'dtmf');
    const dtmf = requireObject(message, 'dtmf', 'dtmf');
    const digit = dtmf['digit'];
    if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw invalid("dtmf: 'digit' must be one of 0-9 * # A-D");
    return { events: [{ kind: 'dtmf', callId: this.callId, digit }] };
  }

  private onStop(message: Json): IngestResult {
    if (this.phase === 'stopped') return NO_EVENTS;
    this.checkStarted(message, 'stop');
    const stop = message['stop'];
    if (stop !== undefined && !isObject(stop)) throw invalid("stop: 'stop' must be an object");
    if (stop !== undefined && stop['callSid'] !== undefined && stop['callSid'] !== this.callId) {
      throw outOfOrder('UT_ERR_STREAM_MISMATCH', `'stop' for another callSid`);
    }
    this.phase = 'stopped';
    return { events: [{ kind: 'stop', callId: this.callId, reason: 'hangup' }] };
  }
}

/** `IngestAdapterFactory` for Twilio: one adapter per connection. */
export function createTwilioAdapter(): IngestAdapter {
  return new TwilioAdapter();
}
