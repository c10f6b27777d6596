/**
 * Coded errors, after fastify's FST_ERR_*: every error Undertone raises on
 * purpose has a stable `code` that logs, close reasons and HTTP bodies carry.
 */
export class UndertoneError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Environment configuration is invalid; `problems` lists every one found. */
export class ConfigError extends UndertoneError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('UT_ERR_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/**
 * A gateway sent something the protocol does not allow. `closeCode` is the
 * WebSocket close code to answer with (RFC 6455 §7.4.1): 1003 unsupported
 * data, 1007 invalid payload, 1008 policy violation, 1009 too big.
 */
export class ProtocolError extends UndertoneError {
  readonly closeCode: 1003 | 1007 | 1008 | 1009;
  constructor(code: string, closeCode: 1003 | 1007 | 1008 | 1009, message: string) {
    super(code, message);
    this.closeCode = closeCode;
  }
}

/** The model file or its card is missing, unreadable or does not match the extractor. */
export class ModelError extends UndertoneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UT_ERR_MODEL', message, options);
  }
}

/** An audio file could not be read (not RIFF/WAVE, unsupported format, truncated). */
export class AudioFormatError extends UndertoneError {
  constructor(message: string) {
    super('UT_ERR_AUDIO_FORMAT', message);
  }
}

/**
 * The service cannot take this stream now (too many live calls, shutting
 * down). Closed with 1013 "try again later" (or 1001 when going away) so a
 * gateway can retry elsewhere; not the gateway's fault, unlike ProtocolError.
 */
export class CapacityError extends UndertoneError {
  readonly closeCode: 1001 | 1013;
  constructor(code: string, closeCode: 1001 | 1013, message: string) {
    super(code, message);
    this.closeCode = closeCode;
  }
}

/** An HTTP-facing error: `statusCode` is the response status, `code` the body's `error`. */
export class HttpError extends UndertoneError {
  readonly statusCode: number;
  constructor(code: string, statusCode: number, message: string) {
    super(code, message);
    this.statusCode = statusCode;
  }
}

/** `GET /v1/calls/:callId` for a call that is neither live nor in the recent history. */
export class CallNotFoundError extends HttpError {
  constructor(callId: string) {
    super('UT_ERR_CALL_NOT_FOUND', 404, `no live or recent call with id '${callId}'`);
  }
}
