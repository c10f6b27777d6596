import { describe, expect, it } from 'vitest';
import { closeFor, closeReason } from '../../src/http/close-reason.js';
import { CapacityError, ModelError, ProtocolError } from '../../src/shared/errors.js';

describe('close reasons', () => {
  it('joins code and message', () => {
    expect(closeReason('UT_ERR_X', 'went wrong')).toBe('UT_ERR_X: went wrong');
  });

  it('cuts to 123 UTF-8 bytes without splitting a character', () => {
    const reason = closeReason('UT_ERR_X', 'é'.repeat(200));
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(Buffer.byteLength(reason)).toBeGreaterThanOrEqual(122);
    expect(reason).not.toContain('\uFFFD');
    expect(reason.startsWith('UT_ERR_X: éé')).toBe(true);
  });

  it('maps protocol and capacity errors to their own codes and anything else to 1011 without internals', () => {
    expect(closeFor(new ProtocolError('UT_ERR_A', 1007, 'bad'))).toEqual({ code: 1007, reason: 'UT_ERR_A: bad' });
    expect(closeFor(new CapacityError('UT_ERR_B', 1013, 'full'))).toEqual({ code: 1013, reason: 'UT_ERR_B: full' });
    expect(closeFor(new ModelError('secret path /x'))).toEqual({ code: 1011, reason: 'UT_ERR_MODEL: internal error; see server logs' });
    expect(closeFor(new Error('boom'))).toEqual({ code: 1011, reason: 'UT_ERR_INTERNAL: internal error; see server logs' });
  });
});
