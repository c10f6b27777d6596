/**
 * pino logging. One root logger per process, passed in as a dependency; each
 * call gets a child logger carrying its ids so every line about a call can be
 * found with one filter (`callId`).
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level (default `info`). */
  level?: string;
  /** Same as `level`, so a `Config` can be passed as is (`createLogger(config)`); `level` wins. */
  logLevel?: string;
  /** Where lines go (default stdout). Tests pass a stream to capture them. */
  destination?: DestinationStream;
  /** Base fields on every line (default `{ service: 'undertone' }`). */
  base?: Record<string, unknown>;
}

/** `?access_token=…` (and `token=`) in a URL, value replaced: a log must never hold a credential. */
export function redactUrlTokens(url: string): string {
  return url.replace(/([?&](?:access_token|token)=)[^&#]*/gi, '$1[REDACTED]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** fastify's request serializer, minus tokens in the URL. */
function requestWithoutToken(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrlTokens(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Creates the process's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? options.logLevel ?? 'info',
    base: options.base ?? { service: 'undertone' },
    // Never log gateway secrets that might ride along in headers.
    redact: ['req.headers.authorization', 'req.headers["x-twilio-signature"]', 'req.headers["x-api-key"]', 'req.headers.cookie'],
    // fastify logs each request's URL; browsers pass their JWT as ?access_token=.
    serializers: { req: requestWithoutToken },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** Identity fields a call's log lines carry. */
export interface CallLogFields {
  callId: string;
  streamId?: string;
  /** Ingest adapter that produced the call (`twilio`, …). */
  source?: string;
}

/** Child logger for one call: every line carries `callId` (and `streamId`, `source` when known). */
export function callLogger(parent: Logger, fields: CallLogFields): Logger {
  const bindings: Record<string, string> = { callId: fields.callId };
  if (fields.streamId !== undefined) bindings['streamId'] = fields.streamId;
  if (fields.source !== undefined) bindings['source'] = fields.source;
  return parent.child(bindings);
}
