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
 *
 * Twilio's cousins come through the same endpoint by field aliasing:
 * - **Telnyx** media streaming: snake_case `stream_id`, `sequence_number`,
 *   `start.call_control_id` (the call id; characters outside
 *   [A-Za-z0-9._-], such as the `:` of `v3:…`, become `_`; the original is
 *   kept as metadata `callControlId`), `start.media_format` {encoding
 *   PCMU | PCMA, sample_rate 8000, channels 1}, `start.custom_parameters`
 *   (object or [{name, value}]), `start.from`/`to`; `tracks` may be absent
 *   (the inbound track is assumed; media messages name theirs). Its `error`
 *   event is logged, not fatal.
 * - **SignalWire** is Twilio-shaped; `audio/x-alaw` (PCMA) is accepted too.
 */
import { ProtocolError } from '../shared/errors.js';
import { isValidAgentId, isValidCallId } from '../shared/ids.js';
import { decodeStrictBase64 } from './base64.js';
import type { CallEvent, CallStartEvent, Track } from './call-event.js';
import type { IngestAdapter, IngestResult } from './ingest-adapter.js';
import { MediaScan, scanMedia } from './twilio-media-scan.js';
import { trackOf } from './twilio-tracks.js';

export const TWILIO_SOURCE = 'twilio';

/** Custom parameters with a meaning of their own; the rest go to `metadata`. */
const AGENT_PARAM = 'agentId';
const LANGUAGE_PARAM = 'language';

/** Loose BCP-47: a 2–3 letter language, then subtags. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;
const DTMF_DIGIT = /^[0-9*#A-Da-d]$/;

/** 1–15 ASCII digits: a loop, not a regex, because three fields of every media message are checked. */
function isNumericString(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

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
  if (typeof value === 'string' && isNumericString(value)) return;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return;
  throw invalid(`${event}: '${key}' must be a numeric string`);
}

function mapTrack(value: unknown, event: string): Track {
  const track = trackOf(value);
  if (track === undefined) throw invalid(`${event}: unknown track ${JSON.stringify(value)}`);
  return track;
}

/** One media message's result: its audio, or nothing for an empty payload. */
function audioResult(callId: string, track: Track, payload: Uint8Array): IngestResult {
  if (payload.length === 0) return NO_EVENTS;
  return { events: [{ kind: 'audio', callId, track, payload }] };
}

export interface TwilioAdapterOptions {
  /**
   * Read compact `media` messages without `JSON.parse` (twilio-media-scan.ts;
   * default true). Off only to compare the two paths in tests.
   */
  mediaFastPath?: boolean;
}

/** One Twilio Media Streams connection. */
export class TwilioAdapter implements IngestAdapter {
  readonly source = TWILIO_SOURCE;
  private phase: Phase = 'new';
  private streamSid = '';
  private callId = '';
  private readonly fastPath: boolean;
  private readonly scan = new MediaScan();

  constructor(options: TwilioAdapterOptions = {}) {
    this.fastPath = options.mediaFastPath ?? true;
  }

  onText(text: string): IngestResult {
    if (this.fastPath && this.phase === 'started' && scanMedia(text, this.streamSid, this.scan)) {
      return audioResult(this.callId, this.scan.track, this.scan.payload);
    }
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
    checkNumeric(message, 'sequence_number', event);

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
      case 'error':
        // Telnyx reports stream problems in-band; the stream goes on or stops by itself.
        return { events: [], notices: [{ level: 'warn', msg: 'gateway reported a stream error', fields: { payload: JSON.stringify(message['payload'] ?? message['error'] ?? null).slice(0, 500) } }] };
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
    const telnyx = start['media_format'] !== undefined || message['stream_id'] !== undefined;
    let callId: string;
    const controlId = start['call_control_id'];
    if (start['callSid'] === undefined && start['call_sid'] === undefined && typeof controlId === 'string' && controlId !== '') {
      // Telnyx: `v3:…` ids carry characters that ids here (URLs, Redis job ids) do not allow.
      callId = controlId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128);
    } else {
      callId = typeof start['call_sid'] === 'string' && start['callSid'] === undefined ? start['call_sid'] : requireString(start, 'callSid', 'start');
      if (!isValidCallId(callId)) throw invalid('start: callSid must be 1-128 characters of [A-Za-z0-9._-]');
    }
    const topSid = message['streamSid'] ?? message['stream_id'] ?? message['stream_sid'];
    const innerSid = start['streamSid'] ?? start['stream_id'] ?? start['stream_sid'];
    const streamSid = typeof topSid === 'string' ? topSid : typeof innerSid === 'string' && innerSid !== '' ? innerSid : requireString(start, 'streamSid', 'start');
    if (!isValidCallId(streamSid)) throw invalid('start: streamSid must be 1-128 characters of [A-Za-z0-9._-]');
    if (innerSid !== undefined && innerSid !== streamSid) {
      throw invalid('start: streamSid differs between message and start');
    }

    const tracksRaw = start['tracks'] ?? (telnyx ? ['inbound'] : undefined);
    if (!Array.isArray(tracksRaw) || tracksRaw.length === 0) throw invalid("start: 'tracks' must be a non-empty array");
    const tracks = [...new Set(tracksRaw.map((t) => mapTrack(t, 'start')))];

    const format = start['mediaFormat'] !== undefined ? requireObject(start, 'mediaFormat', 'start') : requireObject(start, telnyx ? 'media_format' : 'mediaFormat', 'start');
    const encodingRaw = format['encoding'];
    const sampleRate = Number(format['sampleRate'] ?? format['sample_rate']);
    const channels = Number(format['channels'] ?? 1);
    const encoding = encodingRaw === 'audio/x-mulaw' || encodingRaw === 'PCMU' ? 'pcmu' : encodingRaw === 'audio/x-alaw' || encodingRaw === 'PCMA' ? 'pcma' : undefined;
    if (encoding === undefined || sampleRate !== 8000 || channels !== 1) {
      throw new ProtocolError(
        'UT_ERR_UNSUPPORTED_FORMAT',
        1003,
        `unsupported media format ${String(encodingRaw)} ${String(format['sampleRate'] ?? format['sample_rate'])} Hz ${String(format['channels'])} ch (want audio/x-mulaw, PCMU or PCMA, 8000 Hz, mono)`,
      );
    }

    let params = start['customParameters'] ?? start['custom_parameters'] ?? {};
    if (Array.isArray(params)) {
      // Telnyx Call Control passes custom parameters as [{name, value}].
      const entries: Json = {};
      for (const p of params) {
        if (!isObject(p) || typeof p['name'] !== 'string') throw invalid("start: custom parameters must be {name, value} pairs");
        entries[p['name']] = p['value'];
      }
      params = entries;
    }
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
        metadata[key] = value;
      } else {
        metadata[key] = value;
      }
    }
    if (typeof start['accountSid'] === 'string') metadata['accountSid'] = start['accountSid'];
    if (typeof controlId === 'string' && controlId !== callId) metadata['callControlId'] = controlId;
    for (const key of ['from', 'to'] as const) {
      const v = start[key];
      if (typeof v === 'string' && metadata[key] === undefined) metadata[key] = v;
    }

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
      format: { encoding, sampleRate: 8000 },
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
    const sid = message['streamSid'] ?? message['stream_id'] ?? message['stream_sid'];
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
    return audioResult(this.callId, track, payload);
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
