import { describe, expect, it } from 'vitest';
import { callLogger } from '../../src/shared/logger.js';
import { captureLogger, LEVEL } from '../integration/helpers.js';

describe('per-call loggers', () => {
  it('carry callId, streamId and source on every line', () => {
    const { logger, lines } = captureLogger('info');
    const log = callLogger(logger, { callId: 'CA1', streamId: 'MZ1', source: 'twilio' });
    log.warn({ extra: 1 }, 'something');
    log.debug('hidden below info');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: LEVEL.warn, msg: 'something', callId: 'CA1', streamId: 'MZ1', source: 'twilio', extra: 1, service: 'undertone' });
  });

  it('leave out ids that are not known yet', () => {
    const { logger, lines } = captureLogger('info');
    callLogger(logger, { callId: 'CA2' }).info('x');
    expect(lines[0]).toMatchObject({ callId: 'CA2' });
    expect(lines[0]).not.toHaveProperty('streamId');
  });
});
