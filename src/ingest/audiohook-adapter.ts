/**
 * Genesys Cloud AudioHook (protocol version 2) → CallEvents, and the
 * protocol's own answers (`opened`, `pong`, `closed`, `disconnect`).
 *
 * Audio after `paused` without `resumed` is taken as the end of the pause
 * (Genesys's reference client resumes that way) and logged.
 *
 * Flow: the client sends `open` (offered media); we pick one entry and answer
 * `opened`; binary frames then carry the audio, samples interleaved in the
 * chosen channel order (external = customer → `caller`, the one scored;
 * internal = agent → `agent`). `ping` → `pong`; `update`, `paused`,
 * `resumed`, `discarded`, `error` are bookkept and logged (no reply, as in
 * Genesys's reference server); `close` → `closed`, and the client closes
 * the socket. An `open` whose conversationId is the null UUID is the
 * connection probe: answered `opened`, no call is created.
 *
 * Sequence numbers: each side's `seq` starts at 1 and rises by one per text
 * message; a client message whose `seq` is not the last plus one, whose
 * `serverseq` is ahead of what we sent, or whose `id` is not the session's
 * ends the session. Every such error (and malformed JSON, audio before
 * `opened`, a frame that is not whole samples) is thrown as a
 * `ProtocolError`; the socket handler then calls `onFatal`, which answers
 * with `disconnect` {reason: "error" (or "unauthorized" for an organization
 * mismatch), info}, and waits for the client's `close`.
 *
 * Ids: the call id is `conversationId`; the agent is `customConfig.agentId`
 * (or set later through `PUT /v1/calls/:callId/agent`); the script language
 * is `language` (else `customConfig.language`). customConfig scalars and the
 * participant (ani, aniName → customerName, dnis) go to the call's metadata.
 */
import { CapacityError, ProtocolError, UndertoneError } from '../shared/errors.js';
import { isValidAgentId, isValidCallId } from '../shared/ids.js';
import {
  formatDuration,
  isObject,
  isUuid,
  malformed,
  NULL_UUID,
  openMetadata,
  outOfProtocol,
  parseClientMessage,
  parseDuration,
  selectMedia,
  serverMessage,
  type ClientMessage,
  type Json,
  type MediaEntry,
} from './audiohook-messages.js';
import type { CallEvent, CallStartEvent, Track } from './call-event.js';
import type { IngestAdapter, IngestContext, IngestNotice, IngestResult } from './ingest-adapter.js';

export const AUDIOHOOK_SOURCE = 'audiohook';

const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;
/** Answer to `open` {supportedLanguages: true}: the calming-script languages (src/playbooks). */
const SUPPORTED_LANGUAGES = ['en-US', 'zh-CN'];

type Phase = 'new' | 'probe' | 'active' | 'paused' | 'closed' | 'disconnected';

function header(context: IngestContext | undefined, name: string): string | undefined {
  const v = context?.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** One AudioHook session (one WebSocket connection). */
export class AudiohookAdapter implements IngestAdapter {
  readonly source = AUDIOHOOK_SOURCE;
  private phase: Phase = 'new';
  private sessionId: string | undefined;
  private readonly organizationId: string | undefined;
  private readonly correlationId: string | undefined;
  /** Last seq we sent / last client seq seen. */
  private seq = 0;
  private clientseq = 0;
  private callId: string | undefined;
  private callStopped = false;
  private media: MediaEntry | undefined;
  private frameBytes = 1;
  /** Sample frames received (per channel): our own audio position. */
  private receivedSamples = 0;
  private discardedS = 0;
  private pauses = 0;

  constructor(context?: IngestContext) {
    const session = header(context, 'audiohook-session-id');
    this.sessionId = isUuid(session) ? session.toLowerCase() : undefined;
    this.organizationId = header(context, 'audiohook-organization-id');
    this.correlationId = header(context, 'audiohook-correlation-id');
  }

  /** Audio received so far, seconds (sample frames / 8000). */
  get positionS(): number {
    return this.receivedSamples / 8000;
  }

  onText(text: string): IngestResult {
    if (this.phase === 'disconnected' || this.phase === 'closed') return this.afterEnd(text);
    const msg = parseClientMessage(text);
    if (msg.seq !== this.clientseq + 1) {
      throw outOfProtocol('UT_ERR_SEQUENCE', `invalid seq ${msg.seq} (expected ${this.clientseq + 1})`);
    }
    this.clientseq = msg.seq;
    if (msg.serverseq > this.seq) throw outOfProtocol('UT_ERR_SEQUENCE', `serverseq ${msg.serverseq} is ahead of the last server seq ${this.seq}`);
    if (this.sessionId === undefined) this.sessionId = msg.id.toLowerCase();
    else if (msg.id.toLowerCase() !== this.sessionId) throw outOfProtocol('UT_ERR_SESSION_MISMATCH', 'message id is not this session id');

    switch (msg.type) {
      case 'open':
        return this.onOpen(msg);
      case 'ping':
        return { events: [], replies: [this.send('pong')] };
      case 'update':
        return this.onUpdate(msg);
      case 'paused':
        return this.onPaused(msg);
      case 'resumed':
        return this.onResumed(msg);
      case 'discarded':
        return this.onDiscarded(msg);
      case 'error':
        return this.onClientError(msg);
      case 'close':
        return this.onCloseMessage(msg);
    }
  }

  onBinary(data: Uint8Array): IngestResult {
    if (this.phase === 'disconnected' || this.phase === 'closed') return { events: [] };
    if (this.phase === 'new') throw outOfProtocol('UT_ERR_NOT_STARTED', "audio before 'opened'");
    if (this.phase === 'probe') throw outOfProtocol('UT_ERR_UNEXPECTED_EVENT', 'audio on a connection probe');
    let notices: IngestNotice[] | undefined;
    if (this.phase === 'paused') {
      // Genesys's reference client resumes its audio without sending `resumed`:
      // audio after `paused` means the pause is over; score it rather than drop the call.
      this.phase = 'active';
      notices = [{ level: 'info', msg: "AudioHook audio after 'paused' without 'resumed': treated as resumed", fields: { receivedS: this.positionS } }];
    }
    if (data.length % this.frameBytes !== 0) {
      throw malformed(`audio frame of ${data.length} bytes is not a whole number of ${this.frameBytes}-byte samples`);
    }
    const media = this.media!;
    const samples = data.length / this.frameBytes;
    this.receivedSamples += samples;
    // Per audio frame: no object spread; `notices` is added only on the rare frame that has one.
    const result: IngestResult = { events: [] };
    if (notices !== undefined) result.notices = notices;
    if (samples === 0) return result;
    const callId = this.callId!;
    if (media.channels.length === 1) {
      result.events.push({ kind: 'audio', callId, track: channelTrack(media.channels[0]!), payload: data });
      return result;
    }
    const bytesPerSample = this.frameBytes / 2;
    // Both channels in one new buffer (two views): one allocation per frame, not two.
    const split = new Uint8Array(data.length);
    const first = split.subarray(0, samples * bytesPerSample);
    const second = split.subarray(samples * bytesPerSample);
    for (let i = 0, o = 0; o < first.length; i += this.frameBytes, o += bytesPerSample) {
      for (let b = 0; b < bytesPerSample; b++) {
        first[o + b] = data[i + b]!;
        second[o + b] = data[i + bytesPerSample + b]!;
      }
    }
    result.events.push(
      { kind: 'audio', callId, track: channelTrack(media.channels[0]!), payload: first },
      { kind: 'audio', callId, track: channelTrack(media.channels[1]!), payload: second },
    );
    return result;
  }

  onClose(reason: 'disconnect' | 'error'): CallEvent[] {
    return this.stopCall(reason);
  }

  onFatal(error: unknown): string[] {
    if (this.phase === 'closed' || this.phase === 'disconnected') return [];
    this.phase = 'disconnected';
    const unauthorized = error instanceof UndertoneError && error.code === 'UT_ERR_UNAUTHORIZED';
    let info: string;
    if (error instanceof ProtocolError || error instanceof CapacityError) info = `${error.code}: ${error.message}`;
    else if (error instanceof UndertoneError) info = `${error.code}: internal error`;
    else info = 'UT_ERR_INTERNAL: internal error';
    return [this.send('disconnect', { reason: unauthorized ? 'unauthorized' : 'error', info })];
  }

  private send(type: string, parameters: Json = {}): string {
    this.seq += 1;
    return serverMessage(this.sessionId ?? NULL_UUID, type, this.seq, this.clientseq, parameters);
  }

  private stopCall(reason: 'hangup' | 'disconnect' | 'error'): CallEvent[] {
    if (this.callId === undefined || this.callStopped) return [];
    this.callStopped = true;
    return [{ kind: 'stop', callId: this.callId, reason }];
  }

  /** After our `disconnect` or the `closed` handshake only a (late) `close` matters. */
  private afterEnd(text: string): IngestResult {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return { events: [] };
    }
    if (!isObject(msg) || msg['type'] !== 'close' || this.phase === 'closed') {
      return { events: [], notices: [{ level: 'debug', msg: 'AudioHook message after the session ended ignored', fields: { type: isObject(msg) ? msg['type'] : undefined } }] };
    }
    if (typeof msg['seq'] === 'number') this.clientseq = msg['seq'];
    this.phase = 'closed';
    return { events: [], replies: [this.send('closed')], endSession: true };
  }

  private onOpen(msg: ClientMessage): IngestResult {
    if (this.phase !== 'new') throw outOfProtocol('UT_ERR_UNEXPECTED_EVENT', "second 'open' on one session");
    const p = msg.parameters;
    const organizationId = p['organizationId'];
    const conversationId = p['conversationId'];
    if (!isUuid(organizationId)) throw malformed("open: 'organizationId' must be a UUID");
    if (!isUuid(conversationId)) throw malformed("open: 'conversationId' must be a UUID");
    if (this.organizationId !== undefined && this.organizationId.toLowerCase() !== organizationId.toLowerCase()) {
      throw new ProtocolError('UT_ERR_UNAUTHORIZED', 1008, 'organizationId differs from the Audiohook-Organization-Id header');
    }
    const participant = p['participant'] ?? {};
    if (!isObject(participant)) throw malformed("open: 'participant' must be an object");
    const customConfig = p['customConfig'] ?? {};
    if (!isObject(customConfig)) throw malformed("open: 'customConfig' must be an object");

    const media = selectMedia(p['media']);
    if (media === undefined) {
      throw new ProtocolError('UT_ERR_UNSUPPORTED_FORMAT', 1003, 'open: no offered media is PCMU or L16 at 8000 Hz with external/internal channels');
    }
    this.media = media;
    this.frameBytes = media.channels.length * (media.format === 'L16' ? 2 : 1);
    const opened = this.send('opened', { media: [media], startPaused: false, ...(p['supportedLanguages'] === true ? { supportedLanguages: SUPPORTED_LANGUAGES } : {}) });
    if (conversationId === NULL_UUID) {
      this.phase = 'probe';
      return { events: [], replies: [opened], notices: [{ level: 'info', msg: 'AudioHook connection probe answered' }] };
    }

    if (!isValidCallId(conversationId)) throw malformed('open: conversationId is not a usable call id');
    const agentRaw = customConfig['agentId'];
    let agentId: string | undefined;
    if (agentRaw !== undefined) {
      if (typeof agentRaw !== 'string' || !isValidAgentId(agentRaw)) throw malformed('open: customConfig.agentId must be 1-128 characters of [A-Za-z0-9._-]');
      agentId = agentRaw;
    }
    const languageRaw = p['language'] ?? customConfig['language'];
    let language: string | undefined;
    if (languageRaw !== undefined) {
      if (typeof languageRaw !== 'string' || !LANGUAGE_TAG.test(languageRaw)) throw malformed('open: language must be a BCP-47 tag such as en-US');
      language = languageRaw;
    }

    const metadata = openMetadata({ customConfig, participant, organizationId, language, correlationId: this.correlationId });

    this.callId = conversationId;
    this.phase = 'active';
    const start: CallStartEvent = {
      kind: 'start',
      callId: conversationId,
      streamId: this.sessionId!,
      agentId,
      language,
      tracks: media.channels.map(channelTrack),
      format: { encoding: media.format === 'L16' ? 'l16' : 'pcmu', sampleRate: 8000 },
      metadata: Object.freeze(metadata),
      source: AUDIOHOOK_SOURCE,
    };
    return { events: [start], replies: [opened] };
  }

  private requireOpened(type: string): void {
    if (this.phase === 'new') throw outOfProtocol('UT_ERR_NOT_STARTED', `'${type}' before 'open'`);
  }

  private onUpdate(msg: ClientMessage): IngestResult {
    this.requireOpened('update');
    const language = msg.parameters['language'];
    if (language !== undefined && (typeof language !== 'string' || !LANGUAGE_TAG.test(language))) throw malformed('update: language must be a BCP-47 tag');
    // The script language is fixed when the call starts (the policy picks scripts then).
    return { events: [], notices: [{ level: 'info', msg: 'AudioHook update received (language change not applied mid-call)', fields: { language } }] };
  }

  private onPaused(msg: ClientMessage): IngestResult {
    this.requireOpened('paused');
    const notices: IngestNotice[] = [];
    if (this.phase === 'active') {
      this.phase = 'paused';
      this.pauses += 1;
      notices.push({ level: 'info', msg: 'AudioHook stream paused', fields: { position: formatDuration(msg.positionS), receivedS: this.positionS } });
    } else {
      notices.push({ level: 'debug', msg: `AudioHook 'paused' in phase ${this.phase} ignored` });
    }
    return { events: [], notices };
  }

  private onResumed(msg: ClientMessage): IngestResult {
    this.requireOpened('resumed');
    const gap = this.gap(msg, 'resumed');
    if (this.phase !== 'paused') return { events: [], notices: [{ level: 'debug', msg: `AudioHook 'resumed' in phase ${this.phase} ignored` }] };
    this.phase = 'active';
    this.discardedS += gap.discardedS;
    return { events: [], notices: [{ level: 'info', msg: 'AudioHook stream resumed', fields: { startS: gap.startS, discardedS: gap.discardedS, totalDiscardedS: this.discardedS } }] };
  }

  private onDiscarded(msg: ClientMessage): IngestResult {
    this.requireOpened('discarded');
    const gap = this.gap(msg, 'discarded');
    this.discardedS += gap.discardedS;
    return { events: [], notices: [{ level: 'info', msg: 'AudioHook client discarded audio', fields: { startS: gap.startS, discardedS: gap.discardedS, totalDiscardedS: this.discardedS } }] };
  }

  /** `{start, discarded}` of `resumed`/`discarded`: where the gap began and how long it was. */
  private gap(msg: ClientMessage, type: string): { startS: number; discardedS: number } {
    const startS = parseDuration(msg.parameters['start']);
    const discardedS = parseDuration(msg.parameters['discarded']);
    if (startS === undefined || discardedS === undefined) throw malformed(`${type}: 'start' and 'discarded' must be ISO 8601 durations`);
    return { startS, discardedS };
  }

  private onClientError(msg: ClientMessage): IngestResult {
    const { code, message } = msg.parameters;
    return { events: [], notices: [{ level: 'warn', msg: 'AudioHook client reported an error', fields: { code, message: typeof message === 'string' ? message.slice(0, 500) : message } }] };
  }

  private onCloseMessage(msg: ClientMessage): IngestResult {
    const reason = msg.parameters['reason'];
    const wasProbe = this.phase === 'probe';
    this.phase = 'closed';
    const events = this.stopCall(reason === 'error' ? 'error' : 'hangup');
    const notices: IngestNotice[] = wasProbe
      ? []
      : [{ level: 'info', msg: 'AudioHook session closed by the client', fields: { reason, position: formatDuration(msg.positionS), receivedS: this.positionS, discardedS: this.discardedS, pauses: this.pauses } }];
    return { events, replies: [this.send('closed')], notices, endSession: true };
  }
}

function channelTrack(channel: 'external' | 'internal'): Track {
  return channel === 'external' ? 'caller' : 'agent';
}

/** `IngestAdapterFactory` for AudioHook: one adapter per connection, reading the upgrade's session headers. */
export function createAudiohookAdapter(context: IngestContext): IngestAdapter {
  return new AudiohookAdapter(context);
}
