/**
 * Identifier rules shared by the ingest adapters and the HTTP routes. Ids end
 * up in URL paths, log fields, Redis job ids and close reasons, so they are
 * kept to a safe alphabet and length.
 */

/** 1–128 characters of `[A-Za-z0-9._-]`. */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** True when `value` is usable as an agent id (`/v1/agents/:agentId/stream`). */
export function isValidAgentId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** True when `value` is usable as a call or stream id. */
export function isValidCallId(value: string): boolean {
  return ID_PATTERN.test(value);
}
