/**
 * Runs one gateway WebSocket: every message goes through the connection's
 * IngestAdapter, the resulting CallEvents go to the call's session. The same
 * for every protocol; only the adapter differs.
 *
 * Isolation: whatever goes wrong on this socket (bad input, a failing call)
 * closes this socket and ends this call; nothing is thrown to the server.
 */
import type { WebSocket } from 'ws';
import type { CallRegistry } from '../calls/call-registry.js';
import type { CallSession } from '../calls/call-session.js';
import type { CallEvent } from '../ingest/call-event.js';
import type { IngestAdapter } from '../ingest/ingest-adapter.js';
import { ProtocolError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { closeFor, closeReason } from './close-reason.js';

export interface GatewaySocketOptions {
  registry: CallRegistry;
  adapter: IngestAdapter;
  /** Connection logger; the call's own child logger takes over once the call starts. */
  logger: Logger;
  /** Largest message accepted, bytes; larger ones close the socket with 1009. */
  maxMessageBytes: number;
}

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

  const endCall = (events: CallEvent[]): void => {
    for (const event of events) if (event.kind === 'stop') void session?.finish(event.reason);
  };

  const closeWith = (error: unknown): void => {
    if (closing) return;
    closing = true;
    const { code, reason } = closeFor(error);
    if (code === 1011) log.error({ err: error }, 'gateway stream failed');
    else log.warn({ closeCode: code, reason }, 'closing gateway stream');
    endCall(adapter.onClose('error'));
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
  };

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
    if (closing) return;
    try {
      const bytes = toBuffer(data);
      if (bytes.length > maxMessageBytes) {
        throw new ProtocolError('UT_ERR_MESSAGE_TOO_BIG', 1009, `message of ${bytes.length} bytes exceeds ${maxMessageBytes}`);
      }
      const result = isBinary ? adapter.onBinary(bytes) : adapter.onText(bytes.toString('utf8'));
      for (const reply of result.replies ?? []) socket.send(reply);
      for (const event of result.events) dispatch(event);
    } catch (error) {
      closeWith(error);
    }
  });

  socket.on('close', (code: number) => {
    log.debug({ closeCode: code }, 'gateway socket closed');
    endCall(adapter.onClose('disconnect'));
  });
}

/** Closes a socket for server shutdown: 1001 "going away". */
export function closeForShutdown(socket: WebSocket): void {
  if (socket.readyState === socket.OPEN) socket.close(1001, closeReason('UT_ERR_SHUTTING_DOWN', 'server is shutting down'));
}
