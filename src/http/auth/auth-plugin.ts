/**
 * Authentication and authorisation for every route, in ONE onRequest hook.
 * onRequest runs before @fastify/websocket upgrades a connection, so a
 * refused WebSocket gets a plain HTTP 401/403 and no socket is ever opened.
 *
 * Credentials: `Authorization: Bearer <jwt>`, or for browsers (which cannot
 * set headers on a WebSocket) an `access_token` query parameter. The route
 * decides what is needed (src/http/auth/access-rules.ts). The result is on
 * the request: `request.principal` (the verified token, or null) and
 * `request.gatewayAuth` (`'start-token'` when a gateway stream still has to
 * prove itself in its start message).
 *
 * Refusals are counted (`undertone_refusals_total{reason="auth_…"}`) and
 * logged with the route and reason; never the token (the logger's request
 * serializer strips `access_token` from URLs, and the header is redacted).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics, RefusalReason } from '../../observability/metrics.js';
import { accessFor, DEFAULT_ACCESS, type Access } from './access-rules.js';
import { candidateUrls, isValidTwilioSignature } from './twilio-signature.js';
import { createTokenVerifier, type Principal, type TokenProblem, type TokenVerifier } from './tokens.js';

export interface AuthOptions {
  /** False = AUTH=off: everything is open (a warning is logged at start-up). */
  enabled: boolean;
  /** HS256 secret; empty while enabled = every protected route refuses (fail closed). */
  jwtSecret: string;
  /** Twilio auth token for X-Twilio-Signature; empty = signatures not checked (a gateway JWT is needed). */
  twilioAuthToken: string;
  /** Public base URL Twilio dials (for the signed URL); empty = from the Host header. */
  publicUrl: string;
  metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified JWT's principal; null when none was given or needed (or AUTH=off). */
    principal: Principal | null;
    /** Gateway streams: `'start-token'` when the start message must carry a gateway JWT. */
    gatewayAuth: 'verified' | 'start-token' | null;
  }
}

/** The bearer token of a request: the Authorization header first, then `access_token`. */
export function requestToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : '';
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.['access_token'];
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

const PROBLEM: Record<TokenProblem, { status: number; code: string; message: string; reason: RefusalReason }> = {
  missing: { status: 401, code: 'UT_ERR_AUTH_REQUIRED', message: 'a bearer token is required', reason: 'auth_missing' },
  expired: { status: 401, code: 'UT_ERR_TOKEN_EXPIRED', message: 'the token has expired', reason: 'auth_expired' },
  invalid: { status: 401, code: 'UT_ERR_TOKEN_INVALID', message: 'the token is not valid', reason: 'auth_invalid' },
};

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('gatewayAuth', null);
  if (!options.enabled) {
    app.log.warn('AUTH=off: EVERY ENDPOINT IS OPEN to anyone who can reach this port (local demos and tests only)');
    app.addHook('onRequest', async (request) => {
      request.gatewayAuth = 'verified';
    });
    return;
  }
  if (options.jwtSecret === '') {
    app.log.error('AUTH is on but JWT_SECRET is not set: every protected endpoint refuses all requests');
  }
  const verify: TokenVerifier = createTokenVerifier(options.jwtSecret);
  const unruled = new Set<string>();

  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string, reason: RefusalReason): FastifyReply => {
    options.metrics.refused(reason);
    request.log.warn({ route: request.routeOptions.url, status, code }, 'request refused');
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    return reply.code(status).send({ error: code, message });
  };
  const refuseToken = (request: FastifyRequest, reply: FastifyReply, problem: TokenProblem): FastifyReply => {
    const p = PROBLEM[problem];
    return refuse(request, reply, p.status, p.code, p.message, p.reason);
  };
  const forbid = (request: FastifyRequest, reply: FastifyReply, message: string): FastifyReply =>
    refuse(request, reply, 403, 'UT_ERR_FORBIDDEN', message, 'auth_forbidden');

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    // Unknown URL: the 404 handler answers; there is nothing to protect.
    if (route === undefined) return;
    let access: Access | undefined = accessFor(request.method, route);
    if (access === undefined) {
      if (!unruled.has(route)) {
        unruled.add(route);
        request.log.warn({ route }, 'route has no access rule: admin only (add a row to src/http/auth/access-rules.ts)');
      }
      access = DEFAULT_ACCESS;
    }

    switch (access.kind) {
      case 'public':
      case 'self':
        return;
      case 'roles': {
        const check = verify(requestToken(request));
        if (!check.ok) return refuseToken(request, reply, check.problem);
        const { principal } = check;
        const ownAgent = access.ownAgentParam
          ? (request.params as Record<string, string | undefined>)[access.ownAgentParam]
          : undefined;
        const allowed =
          access.roles.includes(principal.role) || (principal.role === 'agent' && ownAgent !== undefined && ownAgent === principal.sub);
        if (!allowed) return forbid(request, reply, `role '${principal.role}' may not use this endpoint`);
        request.principal = principal;
        return;
      }
      case 'gateway': {
        const token = requestToken(request);
        if (token !== undefined) {
          const check = verify(token);
          if (!check.ok) return refuseToken(request, reply, check.problem);
          if (check.principal.role !== 'gateway' && check.principal.role !== 'admin') {
            return forbid(request, reply, `role '${check.principal.role}' may not stream calls`);
          }
          request.principal = check.principal;
          request.gatewayAuth = 'verified';
          return;
        }
        const signature = request.headers['x-twilio-signature'];
        if (access.twilioSignature && options.twilioAuthToken !== '' && typeof signature === 'string') {
          const urls = candidateUrls(options.publicUrl, request.headers.host, request.url);
          if (!isValidTwilioSignature(options.twilioAuthToken, signature, urls)) {
            return refuse(request, reply, 403, 'UT_ERR_BAD_SIGNATURE', 'X-Twilio-Signature does not match', 'auth_invalid');
          }
          request.gatewayAuth = 'verified';
          return;
        }
        if (access.startToken) {
          request.gatewayAuth = 'start-token';
          return;
        }
        return refuseToken(request, reply, 'missing');
      }
    }
  });
}
