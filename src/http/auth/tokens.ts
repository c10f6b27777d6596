/**
 * JWTs: HS256 with the service's `JWT_SECRET`, verified with fast-jwt (the
 * library behind @fastify/jwt; synchronous, so an ingest adapter can check a
 * token inside a start message without going async).
 *
 * Claims: `sub` = the principal's id (the agent id for agents), `role` =
 * `agent` | `supervisor` | `gateway` | `admin`, `exp` required.
 */
import { createSigner, createVerifier, TokenError } from 'fast-jwt';

export const ROLES = ['agent', 'supervisor', 'gateway', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who a verified token speaks for. */
export interface Principal {
  sub: string;
  role: Role;
}

/** Why a token was not accepted; maps to 401 and a `UT_ERR_…` code. */
export type TokenProblem = 'missing' | 'expired' | 'invalid';

export type TokenCheck = { ok: true; principal: Principal } | { ok: false; problem: TokenProblem };

export type TokenVerifier = (token: string | undefined) => TokenCheck;

/**
 * A verifier for `secret`. An empty secret (AUTH on, JWT_SECRET unset) makes
 * every token invalid: the service fails closed rather than open.
 */
export function createTokenVerifier(secret: string): TokenVerifier {
  const verify =
    secret === ''
      ? undefined
      : createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['sub', 'role', 'exp'], clockTolerance: 5000 });
  return (token) => {
    if (token === undefined || token === '') return { ok: false, problem: 'missing' };
    if (!verify) return { ok: false, problem: 'invalid' };
    let claims: Record<string, unknown>;
    try {
      claims = verify(token) as Record<string, unknown>;
    } catch (error) {
      const expired = error instanceof TokenError && error.code === TokenError.codes.expired;
      return { ok: false, problem: expired ? 'expired' : 'invalid' };
    }
    const { sub, role } = claims;
    if (typeof sub !== 'string' || sub === '' || !(ROLES as readonly unknown[]).includes(role)) {
      return { ok: false, problem: 'invalid' };
    }
    return { ok: true, principal: { sub, role: role as Role } };
  };
}

/**
 * Mints a token (the demo, tests, and operators via `undertone token`).
 * @param expiresInMs lifetime, ms (default 1 hour)
 */
export function signToken(secret: string, principal: Principal, expiresInMs = 3_600_000): string {
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: expiresInMs })({ sub: principal.sub, role: principal.role });
}
