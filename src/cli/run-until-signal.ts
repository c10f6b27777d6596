/**
 * How a long-running command (`serve`, `worker`) ends: the first SIGTERM or
 * SIGINT starts a graceful close, a second one means "now", and whatever
 * hangs (Redis refusing writes, a stuck job) the process is gone by the
 * deadline.
 */
import type { Logger } from '../shared/logger.js';

export interface RunUntilSignalOptions {
  /** Log line on the first signal, e.g. `shutting down`. */
  stoppingMessage: string;
  /** After the first signal the process exits with 1 by then, ms. */
  deadlineMs: number;
  /** The graceful close. */
  close: () => Promise<void>;
  /**
   * Leave this long after a successful close even if an abandoned part still
   * holds a socket or timer open, ms (default: no forced exit).
   */
  exitAfterCloseMs?: number;
}

/** Resolves with exit code 0 once `close` finished after a signal. */
export function runUntilSignal(logger: Logger, options: RunUntilSignalOptions): Promise<number> {
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, options.stoppingMessage);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      // A second signal while draining means "now".
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      setTimeout(() => {
        logger.error({ deadlineMs: options.deadlineMs }, 'shutdown grace period over; exiting now');
        process.exit(1);
      }, options.deadlineMs).unref();
      void options.close().then(() => {
        resolve(0);
        if (options.exitAfterCloseMs !== undefined) setTimeout(() => process.exit(), options.exitAfterCloseMs).unref();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
