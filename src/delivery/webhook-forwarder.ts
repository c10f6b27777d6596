/**
 * Routing changes (`priority`, `recovered`, `handover` jobs) forwarded to the
 * contact centre's router as HMAC-SHA256-signed HTTP POSTs. The body is the
 * job's v1 payload (schemas/call-routing-job.v1.schema.json), byte for byte
 * what was signed. A non-2xx answer, a network error or a timeout throws,
 * which fails the job: BullMQ retries it with exponential backoff (the
 * publisher's `attempts`/`backoffDelayMs`), so nothing is lost to a router
 * that is briefly down.
 *
 * Headers:
 * - `X-Undertone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 *   (the time is signed too, so a captured request cannot be replayed later)
 * - `X-Undertone-Event: priority | recovered | handover`
 * - `X-Undertone-Delivery: <job id>`: the same on every retry: de-duplicate on it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UndertoneError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { RoutingChangeJobData } from '../queue/job-schema.js';
import type { RoutingForwarder } from './routing-worker.js';

export const SIGNATURE_HEADER = 'x-undertone-signature';
export const EVENT_HEADER = 'x-undertone-event';
export const DELIVERY_HEADER = 'x-undertone-delivery';

export interface WebhookForwarderOptions {
  /** Where to POST (`ROUTING_WEBHOOK_URL`). */
  url: string;
  /** HMAC key (`ROUTING_WEBHOOK_SECRET`). */
  secret: string;
  /** One POST may take this long before it counts as failed, ms. @defaultValue 5000 */
  timeoutMs?: number;
  logger: Logger;
  /** Wall clock for the signature time, ms. @defaultValue `Date.now` */
  now?: () => number;
}

/** The router did not take a forwarded routing change (the job is retried). */
export class WebhookDeliveryError extends UndertoneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UT_ERR_WEBHOOK_DELIVERY', message, options);
  }
}

/** `t=<unix s>,v1=<hex>` for a body signed at `timestampS`. */
export function signWebhook(secret: string, body: string, timestampS: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/**
 * What a receiver runs: true when `header` signs `body` with `secret` and its
 * time is within `toleranceS` of now. Compare on the raw body, before parsing.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceS?: number; nowS?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - t) > (options.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).slice(`t=${t},v1=`.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

/** The signed-webhook {@link RoutingForwarder}. */
export function createWebhookForwarder(options: WebhookForwarderOptions): RoutingForwarder {
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'routing-webhook' });
  return {
    async forward(data: RoutingChangeJobData, jobId: string): Promise<void> {
      const body = JSON.stringify(data);
      const headers = {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(options.secret, body, Math.floor(now() / 1000)),
        [EVENT_HEADER]: data.type,
        [DELIVERY_HEADER]: jobId,
      };
      let res: Response;
      try {
        res = await fetch(options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        log.warn({ err, jobId, callId: data.callId }, 'routing webhook unreachable; the job will be retried');
        throw new WebhookDeliveryError(`routing webhook unreachable: ${(err as Error).message}`, { cause: err });
      }
      // Drain the body so the connection can be reused.
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        log.warn({ jobId, callId: data.callId, status: res.status }, 'routing webhook refused; the job will be retried');
        throw new WebhookDeliveryError(`routing webhook answered ${res.status}: ${text.slice(0, 200)}`);
      }
      log.debug({ jobId, callId: data.callId, type: data.type, status: res.status }, 'routing change forwarded');
    },
  };
}
