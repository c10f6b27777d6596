/**
 * The fast path for Twilio `media` messages (issue 13): 50 per call-second,
 * where `JSON.parse` (about 10 objects and strings a message) was the largest
 * single cost of a loaded server's main thread.
 *
 * It reads only the compact shape gateways send —
 * `{"event":"media","streamSid":"…","sequenceNumber":"…","media":{"track":"…","chunk":"…","timestamp":"…","payload":"…"}}`,
 * members in any order after `event`, each at most once, string values
 * without escapes, no whitespace, Telnyx's snake_case names too — by native
 * string searches (`indexOf`, `startsWith`), without building objects. Every
 * check the full path makes on a media message is made here on the same
 * values (stream id, numeric strings, track, strict base64).
 *
 * Anything else — another shape, a member it does not know, an escape,
 * whitespace, a value that fails a check — makes `scanMedia` return false and
 * the adapter parses the message in full. So the fast path accepts only
 * messages the full path accepts, with the same result, and every rejection
 * (its close code, its reason) comes from the full path.
 */
import { decodeStrictBase64 } from './base64.js';
import type { Track } from './call-event.js';
import { MAX_TRACK_NAME, trackOf } from './twilio-tracks.js';

const PREFIX = '{"event":"media",';
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

// Members, one bit each (a second occurrence falls back: JSON.parse keeps the last one).
const STREAM_SID = 1;
const STREAM_ID = 2;
const STREAM_SID_SNAKE = 4;
const SEQUENCE = 8;
const SEQUENCE_SNAKE = 16;
const MEDIA = 32;
const TRACK = 64;
const CHUNK = 128;
const TIMESTAMP = 256;
const PAYLOAD = 512;
const ANY_SID = STREAM_SID | STREAM_ID | STREAM_SID_SNAKE;

/** Which member the key text[start, end) names at the top level (0: none the fast path takes). */
function topKey(text: string, start: number, end: number): number {
  switch (end - start) {
    case 5:
      return text.startsWith('media', start) ? MEDIA : 0;
    case 9:
      return text.startsWith('streamSid', start) ? STREAM_SID : text.startsWith('stream_id', start) ? STREAM_ID : 0;
    case 10:
      return text.startsWith('stream_sid', start) ? STREAM_SID_SNAKE : 0;
    case 14:
      return text.startsWith('sequenceNumber', start) ? SEQUENCE : 0;
    case 15:
      return text.startsWith('sequence_number', start) ? SEQUENCE_SNAKE : 0;
    default:
      return 0;
  }
}

/** Which member the key text[start, end) names inside `media` (0: none the fast path takes). */
function mediaKey(text: string, start: number, end: number): number {
  switch (end - start) {
    case 5:
      return text.startsWith('track', start) ? TRACK : text.startsWith('chunk', start) ? CHUNK : 0;
    case 7:
      return text.startsWith('payload', start) ? PAYLOAD : 0;
    case 9:
      return text.startsWith('timestamp', start) ? TIMESTAMP : 0;
    default:
      return 0;
  }
}

/** text[start, end) is 1–15 ASCII digits (the full path's numeric-string check). */
function isDigits(text: string, start: number, end: number): boolean {
  const n = end - start;
  if (n === 0 || n > 15) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** What one scan read; reused across messages of a connection. */
export class MediaScan {
  track: Track = 'caller';
  /** The decoded audio (a fresh buffer per message; empty for an empty payload). */
  payload: Uint8Array = new Uint8Array(0);
}

/**
 * Reads `text` as a compact `media` message of the stream `streamSid`.
 * True (and `out` filled) when it is one and passes every check the full
 * path makes; false when the full path must decide.
 */
export function scanMedia(text: string, streamSid: string, out: MediaScan): boolean {
  if (!text.startsWith(PREFIX) || text.indexOf('\\') !== -1) return false;
  const last = text.length - 1;
  if (text.charCodeAt(last) !== CLOSE) return false;
  let seen = 0;
  let track: Track = 'caller';
  let payloadStart = -1;
  let payloadEnd = -1;
  let i = PREFIX.length;
  let inMedia = false;
  for (;;) {
    // A member: "key":value
    if (text.charCodeAt(i) !== QUOTE) return false;
    const keyEnd = text.indexOf('"', i + 1);
    if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== COLON) return false;
    const member = inMedia ? mediaKey(text, i + 1, keyEnd) : topKey(text, i + 1, keyEnd);
    if (member === 0 || (seen & member) !== 0) return false;
    seen |= member;
    i = keyEnd + 2;
    if (member === MEDIA) {
      if (text.charCodeAt(i) !== OPEN) return false;
      inMedia = true;
      i += 1;
      continue;
    }
    if (text.charCodeAt(i) !== QUOTE) return false;
    const start = i + 1;
    const end = text.indexOf('"', start);
    if (end < 0) return false;
    switch (member) {
      case STREAM_SID:
      case STREAM_ID:
      case STREAM_SID_SNAKE:
        if (end - start !== streamSid.length || !text.startsWith(streamSid, start)) return false;
        break;
      case SEQUENCE:
      case SEQUENCE_SNAKE:
      case CHUNK:
      case TIMESTAMP:
        if (!isDigits(text, start, end)) return false;
        break;
      case TRACK: {
        // The full path's own table (a short slice: track names are ≤ 14 characters).
        const t = end - start <= MAX_TRACK_NAME ? trackOf(text.slice(start, end)) : undefined;
        if (t === undefined) return false;
        track = t;
        break;
      }
      default:
        // PAYLOAD
        payloadStart = start;
        payloadEnd = end;
    }
    i = end + 1;
    let c = text.charCodeAt(i);
    if (inMedia && c === CLOSE) {
      inMedia = false;
      i += 1;
      c = text.charCodeAt(i);
    }
    if (c === COMMA) {
      i += 1;
      continue;
    }
    // The last member: only the top level's closing brace may follow.
    if (c !== CLOSE || i !== last || inMedia) return false;
    break;
  }
  // Two stream ids: the full path reads one of them by precedence; let it.
  const sids = seen & ANY_SID;
  if ((sids & (sids - 1)) !== 0 || (seen & PAYLOAD) === 0) return false;
  const payload = payloadEnd === payloadStart ? new Uint8Array(0) : decodeStrictBase64(text.slice(payloadStart, payloadEnd));
  if (payload === undefined) return false;
  out.track = track;
  out.payload = payload;
  return true;
}
