/**
 * The port every gateway protocol implements. One adapter object per
 * WebSocket connection: it holds that connection's protocol state (has the
 * stream started, which stream id, sequence numbers) and turns each wire
 * message into `CallEvent`s. It never touches the socket, the call session or
 * the registry: the gateway socket handler (src/http/gateway-socket.ts) does
 * that, the same way for every protocol.
 *
 * Errors: anything the protocol does not allow is thrown as a
 * `ProtocolError` whose `closeCode` the socket handler closes with.
 * Conventions shared by all adapters:
 *
 * | close | when |
 * | --- | --- |
 * | 1003 unsupported data | a frame type or media format the adapter does not take |
 * | 1007 invalid payload  | malformed content: not JSON, bad base64, missing or ill-typed fields |
 * | 1008 policy violation | well-formed but out of protocol: unknown event, media before start, wrong stream id |
 * | 1009 message too big  | a message over `MAX_MESSAGE_BYTES` (checked by the socket handler) |
 */
import type { CallEvent } from './call-event.js';

/** What one incoming message produced. */
export interface IngestResult {
  /** Events for the pipeline, in wire order. Often empty (handshakes, marks). */
  events: CallEvent[];
  /**
   * Text messages to send back on the same socket, in order (AudioHook's
   * `opened`, `pong`, `closed`). Twilio needs none.
   */
  replies?: string[];
  /**
   * Things worth a log line on the call's logger that are not errors of this
   * message (AudioHook `error`/`discarded`/`paused` reports, ignored gateway
   * events): nothing the gateway tells us is dropped without a trace.
   */
  notices?: IngestNotice[];
  /**
   * The protocol's session is over after these replies (AudioHook `closed`):
   * the peer closes the socket; the handler closes it itself if the peer has
   * not after a grace period.
   */
  endSession?: boolean;
}

/** One log line an adapter asks for. */
export interface IngestNotice {
  level: 'debug' | 'info' | 'warn';
  msg: string;
  fields?: Record<string, unknown>;
}

/** What an adapter may know about its connection when it is created. */
export interface IngestContext {
  /** Upgrade request headers, lower-case names (AudioHook reads its session ids there). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface IngestAdapter {
  /** Adapter name, used as `CallStartEvent.source`, in logs and the API (`twilio`, `audiohook`, `l16`). */
  readonly source: string;
  /**
   * Handles one text message. Throws `ProtocolError` on anything the
   * protocol does not allow; the connection is then closed with its code.
   */
  onText(text: string): IngestResult;
  /** Handles one binary message (audio for L16/AudioHook; Twilio sends none). */
  onBinary(data: Uint8Array): IngestResult;
  /**
   * The socket closed (or was closed because of an error). Returns the
   * `stop` event for a call that started but never stopped, so the session
   * is finalised either way; empty otherwise.
   */
  onClose(reason: 'disconnect' | 'error', closeCode?: number): CallEvent[];
  /**
   * Optional, for protocols that must say goodbye in-band before the socket
   * closes (AudioHook `disconnect`). Called once when the connection is ended
   * for `error` (bad input, the call failed, capacity, shutdown); returns the
   * text messages to send first. When it returns any, the handler keeps
   * passing text messages to `onText` (so the peer's `close` still gets its
   * `closed`) and closes the socket after a grace period unless the peer
   * does first.
   */
  onFatal?(error: unknown): string[];
}

/** Creates a fresh adapter for one connection. */
export type IngestAdapterFactory = (context: IngestContext) => IngestAdapter;
