/**
 * Per-socket limits for every WebSocket, attached when the connection is
 * made (the server's 'connection' event), so sockets of routes added by
 * other modules are covered without touching their handlers.
 *
 * Gateway streams (`/v1/streams/*`):
 * - admission: sockets still waiting for their start count against
 *   MAX_CALLS with the live calls. One socket beyond the limit is let in,
 *   so that when the house is full a caller's gateway hears "too many
 *   calls" through its own protocol at its start (AudioHook: opened, then
 *   an in-band disconnect); any more are closed with 1013 at once. Live
 *   calls never exceed MAX_CALLS (the registry refuses the start);
 * - start timeout: no start within START_TIMEOUT_MS → 1008 `UT_ERR_START_TIMEOUT`;
 * - idle timeout: nothing received for IDLE_TIMEOUT_MS (while not paused by
 *   us) → 1008 `UT_ERR_IDLE_TIMEOUT`;
 * - pacing: a token bucket of INGEST_MAX_BYTES_PER_S (1 s of burst); a socket
 *   over it is paused until it is back in budget. TCP pushes back on the
 *   sender, nothing is dropped, and one client streaming at 100× real time
 *   cannot keep the event loop to itself (decode and features are
 *   synchronous in the message handler);
 * - messages over ws's hard ceiling (2 × MAX_MESSAGE_BYTES): ws closes them
 *   itself with 1009 and no reason; we add the coded reason, log it with
 *   the call id and end the call as an error, not a disconnect.
 *
 * Agent, supervisor and other client sockets:
 * - messages over CLIENT_MAX_MESSAGE_BYTES → 1009 `UT_ERR_MESSAGE_TOO_BIG`;
 * - slow consumers: more than SLOW_CONSUMER_BYTES queued unsent → 1008
 *   `UT_ERR_SLOW_CONSUMER`, and terminated a second later (a peer that does
 *   not read will not read the close frame either).
 *
 * Every refusal is counted in `undertone_refusals_total`.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { IngestAdapter, IngestResult } from '../../ingest/ingest-adapter.js';
import type { Metrics, RefusalReason } from '../../observability/metrics.js';
import type { Logger } from '../../shared/logger.js';
import { closeReason } from '../close-reason.js';
import { trackPauseReasons, type PauseControl } from './pause-reasons.js';

export interface SocketLimitOptions {
  /** Live calls plus sockets awaiting their start allowed at once. */
  maxCalls: number;
  /** Live calls now (the registry's count). */
  liveCalls: () => number;
  /** Gateway hard ceiling ws enforces (2 × MAX_MESSAGE_BYTES), for the log line. */
  gatewayHardMaxBytes: number;
  clientMaxMessageBytes: number;
  startTimeoutMs: number;
  /** 0 = never. */
  idleTimeoutMs: number;
  ingestMaxBytesPerS: number;
  slowConsumerBytes: number;
  /** How often client sockets' unsent bytes are checked, ms (default 1000). */
  slowConsumerCheckMs?: number;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Pacing burst: this many seconds of budget may arrive at once. Short, so a
 * whole call sent in one go (about 600 KB of Twilio JSON for 40 s) is paced
 * too, not waved through in its burst.
 */
const BURST_S = 1;

export const GATEWAY_PATH_PREFIX = '/v1/streams/';

interface GatewayState {
  started: boolean;
  callId: string | undefined;
  /** Set when we closed the socket for a limit: the call ends as an error. */
  failed: boolean;
  pauses: PauseControl;
  log: Logger;
}

export interface SocketLimits {
  /** Wraps a gateway socket's adapter so the limits see its start and end its call correctly. */
  gatewayAdapter(socket: WebSocket, inner: IngestAdapter): IngestAdapter;
  /** Gateway sockets that have not sent their start yet. */
  readonly awaitingStart: number;
  stop(): void;
}

export function attachSocketLimits(wss: WebSocketServer, options: SocketLimitOptions): SocketLimits {
  const { metrics } = options;
  const gateways = new WeakMap<WebSocket, GatewayState>();
  const awaiting = new Set<WebSocket>();
  const clients = new Set<WebSocket>();

  const refuse = (socket: WebSocket, code: number, errCode: string, message: string, reason: RefusalReason, log: Logger): void => {
    metrics.refused(reason);
    log.warn({ closeCode: code, code: errCode }, `closing socket: ${message}`);
    if (socket.readyState === socket.OPEN) socket.close(code, closeReason(errCode, message));
  };

  function onGateway(socket: WebSocket, log: Logger): void {
    const state: GatewayState = { started: false, callId: undefined, failed: false, pauses: trackPauseReasons(socket), log };
    gateways.set(socket, state);
    const failWith = (code: number, errCode: string, message: string, reason: RefusalReason): void => {
      state.failed = true;
      refuse(socket, code, errCode, message, reason, state.log);
    };

    if (awaiting.size + options.liveCalls() > options.maxCalls) {
      failWith(1013, 'UT_ERR_TOO_MANY_CALLS', `this instance is at its limit of ${options.maxCalls} calls; try another`, 'max_calls');
      return;
    }
    awaiting.add(socket);

    const startTimer = setTimeout(() => {
      if (!state.started) failWith(1008, 'UT_ERR_START_TIMEOUT', `no start within ${options.startTimeoutMs} ms`, 'start_timeout');
    }, options.startTimeoutMs);

    // Idle: messages only stamp the time; one timer checks the stamp when it
    // fires and sleeps for the rest (a clearTimeout + setTimeout per message
    // was a measurable share of ingest at 50 messages per call-second).
    let lastMessageAt = performance.now();
    let idleTimer: NodeJS.Timeout | undefined;
    const checkIdle = (): void => {
      const now = performance.now();
      // Paused by us (backlog or pacing): the silence is ours, not the peer's.
      if (state.pauses.reasons.size > 0) lastMessageAt = now;
      const quietMs = now - lastMessageAt;
      if (quietMs < options.idleTimeoutMs) {
        idleTimer = setTimeout(checkIdle, Math.max(1, Math.ceil(options.idleTimeoutMs - quietMs)));
        return;
      }
      idleTimer = undefined;
      failWith(1008, 'UT_ERR_IDLE_TIMEOUT', `nothing received for ${options.idleTimeoutMs} ms`, 'idle_timeout');
    };
    if (options.idleTimeoutMs > 0) idleTimer = setTimeout(checkIdle, options.idleTimeoutMs);

    // Pacing: token bucket in bytes.
    const rate = options.ingestMaxBytesPerS;
    const burst = rate * BURST_S;
    let tokens = burst;
    let refilledAt = lastMessageAt;
    let resumeTimer: NodeJS.Timeout | undefined;
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const now = performance.now();
      lastMessageAt = now;
      const bytes = Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      tokens += ((now - refilledAt) / 1000) * rate;
      if (tokens > burst) tokens = burst;
      refilledAt = now;
      tokens -= bytes;
      if (tokens < 0 && resumeTimer === undefined) {
        state.pauses.pause('pacing');
        resumeTimer = setTimeout(() => {
          resumeTimer = undefined;
          state.pauses.resume('pacing');
        }, Math.ceil((-tokens / rate) * 1000));
      }
    });

    // ws closes over-ceiling messages itself (1009, empty reason) before it
    // emits the error: give that close a coded reason.
    const rawClose = socket.close.bind(socket);
    socket.close = (code?: number, reason?: string | Buffer) =>
      code === 1009 && (reason === undefined || reason.length === 0)
        ? rawClose(1009, closeReason('UT_ERR_MESSAGE_TOO_BIG', `message exceeds ${options.gatewayHardMaxBytes} bytes`))
        : rawClose(code, reason);
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return;
      state.failed = true;
      metrics.refused('message_too_big');
      state.log.warn({ closeCode: 1009, code: 'UT_ERR_MESSAGE_TOO_BIG', limitBytes: options.gatewayHardMaxBytes }, 'closing gateway stream: message over the hard ceiling');
    });

    socket.once('close', () => {
      awaiting.delete(socket);
      clearTimeout(startTimer);
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      clearTimeout(resumeTimer);
    });
  }

  function onClient(socket: WebSocket, log: Logger): void {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
      if (bytes > options.clientMaxMessageBytes) {
        refuse(socket, 1009, 'UT_ERR_MESSAGE_TOO_BIG', `message of ${bytes} bytes exceeds ${options.clientMaxMessageBytes}`, 'message_too_big', log);
      }
    });
  }

  const onConnection = (socket: WebSocket, request: IncomingMessage): void => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const log = options.logger.child({ path });
    if (path.startsWith(GATEWAY_PATH_PREFIX)) onGateway(socket, log);
    else onClient(socket, log);
  };
  wss.on('connection', onConnection);

  const sweep = setInterval(() => {
    for (const socket of clients) {
      if (socket.readyState !== socket.OPEN || socket.bufferedAmount <= options.slowConsumerBytes) continue;
      clients.delete(socket);
      refuse(socket, 1008, 'UT_ERR_SLOW_CONSUMER', `over ${options.slowConsumerBytes} bytes unsent; not reading`, 'slow_consumer', options.logger);
      setTimeout(() => socket.terminate(), 1000).unref();
    }
  }, options.slowConsumerCheckMs ?? 1000);
  sweep.unref();

  return {
    get awaitingStart() {
      return awaiting.size;
    },
    gatewayAdapter(socket, inner) {
      const state = gateways.get(socket);
      if (!state) return inner;
      // A plain tally, added to undertone_audio_messages_total at scrape time.
      const audioMessages = metrics.audioMessageTally(inner.source);
      // Per message: one plain loop over the (usually one) event; no closures, no find.
      const watch = (result: IngestResult): IngestResult => {
        const events = result.events;
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          if (e.kind === 'audio') audioMessages.n += 1;
          else if (e.kind === 'start') {
            state.started = true;
            state.callId = e.callId;
            state.log = state.log.child({ callId: e.callId });
            awaiting.delete(socket);
          }
        }
        return result;
      };
      const wrapped: IngestAdapter = {
        get source() {
          return inner.source;
        },
        onText: (text) => watch(inner.onText(text)),
        onBinary: (data) => watch(inner.onBinary(data)),
        onClose: (reason, closeCode) => inner.onClose(state.failed ? 'error' : reason, closeCode),
      };
      // Every member of IngestAdapter passes through; keep this in step with the port.
      if (inner.onFatal) wrapped.onFatal = (error: unknown) => inner.onFatal!(error);
      return wrapped;
    },
    stop() {
      clearInterval(sweep);
      wss.off('connection', onConnection);
    },
  };
}
