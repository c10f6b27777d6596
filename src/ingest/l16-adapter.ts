/**
 * Generic "one JSON text message, then binary audio" streams → CallEvents:
 *
 * - **Vonage** Voice API `connect` to a websocket endpoint: first message
 *   `{"event":"websocket:connected","content-type":"audio/l16;rate=16000", …headers}`
 *   (the NCCO's custom headers flattened at top level), then 20 ms binary
 *   frames (640 bytes at 16 kHz, 320 at 8 kHz); later text events such as
 *   `{"event":"websocket:dtmf","digit":"5","duration":260}`.
 * - **jambonz `listen`** (subprotocol `audio.jambonz.org`): first message the
 *   call attributes (`callSid`, `from`, `to`, …) plus `sampleRate`, `mixType`
 *   (mono | stereo | mixed) and the verb's `metadata` object; then binary only.
 * - **FreeSWITCH mod_audio_fork** (subprotocol `audio.drachtio.org`): the
 *   metadata given to `uuid_audio_fork … start <url> <mix> <rate> <metadata>`
 *   as the first text frame, then binary L16. The metadata is the
 *   operator's own JSON, so it must carry the call id and `sampleRate`.
 *
 * Audio: 16-bit little-endian PCM at 8000, 16000, 24000, 32000 or 48000 Hz
 * (resampled to 8 kHz with an anti-alias filter by the decoder), or PCMU at
 * 8000 Hz (`content-type: audio/pcmu`). Stereo (`mixType: stereo`) is split:
 * left = the caller (scored), right = the agent. `mixed` is one channel
 * holding both parties and is scored as the caller.
 *
 * From the first message (top level, then its `metadata` object): call id =
 * `callId` | `callSid` | `uuid` | `callid` (first present), agent = `agentId`,
 * script language = `language`, format = `content-type` or `sampleRate`
 * (`8000`, `"16000"`, `"16k"`). Every other scalar goes to the call's
 * metadata as a string (`customerTier`, `queue`, `from`, …).
 *
 * A first message that is not a JSON object, names no call, gives no or an
 * unsupported format is refused with a close code and a reason saying what
 * to send (1007 malformed, 1008 missing, 1003 unsupported). There is no stop
 * message: the gateway ends the stream by closing the socket (a normal close
 * ends the call as a hangup).
 */
import { StereoSplitter } from '../audio/deinterleave.js';
import { ProtocolError } from '../shared/errors.js';
import { isValidAgentId, isValidCallId } from '../shared/ids.js';
import type { AudioEncoding, CallEvent, CallStartEvent } from './call-event.js';
import type { IngestAdapter, IngestContext, IngestResult } from './ingest-adapter.js';

export const L16_SOURCE = 'l16';

const L16_RATES: ReadonlySet<number> = new Set([8000, 16000, 24000, 32000, 48000]);
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;
const DTMF_DIGIT = /^[0-9*#A-Da-d]$/;
const CALL_ID_FIELDS = ['callId', 'callSid', 'uuid', 'callid'] as const;
/** First-message fields with a meaning of their own: not copied into metadata. */
const CONSUMED = new Set(['event', 'content-type', 'sampleRate', 'mixType', 'agentId', 'metadata', ...CALL_ID_FIELDS]);
const SUBPROTOCOL_GATEWAY: Record<string, string> = { 'audio.jambonz.org': 'jambonz', 'audio.drachtio.org': 'mod_audio_fork' };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('UT_ERR_INVALID_MESSAGE', 1007, message);
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `8000`, `"16000"`, `"16k"` → Hz; NaN when unreadable. */
function parseRate(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const m = /^(\d+)(k?)$/i.exec(value.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] ? 1000 : 1);
}

/** `audio/l16;rate=16000` → {encoding, rate?}. */
function parseContentType(value: unknown): { encoding: AudioEncoding; rate: number | undefined } {
  if (typeof value !== 'string') throw invalid("'content-type' must be a string like audio/l16;rate=16000");
  const [type, ...params] = value.split(';').map((p) => p.trim().toLowerCase());
  let encoding: AudioEncoding;
  if (type === 'audio/l16') encoding = 'l16';
  else if (type === 'audio/pcmu' || type === 'audio/x-mulaw' || type === 'audio/basic') encoding = 'pcmu';
  else throw new ProtocolError('UT_ERR_UNSUPPORTED_FORMAT', 1003, `unsupported content-type '${value.slice(0, 60)}' (want audio/l16;rate=8000|16000 or audio/pcmu)`);
  let rate: number | undefined;
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k === 'rate') rate = parseRate(v ?? '');
  }
  return { encoding, rate };
}

/** One L16 stream connection. */
export class L16Adapter implements IngestAdapter {
  readonly source = L16_SOURCE;
  private phase: 'new' | 'started' | 'stopped' = 'new';
  private callId = '';
  private splitter: StereoSplitter | undefined;
  private readonly gateway: string | undefined;

  constructor(context?: IngestContext) {
    const proto = context?.headers['sec-websocket-protocol'];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim();
    this.gateway = first !== undefined ? SUBPROTOCOL_GATEWAY[first] : undefined;
  }

  onText(text: string): IngestResult {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      throw new ProtocolError('UT_ERR_INVALID_JSON', 1007, this.phase === 'new' ? 'first message must be JSON call metadata' : 'text message is not valid JSON');
    }
    if (this.phase === 'new') return { events: [this.start(message)] };
    if (!isObject(message)) throw invalid('text messages must be JSON objects');
    if (message['event'] === 'websocket:dtmf') {
      const digit = scalar(message['digit']);
      if (digit === undefined || !DTMF_DIGIT.test(digit)) throw invalid("websocket:dtmf: 'digit' must be one of 0-9 * # A-D");
      return this.phase === 'started' ? { events: [{ kind: 'dtmf', callId: this.callId, digit }] } : { events: [] };
    }
    // Other gateway events (Vonage notifications, …) carry nothing the pipeline uses; say so in the log.
    return { events: [], notices: [{ level: 'info', msg: 'L16 stream text event ignored', fields: { event: scalar(message['event'])?.slice(0, 60) } }] };
  }

  onBinary(data: Uint8Array): IngestResult {
    if (this.phase === 'new') throw new ProtocolError('UT_ERR_NOT_STARTED', 1008, 'audio before the first (JSON metadata) text message');
    if (this.phase === 'stopped' || data.length === 0) return { events: [] };
    if (this.splitter === undefined) return { events: [{ kind: 'audio', callId: this.callId, track: 'caller', payload: data }] };
    const [left, right] = this.splitter.push(data);
    const events: CallEvent[] = [];
    if (left.length > 0) events.push({ kind: 'audio', callId: this.callId, track: 'caller', payload: left });
    if (right.length > 0) events.push({ kind: 'audio', callId: this.callId, track: 'agent', payload: right });
    return { events };
  }

  onClose(reason: 'disconnect' | 'error', closeCode?: number): CallEvent[] {
    if (this.phase !== 'started') return [];
    this.phase = 'stopped';
    // No stop message in these protocols: a normal close is how the call ends.
    const normal = reason === 'disconnect' && (closeCode === 1000 || closeCode === 1001);
    return [{ kind: 'stop', callId: this.callId, reason: normal ? 'hangup' : reason }];
  }

  private start(message: unknown): CallStartEvent {
    if (!isObject(message)) throw invalid('first message must be a JSON object of call metadata');
    if (message['event'] !== undefined && message['event'] !== 'websocket:connected') {
      throw new ProtocolError('UT_ERR_NOT_STARTED', 1008, `first message is '${String(message['event']).slice(0, 40)}', want websocket:connected or call metadata`);
    }
    const nested = message['metadata'] ?? {};
    if (!isObject(nested)) throw invalid("'metadata' must be an object");
    const field = (name: string): unknown => message[name] ?? nested[name];

    let callId: string | undefined;
    for (const name of CALL_ID_FIELDS) {
      const v = field(name);
      if (v === undefined) continue;
      if (typeof v !== 'string' || !isValidCallId(v)) throw invalid(`'${name}' must be 1-128 characters of [A-Za-z0-9._-]`);
      callId = v;
      break;
    }
    if (callId === undefined) throw new ProtocolError('UT_ERR_NO_CALL_ID', 1008, 'first message names no call: give callId, callSid or uuid');

    const agentRaw = field('agentId');
    if (agentRaw !== undefined && (typeof agentRaw !== 'string' || !isValidAgentId(agentRaw))) throw invalid("'agentId' must be 1-128 characters of [A-Za-z0-9._-]");
    const languageRaw = field('language');
    if (languageRaw !== undefined && (typeof languageRaw !== 'string' || !LANGUAGE_TAG.test(languageRaw))) throw invalid("'language' must be a BCP-47 tag such as en-US");

    const contentType = field('content-type');
    const sampleRateRaw = field('sampleRate');
    if (contentType === undefined && sampleRateRaw === undefined) {
      throw new ProtocolError('UT_ERR_NO_FORMAT', 1008, "first message gives no audio format: add 'content-type' (audio/l16;rate=16000) or 'sampleRate'");
    }
    let encoding: AudioEncoding = 'l16';
    let rate: number | undefined;
    if (contentType !== undefined) ({ encoding, rate } = parseContentType(contentType));
    if (sampleRateRaw !== undefined) {
      const r = parseRate(sampleRateRaw);
      if (!Number.isFinite(r)) throw invalid("'sampleRate' must be a number of Hz such as 8000 or 16000");
      if (rate !== undefined && rate !== r) throw invalid(`'sampleRate' ${r} contradicts content-type rate ${rate}`);
      rate = r;
    }
    rate ??= 8000;
    if (encoding === 'l16' ? !L16_RATES.has(rate) : rate !== 8000) {
      throw new ProtocolError('UT_ERR_UNSUPPORTED_FORMAT', 1003, `unsupported ${encoding === 'l16' ? 'L16' : 'PCMU'} rate ${rate} Hz (L16: 8000, 16000, 24000, 32000, 48000; PCMU: 8000)`);
    }
    const mixType = field('mixType') ?? 'mono';
    if (mixType !== 'mono' && mixType !== 'mixed' && mixType !== 'stereo') throw invalid("'mixType' must be mono, mixed or stereo");

    const metadata: Record<string, string> = {};
    for (const source of [nested, message]) {
      for (const [key, value] of Object.entries(source)) {
        const s = scalar(value);
        if (s !== undefined && !CONSUMED.has(key) && metadata[key] === undefined) metadata[key] = s;
      }
    }
    const gateway = message['event'] === 'websocket:connected' ? 'vonage' : this.gateway;
    if (gateway !== undefined) metadata['gateway'] = gateway;
    metadata['mixType'] = mixType;

    this.phase = 'started';
    this.callId = callId;
    if (mixType === 'stereo') this.splitter = new StereoSplitter(encoding === 'l16' ? 2 : 1);
    return {
      kind: 'start',
      callId,
      streamId: callId,
      agentId: agentRaw as string | undefined,
      language: languageRaw as string | undefined,
      tracks: mixType === 'stereo' ? ['caller', 'agent'] : ['caller'],
      format: { encoding, sampleRate: rate },
      metadata: Object.freeze(metadata),
      source: L16_SOURCE,
    };
  }
}

/** `IngestAdapterFactory` for L16 streams: one adapter per connection. */
export function createL16Adapter(context: IngestContext): IngestAdapter {
  return new L16Adapter(context);
}
