/**
 * Twilio's track names, one table for the adapter's full path and the media
 * fast path (twilio-media-scan.ts): media messages say `inbound`/`outbound`,
 * dtmf and `start.tracks` say `inbound_track`/`outbound_track`.
 */
import type { Track } from './call-event.js';

const TRACK_NAMES: ReadonlyMap<string, Track> = new Map([
  ['inbound', 'caller'],
  ['inbound_track', 'caller'],
  ['outbound', 'agent'],
  ['outbound_track', 'agent'],
]);

/** Length of the longest name (`outbound_track`), so a scanner can refuse longer values unsliced. */
export const MAX_TRACK_NAME = Math.max(...[...TRACK_NAMES.keys()].map((name) => name.length));

/** The track a Twilio track name means; undefined for any other value. */
export function trackOf(value: unknown): Track | undefined {
  return typeof value === 'string' ? TRACK_NAMES.get(value) : undefined;
}
