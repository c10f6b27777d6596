import { describe, expect, it } from 'vitest';
import { TwilioAdapter } from '../../src/ingest/twilio-adapter.js';
import { MediaScan, scanMedia } from '../../src/ingest/twilio-media-scan.js';
import { createRng } from '../../src/shared/random.js';
import { connectedMsg, mediaMsg, startMsg, twilioIds } from './twilio-fixtures.js';

const ids = twilioIds('fast1');
const PAYLOAD = Buffer.from(Uint8Array.from({ length: 160 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64');

function started(mediaFastPath: boolean): TwilioAdapter {
  const adapter = new TwilioAdapter({ mediaFastPath });
  adapter.onText(connectedMsg());
  adapter.onText(startMsg(ids, { tracks: ['inbound', 'outbound'] }));
  return adapter;
}

/** What the adapter made of one message, comparable across the two paths. */
function outcome(adapter: TwilioAdapter, text: string): unknown {
  try {
    const result = adapter.onText(text);
    return { events: result.events.map((e) => (e.kind === 'audio' ? { ...e, payload: [...e.payload] } : e)), notices: result.notices };
  } catch (error) {
    const e = error as { name: string; code?: string; closeCode?: number; message: string };
    return { error: e.name, code: e.code, closeCode: e.closeCode, message: e.message };
  }
}

/** The same message through the fast path and through JSON.parse: the same result, or the same error. */
function expectSameAsFullPath(text: string): void {
  expect(outcome(started(true), text), text).toEqual(outcome(started(false), text));
}

const canonical = mediaMsg(ids, PAYLOAD, 2);
/** The order the load generator writes (src/gateway-sim/twilio-messages.ts) and the order of Twilio's documentation. */
const generatorLayout = `{"event":"media","streamSid":"${ids.streamSid}","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"${PAYLOAD}"}}`;
const documentedLayout = `{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"${PAYLOAD}"},"streamSid":"${ids.streamSid}"}`;

describe('Twilio media fast path', () => {
  it('reads the compact messages gateways send, with what the full path makes of them', () => {
    const compact = [
      canonical,
      generatorLayout,
      documentedLayout,
      mediaMsg(ids, PAYLOAD, 3, 'outbound'),
      mediaMsg(ids, PAYLOAD.slice(0, 8), 4),
      mediaMsg(ids, '', 5),
      `{"event":"media","sequenceNumber":"7","media":{"payload":"${PAYLOAD}","track":"inbound_track"},"streamSid":"${ids.streamSid}"}`,
      `{"event":"media","media":{"payload":"${PAYLOAD}"}}`,
      // Telnyx's names.
      `{"event":"media","sequence_number":"4","media":{"track":"outbound_track","chunk":"2","timestamp":"5","payload":"${PAYLOAD}"},"stream_id":"${ids.streamSid}"}`,
      `{"event":"media","stream_sid":"${ids.streamSid}","media":{"payload":"/w=="}}`,
    ];
    for (const text of compact) {
      // The fast path takes it (this test is about the fast path, not the fallback)…
      expect(scanMedia(text, ids.streamSid, new MediaScan()), text).toBe(true);
      // …and decides as the full path does.
      expectSameAsFullPath(text);
    }
  });

  it.each([
    ['whitespace', JSON.stringify(JSON.parse(canonical), null, 1)],
    ['an escape', canonical.replace('"inbound"', '"in\\u0062ound"')],
    ['a member it does not know', canonical.replace('"media":{', '"extra":"1","media":{')],
    ['a duplicate member', canonical.replace('"media":{', '"sequenceNumber":"9","media":{')],
    ['a duplicate event', canonical.replace(/}$/, ',"event":"stop"}')],
    ['two stream ids', canonical.replace('"media":{', `"stream_id":"${ids.streamSid}","media":{`)],
    ['a numeric counter', canonical.replace('"sequenceNumber":"2"', '"sequenceNumber":2')],
    ['a member after the payload', canonical.replace(`"payload":"${PAYLOAD}"`, `"payload":"${PAYLOAD}","x":"y"`)],
  ])('leaves a message with %s to the full path', (_n, text) => {
    expect(scanMedia(text, ids.streamSid, new MediaScan())).toBe(false);
    expectSameAsFullPath(text);
  });

  it.each([
    ['another stream', mediaMsg(twilioIds('other'), PAYLOAD, 2)],
    ['unpadded base64', mediaMsg(ids, '//8', 2)],
    ['url-safe base64', mediaMsg(ids, '-_-_', 2)],
    ['a stray character in the payload', mediaMsg(ids, '////*///', 2)],
    ['a control character in the payload', mediaMsg(ids, '////\u0001///', 2)],
    ['a non-ASCII payload', mediaMsg(ids, '////é///', 2)],
    ['an unknown track', mediaMsg(ids, PAYLOAD, 2, 'sideways')],
    ['a non-numeric chunk', canonical.replace('"chunk":"1"', '"chunk":"1x"')],
    ['an over-long sequence number', canonical.replace('"sequenceNumber":"2"', `"sequenceNumber":"${'9'.repeat(16)}"`)],
    ['a numeric payload', canonical.replace(`"payload":"${PAYLOAD}"`, '"payload":5')],
    ['no payload', canonical.replace(`,"payload":"${PAYLOAD}"`, '')],
    ['an empty media object', `{"event":"media","streamSid":"${ids.streamSid}","media":{}}`],
    ['no media', `{"event":"media","streamSid":"${ids.streamSid}"}`],
    ['trailing garbage', `${canonical}x`],
    ['a payload that closes the message early', canonical.replace(PAYLOAD, 'AAAA"}}')],
    ['a second message glued on', `${canonical}${canonical}`],
    ['a truncated message', canonical.slice(0, -1)],
    ['an unterminated string', canonical.slice(0, canonical.length - 3)],
  ])('rejects %s with the full path’s close code and reason', (_n, text) => {
    expect(scanMedia(text, ids.streamSid, new MediaScan())).toBe(false);
    expectSameAsFullPath(text);
    expect(outcome(started(true), text)).toHaveProperty('closeCode');
  });

  it('decides every corrupted variant of a media message as the full path does', () => {
    const rng = createRng(13);
    const alphabet = ['"', '\\', ',', '{', '}', ':', ' ', '\n', '\u0001', 'a', 'A', '0', '9', '=', '-', '_', '+', '/', 'é', '[', ']'];
    const pick = (n: number): number => Math.floor(rng() * n);
    let fast = 0;
    for (let n = 0; n < 4000; n++) {
      const layouts = [canonical, generatorLayout, documentedLayout];
      let text = n % 2 === 0 ? layouts[pick(3)]! : mediaMsg(ids, PAYLOAD.slice(0, 4 * (1 + pick(40))), 2 + pick(1000), rng() < 0.5 ? 'inbound' : 'outbound');
      for (let edits = 1 + pick(2); edits > 0; edits--) {
        const at = pick(text.length + 1);
        const kind = pick(4);
        if (kind === 0) text = text.slice(0, at) + text.slice(at + 1);
        else if (kind === 1) text = text.slice(0, at) + alphabet[pick(alphabet.length)]! + text.slice(at);
        else if (kind === 2) text = text.slice(0, at) + alphabet[pick(alphabet.length)]! + text.slice(at + 1);
        else {
          const from = pick(text.length);
          text = text.slice(0, at) + text.slice(from, from + 1 + pick(12)) + text.slice(at);
        }
      }
      if (scanMedia(text, ids.streamSid, new MediaScan())) fast += 1;
      expectSameAsFullPath(text);
    }
    // Some corruptions keep a valid message (a payload byte changed): those took the fast path.
    expect(fast).toBeGreaterThan(0);
  });
});
