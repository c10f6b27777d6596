import { UndertoneError } from '../shared/errors.js';

/**
 * Redis is unreachable and the publisher's in-memory buffer is full: the
 * event was NOT accepted. The caller should log it (it carries callId/seq).
 */
export class PublishBufferFullError extends UndertoneError {
  constructor(
    readonly callId: string,
    readonly seq: number,
    readonly capacity: number,
  ) {
    super(
      'UT_ERR_PUBLISH_BUFFER_FULL',
      `publish buffer full (${capacity} events waiting for Redis): dropped ${callId} seq ${seq}`,
    );
  }
}

/** `publish` was called after `close`. */
export class PublisherClosedError extends UndertoneError {
  constructor() {
    super('UT_ERR_PUBLISHER_CLOSED', 'publisher is closed');
  }
}

/** A routing job's payload does not match the schema; `problems` lists every one found. */
export class InvalidJobError extends UndertoneError {
  readonly problems: readonly string[];
  constructor(jobName: string, problems: readonly string[]) {
    super('UT_ERR_INVALID_JOB', `invalid ${JSON.stringify(jobName)} job: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A Redis command did not answer in time (internal: such events go to the buffer). */
export class PublishTimeoutError extends UndertoneError {
  constructor(timeoutMs: number) {
    super('UT_ERR_PUBLISH_TIMEOUT', `Redis did not accept the job within ${timeoutMs} ms`);
  }
}
