/**
 * Who may open what: ONE table, keyed by the route pattern fastify matched
 * (so routes added elsewhere are covered by adding a row here, not by
 * touching their handlers). `/*` at the end of a rule matches the prefix and
 * everything under it. A route with no row is admin-only (fail closed, and
 * logged once so the missing row gets noticed).
 *
 * | route | access |
 * | --- | --- |
 * | `/healthz`, `/readyz` | open (probes) |
 * | `/metrics` | open: aggregate counters only, no ids; keep it off the public ingress |
 * | `/v1/streams/twilio` | gateway: gateway JWT (header/`access_token`), or a valid `X-Twilio-Signature` when `TWILIO_AUTH_TOKEN` is set, or a gateway JWT in `start.customParameters.token` |
 * | `/v1/streams/l16` | gateway: gateway JWT in the header/`access_token`, or in the first (start) message |
 * | `/v1/streams/audiohook` | the endpoint's own AudioHook HTTP message signatures (src/ingest/audiohook-signature.ts) |
 * | `/v1/agents/:agentId/stream` | agent whose `sub` is that agentId; supervisor; admin |
 * | `PUT /v1/calls/:callId/agent`, `POST /v1/calls/:callId/survey`, `POST /v1/calls/:callId/bot-turns` | gateway (the telephony side reports them), supervisor, admin |
 * | `/dashboard`, `/dashboard/assets/*` | open: the page and its scripts hold no data; the data they fetch (`/v1/supervisor/*`, `/v1/calls*`) needs a supervisor token, which the page passes on from its own `?access_token=` |
 * | `/v1/calls`, `/v1/calls/*`, `/v1/supervisor/*` | supervisor, admin |
 * | `/admin`, `/admin/*` | admin |
 */
import type { Role } from './tokens.js';

export type Access =
  /** No credentials needed. */
  | { kind: 'public' }
  /** A JWT with one of `roles`; or role `agent` whose `sub` equals the route parameter `ownAgentParam`. */
  | { kind: 'roles'; roles: readonly Role[]; ownAgentParam?: string }
  /**
   * A gateway stream: a gateway (or admin) JWT at the upgrade; or, when
   * `twilioSignature`, a valid X-Twilio-Signature; or, when `startToken`,
   * the upgrade is let through and the stream's start message must carry a
   * gateway JWT (checked by src/http/auth/gateway-start-token.ts).
   */
  | { kind: 'gateway'; twilioSignature: boolean; startToken: boolean }
  /** The endpoint authenticates its peer itself (its own signature scheme). */
  | { kind: 'self' };

export interface AccessRule {
  /** Route pattern as registered (`/v1/agents/:agentId/stream`), or a prefix ending in `/*`. */
  path: string;
  /** HTTP method; every method when absent. */
  method?: string;
  access: Access;
}

const PUBLIC: Access = { kind: 'public' };
const SUPERVISOR: Access = { kind: 'roles', roles: ['supervisor', 'admin'] };
const ADMIN: Access = { kind: 'roles', roles: ['admin'] };
const GATEWAY_REPORTS: Access = { kind: 'roles', roles: ['gateway', 'supervisor', 'admin'] };

/** The table; first match wins, so specific rows come before prefixes. */
export const ACCESS_RULES: readonly AccessRule[] = [
  { path: '/healthz', access: PUBLIC },
  { path: '/readyz', access: PUBLIC },
  { path: '/metrics', access: PUBLIC },
  { path: '/v1/streams/twilio', access: { kind: 'gateway', twilioSignature: true, startToken: true } },
  { path: '/v1/streams/l16', access: { kind: 'gateway', twilioSignature: false, startToken: true } },
  { path: '/v1/streams/audiohook', access: { kind: 'self' } },
  { path: '/v1/agents/:agentId/stream', access: { kind: 'roles', roles: ['supervisor', 'admin'], ownAgentParam: 'agentId' } },
  { method: 'PUT', path: '/v1/calls/:callId/agent', access: GATEWAY_REPORTS },
  { method: 'POST', path: '/v1/calls/:callId/survey', access: GATEWAY_REPORTS },
  { method: 'POST', path: '/v1/calls/:callId/bot-turns', access: GATEWAY_REPORTS },
  { path: '/v1/calls', access: SUPERVISOR },
  { path: '/v1/calls/*', access: SUPERVISOR },
  { path: '/v1/supervisor/*', access: SUPERVISOR },
  { path: '/dashboard', access: PUBLIC },
  { path: '/dashboard/assets/*', access: PUBLIC },
  { path: '/admin', access: ADMIN },
  { path: '/admin/*', access: ADMIN },
];

/** Fail closed: a route nobody wrote a row for. */
export const DEFAULT_ACCESS: Access = ADMIN;

function matches(rule: AccessRule, method: string, routePath: string): boolean {
  if (rule.method !== undefined && rule.method !== method && !(rule.method === 'GET' && method === 'HEAD')) return false;
  if (rule.path.endsWith('/*')) {
    const prefix = rule.path.slice(0, -2);
    return routePath === prefix || routePath.startsWith(`${prefix}/`);
  }
  return rule.path === routePath;
}

/** The access rule for a matched route, or undefined when no row covers it. */
export function accessFor(method: string, routePath: string, rules: readonly AccessRule[] = ACCESS_RULES): Access | undefined {
  return rules.find((r) => matches(r, method, routePath))?.access;
}
