/** Coded errors of the DSP engine (see src/shared/errors.ts for the scheme). */
import { UndertoneError } from '../shared/errors.js';

/**
 * A DSP worker thread died (an uncaught error, or it exited), or no worker is
 * left to take a call. The calls pinned to it end with 1011; the pool starts
 * a replacement for new calls.
 */
export class DspWorkerError extends UndertoneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UT_ERR_DSP_WORKER', message, options);
  }
}

/** An error raised inside a worker, rebuilt on the main thread with its name, message and code. */
export class DspRemoteError extends UndertoneError {
  constructor(name: string, message: string, code = 'UT_ERR_DSP') {
    super(code, message);
    this.name = name;
  }
}
