/**
 * Strict base64. Node's `Buffer.from(s, 'base64')` skips characters outside
 * the alphabet and tolerates missing padding, so a corrupted payload would
 * decode into plausible-looking noise; gateways always send canonical,
 * padded base64, so anything else is rejected.
 */

// Standard alphabet, whole 4-character groups, at most two '=' at the end.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `text` is canonical padded base64 (the empty string included). */
export function isStrictBase64(text: string): boolean {
  return text.length % 4 === 0 && STRICT_BASE64.test(text);
}

/** Decodes strict base64; returns `undefined` when `text` is not strict base64. */
export function decodeStrictBase64(text: string): Uint8Array | undefined {
  if (!isStrictBase64(text)) return undefined;
  const buf = Buffer.from(text, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
