/**
 * WebSocket close frames: which code an error maps to, and a reason text
 * that fits the frame. RFC 6455 caps the reason at 123 bytes of UTF-8.
 */
import { CapacityError, ProtocolError, UndertoneError } from '../shared/errors.js';

const MAX_REASON_BYTES = 123;

/** `CODE: message`, cut to 123 UTF-8 bytes without splitting a character. */
export function closeReason(code: string, message: string): string {
  const text = `${code}: ${message}`;
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > MAX_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * Close code and reason for an error that ends a socket: the protocol's own
 * code for `ProtocolError`/`CapacityError`, 1011 "internal error" for
 * anything else (whose message is not sent: it may hold internals).
 */
export function closeFor(error: unknown): { code: number; reason: string } {
  if (error instanceof ProtocolError || error instanceof CapacityError) {
    return { code: error.closeCode, reason: closeReason(error.code, error.message) };
  }
  const code = error instanceof UndertoneError ? error.code : 'UT_ERR_INTERNAL';
  return { code: 1011, reason: closeReason(code, 'internal error; see server logs') };
}
