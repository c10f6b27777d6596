/**
 * Twilio request validation: `X-Twilio-Signature` is the base64 HMAC-SHA1,
 * keyed with the account's auth token, of the full URL Twilio requested
 * (for a Media Streams WebSocket: the `wss://` URL with its query; a GET has
 * no body parameters to append). https://www.twilio.com/docs/usage/security
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function twilioSignature(authToken: string, url: string): string {
  return createHmac('sha1', authToken).update(url, 'utf8').digest('base64');
}

/** True when `signature` matches one of `urls` (constant-time compare). */
export function isValidTwilioSignature(authToken: string, signature: string, urls: readonly string[]): boolean {
  const given = Buffer.from(signature, 'utf8');
  return urls.some((url) => {
    const expected = Buffer.from(twilioSignature(authToken, url), 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/**
 * The URLs Twilio may have signed for this request: the configured public
 * base URL when set (behind a proxy the Host header is not what Twilio
 * dialled), else the Host header with the wss and ws schemes.
 */
export function candidateUrls(publicUrl: string, host: string | undefined, pathAndQuery: string): string[] {
  if (publicUrl !== '') {
    const base = publicUrl.replace(/^http/, 'ws');
    return [`${base}${pathAndQuery}`];
  }
  if (!host) return [];
  return [`wss://${host}${pathAndQuery}`, `ws://${host}${pathAndQuery}`];
}
