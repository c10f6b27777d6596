/**
 * The AudioHook signature check against the example in Genesys's AudioHook
 * documentation (also used by Genesys's reference implementation), and
 * against requests signed by our simulated gateway.
 */
import { describe, expect, it } from 'vitest';
import { signAudiohookRequest } from '../../src/gateway-sim/audiohook-signer.js';
import { checkAudiohookSignature, type SignedRequest } from '../../src/ingest/audiohook-signature.js';

// The documentation example: request target /api/v1/voicebiometrics/ws on audiohook.example.com.
const DOC_KEY = 'SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh';
const DOC_SECRET = 'TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=';
const DOC_CREATED = 1641013200;
function docRequest(overrides: Record<string, string> = {}): SignedRequest {
  return {
    method: 'GET',
    url: '/api/v1/voicebiometrics/ws',
    headers: {
      host: 'audiohook.example.com',
      'audiohook-organization-id': 'd7934305-0972-4844-938e-9060eef73d05',
      'audiohook-session-id': '30b0e395-84d3-4570-ac13-9a62d8f514c0',
      'audiohook-correlation-id': 'e160e428-53e2-487c-977d-96989bf5c99d',
      'x-api-key': DOC_KEY,
      signature: 'sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:',
      'signature-input':
        'sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430',
      ...overrides,
    },
  };
}

describe('checkAudiohookSignature — the AudioHook documentation example', () => {
  const keys = { [DOC_KEY]: DOC_SECRET };

  it('verifies the documented signature', () => {
    expect(checkAudiohookSignature(docRequest(), { keys, nowS: DOC_CREATED + 1 })).toEqual({ ok: true, apiKey: DOC_KEY, signed: true });
  });

  it('refuses it with the wrong client secret', () => {
    const r = checkAudiohookSignature(docRequest(), { keys: { [DOC_KEY]: 'd3Jvbmcgc2VjcmV0' }, nowS: DOC_CREATED });
    expect(r).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses it once older than the maximum age', () => {
    const r = checkAudiohookSignature(docRequest(), { keys, nowS: DOC_CREATED + 60 });
    expect(r).toEqual({ ok: false, reason: 'signature older than 10 s' });
  });

  it.each([
    ['audiohook-session-id', '00000000-84d3-4570-ac13-9a62d8f514c0'],
    ['audiohook-organization-id', '00000000-0972-4844-938e-9060eef73d05'],
    ['host', 'evil.example.com'],
  ])('refuses it when %s is tampered with', (name, value) => {
    const r = checkAudiohookSignature(docRequest({ [name]: value }), { keys, nowS: DOC_CREATED });
    expect(r).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses a tampered request target', () => {
    const r = checkAudiohookSignature({ ...docRequest(), url: '/api/v1/other' }, { keys, nowS: DOC_CREATED });
    expect(r.ok).toBe(false);
  });

  it('refuses an unknown or missing api key and a keyid that is not the api key', () => {
    expect(checkAudiohookSignature(docRequest(), { keys: { other: DOC_SECRET }, nowS: DOC_CREATED })).toEqual({ ok: false, reason: 'unknown api key' });
    const noKey = docRequest();
    delete (noKey.headers as Record<string, unknown>)['x-api-key'];
    expect(checkAudiohookSignature(noKey, { keys, nowS: DOC_CREATED })).toEqual({ ok: false, reason: 'missing X-API-KEY header' });
    const r = checkAudiohookSignature(docRequest({ 'x-api-key': 'other' }), { keys: { other: DOC_SECRET }, nowS: DOC_CREATED });
    expect(r).toEqual({ ok: false, reason: 'signature keyid does not match X-API-KEY' });
  });
});

describe('checkAudiohookSignature — signed by the simulated gateway', () => {
  const base = {
    requestTarget: '/v1/streams/audiohook',
    authority: '127.0.0.1:8080',
    organizationId: 'd7934305-0972-4844-938e-9060eef73d05',
    sessionId: '30b0e395-84d3-4570-ac13-9a62d8f514c0',
    correlationId: 'e160e428-53e2-487c-977d-96989bf5c99d',
    apiKey: 'key-1',
    clientSecret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
  };
  const keys = { 'key-1': base.clientSecret, open: '' };
  const request = (headers: Record<string, string>): SignedRequest => ({ method: 'GET', url: base.requestTarget, headers: { host: base.authority, ...headers } });

  it('accepts a fresh signature and refuses it once expired', () => {
    const nowS = 1_800_000_000;
    const headers = signAudiohookRequest({ ...base, createdS: nowS, lifetimeS: 30 });
    expect(checkAudiohookSignature(request(headers), { keys, nowS })).toMatchObject({ ok: true, signed: true });
    expect(checkAudiohookSignature(request(headers), { keys, nowS: nowS + 40, maxAgeS: 3600 })).toEqual({ ok: false, reason: 'signature expired' });
    expect(checkAudiohookSignature(request(headers), { keys, nowS: nowS - 60 })).toEqual({ ok: false, reason: 'signature created time is in the future' });
  });

  it('accepts `host` in place of `@authority`, but not a signature that leaves out a required id', () => {
    const nowS = 1_800_000_000;
    const withHost = signAudiohookRequest({ ...base, createdS: nowS, components: ['@request-target', 'host', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'] });
    expect(checkAudiohookSignature(request(withHost), { keys, nowS })).toMatchObject({ ok: true });
    const partial = signAudiohookRequest({ ...base, createdS: nowS, components: ['@request-target', '@authority', 'x-api-key'] });
    expect(checkAudiohookSignature(request(partial), { keys, nowS })).toEqual({
      ok: false,
      reason: 'signature does not cover audiohook-organization-id, audiohook-session-id, audiohook-correlation-id',
    });
  });

  it('accepts an unsigned request only for a key whose secret is empty', () => {
    const ids = { 'audiohook-session-id': base.sessionId };
    expect(checkAudiohookSignature(request({ ...ids, 'x-api-key': 'open' }), { keys })).toEqual({ ok: true, apiKey: 'open', signed: false });
    expect(checkAudiohookSignature(request({ ...ids, 'x-api-key': 'key-1' }), { keys })).toEqual({
      ok: false,
      reason: 'request is not signed (Signature and Signature-Input missing)',
    });
  });

  it('refuses a short nonce, a foreign alg and garbage headers', () => {
    const nowS = 1_800_000_000;
    const short = signAudiohookRequest({ ...base, createdS: nowS, nonce: 'abc' });
    expect(checkAudiohookSignature(request(short), { keys, nowS }).ok).toBe(false);
    const good = signAudiohookRequest({ ...base, createdS: nowS });
    const foreign = { ...good, 'signature-input': good['signature-input']!.replace('hmac-sha256', 'rsa-pss-sha512') };
    expect(checkAudiohookSignature(request(foreign), { keys, nowS })).toEqual({ ok: false, reason: 'unsupported signature alg rsa-pss-sha512' });
    expect(checkAudiohookSignature(request({ ...good, signature: 'sig1=not-bytes((' }), { keys, nowS })).toEqual({
      ok: false,
      reason: 'Signature or Signature-Input is not a valid structured field',
    });
  });
});
