/**
 * Gateway streams that did not authenticate at the upgrade (no gateway JWT
 * header, no Twilio signature) must carry a gateway JWT in their start
 * message: Twilio `start.customParameters.token`, L16 `token` in its first
 * message. Every adapter puts unrecognised start parameters into
 * `CallStartEvent.metadata`, so one wrapper around the adapter covers every
 * protocol: it checks `metadata.token` on the start event, and always strips
 * it so the token never reaches the call's state, the API or a log.
 *
 * A missing or bad token closes the stream with 1008 and a coded reason
 * before any call is opened (the refusal is counted).
 */
import type { CallEvent, CallStartEvent } from '../../ingest/call-event.js';
import type { IngestAdapter, IngestResult } from '../../ingest/ingest-adapter.js';
import type { Metrics } from '../../observability/metrics.js';
import { ProtocolError } from '../../shared/errors.js';
import type { TokenVerifier } from './tokens.js';

/** Start parameter that carries the gateway JWT. */
export const START_TOKEN_PARAM = 'token';

export interface StartTokenOptions {
  /** True when the start message must prove the gateway (it did not at the upgrade). */
  required: boolean;
  verify: TokenVerifier;
  metrics: Metrics;
}

function withoutToken(start: CallStartEvent): CallStartEvent {
  if (!(START_TOKEN_PARAM in start.metadata)) return start;
  const { [START_TOKEN_PARAM]: _token, ...rest } = start.metadata;
  return { ...start, metadata: Object.freeze(rest) };
}

export function withStartToken(inner: IngestAdapter, options: StartTokenOptions): IngestAdapter {
  const check = (start: CallStartEvent): void => {
    if (!options.required) return;
    const result = options.verify(start.metadata[START_TOKEN_PARAM]);
    if (!result.ok) {
      options.metrics.refused(result.problem === 'missing' ? 'auth_missing' : result.problem === 'expired' ? 'auth_expired' : 'auth_invalid');
      const code = result.problem === 'missing' ? 'UT_ERR_AUTH_REQUIRED' : result.problem === 'expired' ? 'UT_ERR_TOKEN_EXPIRED' : 'UT_ERR_TOKEN_INVALID';
      throw new ProtocolError(code, 1008, `start needs a valid gateway token in parameter '${START_TOKEN_PARAM}' (${result.problem})`);
    }
    if (result.principal.role !== 'gateway' && result.principal.role !== 'admin') {
      options.metrics.refused('auth_forbidden');
      throw new ProtocolError('UT_ERR_FORBIDDEN', 1008, `role '${result.principal.role}' may not stream calls`);
    }
  };
  const filter = (result: IngestResult): IngestResult => {
    // Every message passes here: a plain loop, no closure, until a start shows up.
    let hasStart = false;
    for (let i = 0; i < result.events.length; i++) if (result.events[i]!.kind === 'start') hasStart = true;
    if (!hasStart) return result;
    const events: CallEvent[] = result.events.map((e) => {
      if (e.kind !== 'start') return e;
      check(e);
      return withoutToken(e);
    });
    return { ...result, events };
  };
  const wrapped: IngestAdapter = {
    get source() {
      return inner.source;
    },
    onText: (text) => filter(inner.onText(text)),
    onBinary: (data) => filter(inner.onBinary(data)),
    onClose: (reason, closeCode) => inner.onClose(reason, closeCode),
  };
  // Every member of IngestAdapter passes through; keep this in step with the port.
  if (inner.onFatal) wrapped.onFatal = (error: unknown) => inner.onFatal!(error);
  return wrapped;
}
