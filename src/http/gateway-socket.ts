/**
 * Runs one gateway WebSocket: every message goes through the connection's
 * IngestAdapter, the resulting CallEvents go to the call's session. The same
 * for every protocol; only the adapter differs.
 *
 * Isolation: whatever goes wrong on this socket (bad input, a failing call)
 * closes this socket and ends this call; nothing is thrown to the server.
 *
 * Frames: text goes to `adapter.onText`, binary to `adapter.onBinary` (L16
 * and AudioHook audio). Replies the adapter returns are sent in order before
 * its events reach the call. Protocols that say goodbye in-band (AudioHook's
 * `disconnect`) implement `onFatal`: on an error their farewell is sent, the
 * peer's closing handshake still answered, and the socket closed after
 * `closeGraceMs` if the peer has not closed it by then.
 */
import type { WebSocket } from 'ws';
import type { CallRegistry } from '../calls/call-registry.js';
import type { CallSession } from '../calls/call-session.js';
import type { CallEvent } from '../ingest/call-event.js';
import type { IngestAdapter, IngestNotice } from '../ingest/ingest-adapter.js';
import { Stage, type StageClock } from '../observability/stage-clock.js';
import { CapacityError, ProtocolError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { closeFor, closeReason } from './close-reason.js';
import type { PacedSocket } from './limits/read-pacer.js';

export interface GatewaySocketOptions {
  registry: CallRegistry;
  adapter: IngestAdapter;
  /** Connection logger; the call's own child logger takes over once the call starts. */
  logger: Logger;
  /** Largest message accepted, bytes; larger ones close the socket with 1009. */
  maxMessageBytes: number;
  /** How long to wait for the peer to close after an in-band goodbye (`disconnect`, `closed`), ms (default 5000). */
  closeGraceMs?: number;
  /**
   * Where each message's handling time goes, as `Stage.ingest` (bytes to
   * CallEvents: UTF-8, JSON, base64, validation; not the call's own work,
   * which CallSession times as decode, features…). Optional.
   */
  clock?: StageClock;
  /** Read pacing of this socket (`GATEWAY_READ_PACING_MS`); absent: every message is read as it arrives. */
  pacing?: PacedSocket;
}

/** Per-socket shutdown hooks, so `closeForShutdown` can let an adapter say goodbye first. */
const shutdownHooks = new WeakMap<WebSocket, () => void>();

type RawData = Buffer | ArrayBuffer | Buffer[];

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Wires a freshly upgraded gateway socket. Call synchronously in the route handler so no message is missed. */
export function handleGatewaySocket(socket: WebSocket, options: GatewaySocketOptions): void {
  const { registry, adapter, maxMessageBytes } = options;
  let log = options.logger;
  let session: CallSession | undefined;
  /** Set once we decided to close: later buffered messages are ignored. */
  let closing = false;
  /** After an in-band goodbye: only text still reaches the adapter (for the peer's close handshake). */
  let farewell = false;
  let closeTimer: NodeJS.Timeout | undefined;
  const graceMs = options.closeGraceMs ?? 5000;

  const closeLater = (code: number, reason: string): void => {
    if (closeTimer !== undefined) return;
    closeTimer = setTimeout(() => {
      if (socket.readyState === socket.OPEN) socket.close(code, reason);
    }, graceMs);
    closeTimer.unref();
  };

  const endCall = (events: CallEvent[]): void => {
    for (const event of events) if (event.kind === 'stop') void session?.finish(event.reason);
  };

  const closeWith = (error: unknown): void => {
    if (closing) return;
    closing = true;
    // The peer's closing handshake must not wait for a paced read.
    options.pacing?.release();
    const { code, reason } = closeFor(error);
    if (code === 1011) log.error({ err: error }, 'gateway stream failed');
    else log.warn({ closeCode: code, reason }, 'closing gateway stream');
    const goodbye = socket.readyState === socket.OPEN ? (adapter.onFatal?.(error) ?? []) : [];
    endCall(adapter.onClose('error'));
    if (goodbye.length > 0) {
      for (const message of goodbye) socket.send(message);
      farewell = true;
      closeLater(code, reason);
      return;
    }
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
  };

  shutdownHooks.set(socket, () => {
    for (const message of adapter.onFatal?.(new CapacityError('UT_ERR_SHUTTING_DOWN', 1001, 'server is shutting down')) ?? []) socket.send(message);
    socket.close(1001, closeReason('UT_ERR_SHUTTING_DOWN', 'server is shutting down'));
  });

  const logNotices = (notices: IngestNotice[]): void => {
    for (const n of notices) log[n.level](n.fields ?? {}, n.msg);
  };
  const clock = options.clock;

  const dispatch = (event: CallEvent): void => {
    switch (event.kind) {
      case 'start':
        session = registry.open(event, {
          // TCP backpressure towards the gateway while the call's scoring catches up.
          onBacklog: (over) => (over ? socket.pause() : socket.resume()),
          onFatal: (error) => closeWith(error),
        });
        log = session.log;
        return;
      case 'audio':
        session?.acceptAudio(event);
        return;
      case 'dtmf':
        session?.acceptDtmf(event.digit);
        return;
      case 'stop':
        void session?.finish(event.reason);
        return;
    }
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (farewell) {
      // Goodbye said: answer the peer's closing handshake, nothing else.
      if (isBinary) return;
      try {
        const replies = adapter.onText(toBuffer(data).toString('utf8')).replies;
        if (replies !== undefined) for (const reply of replies) socket.send(reply);
      } catch {
        // Already closing; the timer ends the socket.
      }
      return;
    }
    if (closing) return;
    // The hot path (50 messages per call-second): no allocation beyond the
    // adapter's result, no closures, no log calls unless the adapter asks.
    const t0 = clock === undefined ? 0 : performance.now();
    try {
      const bytes = toBuffer(data);
      if (bytes.length > maxMessageBytes) {
        throw new ProtocolError('UT_ERR_MESSAGE_TOO_BIG', 1009, `message of ${bytes.length} bytes exceeds ${maxMessageBytes}`);
      }
      const result = isBinary ? adapter.onBinary(bytes) : adapter.onText(bytes.toString('utf8'));
      const replies = result.replies;
      if (replies !== undefined) for (const reply of replies) socket.send(reply);
      if (result.notices !== undefined) logNotices(result.notices);
      if (clock !== undefined) clock.add(Stage.ingest, performance.now() - t0);
      const events = result.events;
      for (let i = 0; i < events.length; i++) dispatch(events[i]!);
      if (result.endSession) {
        options.pacing?.release();
        closeLater(1000, 'session closed');
      } else if (options.pacing !== undefined) options.pacing.afterMessage(session?.nextWindowEndDueMs);
    } catch (error) {
      closeWith(error);
    }
  });

  socket.on('close', (code: number) => {
    options.pacing?.release();
    if (closeTimer !== undefined) clearTimeout(closeTimer);
    shutdownHooks.delete(socket);
    log.debug({ closeCode: code }, 'gateway socket closed');
    endCall(adapter.onClose('disconnect', code));
  });
}

/** Closes a socket for server shutdown: 1001 "going away". */
export function closeForShutdown(socket: WebSocket): void {
  if (socket.readyState !== socket.OPEN) return;
  const hook = shutdownHooks.get(socket);
  if (hook !== undefined) hook();
  else socket.close(1001, closeReason('UT_ERR_SHUTTING_DOWN', 'server is shutting down'));
}
