/**
 * Signs an AudioHook upgrade request the way Genesys Cloud does (HTTP Message
 * Signatures, HMAC-SHA256 over `@request-target`, `@authority`, the three
 * `audiohook-*` ids and `x-api-key`). For the simulated gateway and tests.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { serializeDictionary, serializeInnerList, type InnerList } from 'structured-headers';

export interface AudiohookSignOptions {
  /** Path and query of the request (`@request-target`), e.g. `/v1/streams/audiohook`. */
  requestTarget: string;
  /** Host header value (`@authority`), e.g. `127.0.0.1:8080`. */
  authority: string;
  organizationId: string;
  sessionId: string;
  correlationId: string;
  apiKey: string;
  /** Base64 client secret. */
  clientSecret: string;
  /** Unix seconds (default now). */
  createdS?: number;
  /** Lifetime, seconds (default 30, as Genesys's reference client). */
  lifetimeS?: number;
  nonce?: string;
  /** Component names to sign (default the six AudioHook ones). */
  components?: string[];
}

/** The upgrade headers Genesys sends: ids, X-API-KEY, Signature-Input, Signature. */
export function signAudiohookRequest(o: AudiohookSignOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'audiohook-organization-id': o.organizationId,
    'audiohook-session-id': o.sessionId,
    'audiohook-correlation-id': o.correlationId,
    'x-api-key': o.apiKey,
  };
  const components = o.components ?? ['@request-target', '@authority', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'];
  const created = Math.floor(o.createdS ?? Date.now() / 1000);
  const params = new Map<string, string | number>([
    ['keyid', o.apiKey],
    ['nonce', o.nonce ?? randomBytes(18).toString('base64')],
    ['alg', 'hmac-sha256'],
    ['created', created],
    ['expires', created + (o.lifetimeS ?? 30)],
  ]);
  const list: InnerList = [components.map((c) => [c, new Map()]), params];
  const value = (name: string): string => {
    if (name === '@request-target') return o.requestTarget;
    if (name === '@authority' || name === 'host') return o.authority;
    const v = headers[name];
    if (v === undefined) throw new Error(`cannot sign unknown component ${name}`);
    return v;
  };
  const base = [...components.map((c) => `"${c}": ${value(c)}`), `"@signature-params": ${serializeInnerList(list)}`].join('\n');
  const mac = createHmac('sha256', Buffer.from(o.clientSecret, 'base64')).update(base).digest();
  headers['signature-input'] = serializeDictionary(new Map([['sig1', list]]));
  headers['signature'] = serializeDictionary(new Map([['sig1', [mac.buffer.slice(mac.byteOffset, mac.byteOffset + mac.byteLength) as ArrayBuffer, new Map()]]]));
  return headers;
}
