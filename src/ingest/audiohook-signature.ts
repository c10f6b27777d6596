/**
 * HTTP Message Signature check for Genesys AudioHook upgrade requests
 * (RFC 9421 as AudioHook uses it; Genesys's reference server is the model).
 *
 * The client signs, with HMAC-SHA256 keyed by the base64-decoded client
 * secret, one line per covered component, `"<name>": <value>`, joined with
 * `\n`, then `"@signature-params": <the inner list and its parameters>`:
 *
 * ```
 * Signature-Input: sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="<api key>";nonce="…";alg="hmac-sha256";created=<unix s>;expires=<unix s>
 * Signature: sig1=:<base64 HMAC>:
 * ```
 *
 * Rules (each failure names itself in `reason`):
 * - `X-API-KEY` present and configured; `keyid` equals it.
 * - no `Signature`/`Signature-Input` at all: accepted only when the key's
 *   secret is `""`.
 * - the signature covers `@request-target`, `@authority` (or `host`, which
 *   Genesys's documented example signs), the three `audiohook-*` ids and
 *   `x-api-key`; `alg` (when given) is `hmac-sha256`; a `nonce` of at least
 *   22 characters; `created` not in the future and at most `maxAgeS` old,
 *   `expires` not past (both with `clockSkewS` leeway).
 *
 * The base is rebuilt from the parsed Signature-Input (re-serialised), so a
 * sloppily encoded header cannot smuggle a different base past the check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseDictionary, serializeInnerList, type InnerList, type Item } from 'structured-headers';

/** Request facts the signature can cover. Header names lower-case, as Node gives them. */
export interface SignedRequest {
  method: string;
  /** Path and query exactly as requested (`@request-target`). */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface SignatureCheckOptions {
  /** api key → base64 client secret (`""` = unsigned connections allowed for that key). */
  keys: Readonly<Record<string, string>>;
  /** Current time, unix seconds (default now). */
  nowS?: number;
  /** Oldest `created` accepted, seconds before now (default 10, as Genesys's reference server). */
  maxAgeS?: number;
  /** Clock difference tolerated between Genesys and us, seconds (default 5). */
  clockSkewS?: number;
}

export type SignatureCheck = { ok: true; apiKey: string; signed: boolean } | { ok: false; reason: string };

const MIN_NONCE_CHARS = 22;
const REQUIRED = ['@request-target', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'] as const;

function fail(reason: string): SignatureCheck {
  return { ok: false, reason };
}

/** A header's value as RFC 9421 §2.1 wants it: trimmed, obsolete folding collapsed, repeats joined. */
function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const canon = (v: string): string => v.trim().replace(/[ \t]*\r\n[ \t]+/g, ' ');
  return Array.isArray(value) ? value.map(canon).join(', ') : canon(value);
}

function componentValue(request: SignedRequest, name: string): string | undefined {
  switch (name) {
    case '@request-target':
      return request.url;
    case '@authority':
      return headerValue(request.headers, 'host')?.toLowerCase();
    case '@method':
      return request.method.toUpperCase();
    case '@path':
      return request.url.split('?')[0];
    case '@query': {
      const q = request.url.indexOf('?');
      return q < 0 ? '?' : request.url.slice(q);
    }
    default:
      return name.startsWith('@') ? undefined : headerValue(request.headers, name);
  }
}

/** Verifies an AudioHook upgrade request; never throws. */
export function checkAudiohookSignature(request: SignedRequest, options: SignatureCheckOptions): SignatureCheck {
  const apiKey = headerValue(request.headers, 'x-api-key');
  if (apiKey === undefined || apiKey === '') return fail('missing X-API-KEY header');
  const secret = Object.hasOwn(options.keys, apiKey) ? options.keys[apiKey] : undefined;
  if (secret === undefined) return fail('unknown api key');

  const inputHeader = headerValue(request.headers, 'signature-input');
  const signatureHeader = headerValue(request.headers, 'signature');
  if (inputHeader === undefined && signatureHeader === undefined) {
    return secret === '' ? { ok: true, apiKey, signed: false } : fail('request is not signed (Signature and Signature-Input missing)');
  }
  if (inputHeader === undefined || signatureHeader === undefined) return fail('Signature and Signature-Input must come together');

  let inputs: ReturnType<typeof parseDictionary>;
  let signatures: ReturnType<typeof parseDictionary>;
  try {
    inputs = parseDictionary(inputHeader);
    signatures = parseDictionary(signatureHeader);
  } catch {
    return fail('Signature or Signature-Input is not a valid structured field');
  }
  const first = inputs.entries().next();
  if (first.done === true) return fail('Signature-Input is empty');
  const [label, member] = first.value;
  if (!Array.isArray(member[0])) return fail(`Signature-Input '${label}' is not an inner list`);
  const list = member as InnerList;
  const sigMember = signatures.get(label);
  if (sigMember === undefined || Array.isArray(sigMember[0]) || !(sigMember[0] instanceof ArrayBuffer)) {
    return fail(`no byte-sequence Signature for label '${label}'`);
  }
  const signature = Buffer.from(sigMember[0]);

  const params = list[1];
  const keyid = params.get('keyid');
  const alg = params.get('alg');
  const nonce = params.get('nonce');
  const created = params.get('created');
  const expires = params.get('expires');
  if (keyid !== apiKey) return fail('signature keyid does not match X-API-KEY');
  if (alg !== undefined && alg !== 'hmac-sha256') return fail(`unsupported signature alg ${String(alg)}`);
  if (typeof nonce !== 'string' || nonce.length < MIN_NONCE_CHARS) return fail(`signature nonce missing or shorter than ${MIN_NONCE_CHARS} characters`);
  if (typeof created !== 'number' || !Number.isInteger(created)) return fail('signature has no integer created time');
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isInteger(expires))) return fail('signature expires is not an integer');

  const nowS = options.nowS ?? Date.now() / 1000;
  const skewS = options.clockSkewS ?? 5;
  const maxAgeS = options.maxAgeS ?? 10;
  if (created > nowS + skewS) return fail('signature created time is in the future');
  if (typeof expires === 'number' && expires + skewS < nowS) return fail('signature expired');
  if (created + maxAgeS + skewS < nowS) return fail(`signature older than ${maxAgeS} s`);

  const lines: string[] = [];
  const covered = new Set<string>();
  for (const item of list[0] as Item[]) {
    const name = item[0];
    if (typeof name !== 'string') return fail('Signature-Input components must be strings');
    if (item[1].size > 0) return fail(`component parameters are not supported ("${name}")`);
    if (covered.has(name)) return fail(`component "${name}" listed twice`);
    const value = componentValue(request, name);
    if (value === undefined) return fail(`cannot resolve signed component "${name}"`);
    lines.push(`"${name}": ${value}`);
    covered.add(name);
  }
  const missing = REQUIRED.filter((c) => !covered.has(c));
  if (!covered.has('@authority') && !covered.has('host')) missing.push('@authority' as never);
  if (missing.length > 0) return fail(`signature does not cover ${missing.join(', ')}`);
  lines.push(`"@signature-params": ${serializeInnerList(list)}`);

  // An empty secret still verifies (an all-zero HMAC key), as in Genesys's reference server.
  const key = Buffer.from(secret, 'base64');
  const expected = createHmac('sha256', key).update(lines.join('\n')).digest();
  const same = signature.length === expected.length && timingSafeEqual(signature, expected);
  return same ? { ok: true, apiKey, signed: true } : fail('signature does not match');
}
