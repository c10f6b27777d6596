/**
 * The one internal event type every ingest adapter produces. The pipeline
 * (CallSession and everything behind it) never sees a wire format.
 */

/** Wire codecs the audio stage can decode. All are mono. */
export type AudioEncoding = 'pcmu' | 'pcma' | 'l16';

/** Which party a piece of audio belongs to. Only the caller is scored. */
export type Track = 'caller' | 'agent';

export interface AudioFormat {
  encoding: AudioEncoding;
  /** Samples per second of the wire audio (8000 for G.711; 8000 or 16000 for L16). */
  sampleRate: number;
}

export interface CallStartEvent {
  kind: 'start';
  /** Stable id of the call (Twilio `callSid`, AudioHook conversationId, …). */
  callId: string;
  /** Id of this media stream (Twilio `streamSid`); one call may have several over its life. */
  streamId: string;
  /** Agent whose softphone receives this call's prompts; undefined when the gateway did not say. */
  agentId: string | undefined;
  /** BCP-47 tag choosing the calming-script language, e.g. `zh-CN`, `en-US`. */
  language: string | undefined;
  /** Tracks the gateway will send. */
  tracks: readonly Track[];
  format: AudioFormat;
  /** Everything else the gateway passed through, as strings. */
  metadata: Readonly<Record<string, string>>;
  /** Which adapter produced the call (`twilio`, `audiohook`, `l16`), for logs and the API. */
  source: string;
}

export interface CallAudioEvent {
  kind: 'audio';
  callId: string;
  track: Track;
  /** Encoded bytes exactly as they came off the wire, in the start event's format. */
  payload: Uint8Array;
}

export interface CallDtmfEvent {
  kind: 'dtmf';
  callId: string;
  digit: string;
}

export interface CallStopEvent {
  kind: 'stop';
  callId: string;
  /** Why the stream ended: `hangup` (gateway said stop), `disconnect` (socket dropped), `error`. */
  reason: 'hangup' | 'disconnect' | 'error';
}

export type CallEvent = CallStartEvent | CallAudioEvent | CallDtmfEvent | CallStopEvent;
