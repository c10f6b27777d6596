/**
 * Authentication and authorisation: every role × every endpoint, and every
 * bad token (missing, expired, wrong signature, malformed) × every protected
 * endpoint. WebSocket refusals must be HTTP 401/403 at the upgrade (no
 * socket). Routes other modules add (supervisor stream, dashboard, admin)
 * are stood in for by test routes: the rule table covers them by pattern.
 */
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type Role } from '../../src/http/auth/tokens.js';
import { twilioSignature } from '../../src/http/auth/twilio-signature.js';
import { connectedMsg, startMsg } from '../ingest/twilio-fixtures.js';
import { closed, twilioCallSid } from '../integration/helpers.js';
import { bearer, SECRET, startTestApp, upgrade, type TestApp } from './app-fixture.js';

const TWILIO_TOKEN = 'twilio-auth-token-for-tests';

type Kind = 'ws' | 'http';
interface Endpoint {
  name: string;
  kind: Kind;
  path: string;
  /** Expected status per principal (101 = upgraded, for WebSockets). */
  expect: Record<'agentOwn' | 'agentOther' | 'supervisor' | 'gateway' | 'admin', number>;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'agent stream', kind: 'ws', path: '/v1/agents/agent-a/stream', expect: { agentOwn: 101, agentOther: 403, supervisor: 101, gateway: 403, admin: 101 } },
  { name: 'twilio stream', kind: 'ws', path: '/v1/streams/twilio', expect: { agentOwn: 403, agentOther: 403, supervisor: 403, gateway: 101, admin: 101 } },
  { name: 'l16 stream', kind: 'ws', path: '/v1/streams/l16', expect: { agentOwn: 403, agentOther: 403, supervisor: 403, gateway: 101, admin: 101 } },
  { name: 'supervisor stream', kind: 'ws', path: '/v1/supervisor/stream', expect: { agentOwn: 403, agentOther: 403, supervisor: 101, gateway: 403, admin: 101 } },
  { name: 'call list', kind: 'http', path: '/v1/calls', expect: { agentOwn: 403, agentOther: 403, supervisor: 200, gateway: 403, admin: 200 } },
  { name: 'call detail', kind: 'http', path: '/v1/calls/CAnope', expect: { agentOwn: 403, agentOther: 403, supervisor: 404, gateway: 403, admin: 404 } },
  { name: 'supervisor data', kind: 'http', path: '/v1/supervisor/calls/CAx', expect: { agentOwn: 403, agentOther: 403, supervisor: 200, gateway: 403, admin: 200 } },
  { name: 'admin', kind: 'http', path: '/admin/queues', expect: { agentOwn: 403, agentOther: 403, supervisor: 403, gateway: 403, admin: 200 } },
  { name: 'route without a rule', kind: 'http', path: '/v1/unruled', expect: { agentOwn: 403, agentOther: 403, supervisor: 403, gateway: 403, admin: 200 } },
];

const PRINCIPALS: Record<keyof Endpoint['expect'], { role: Role; sub: string }> = {
  agentOwn: { role: 'agent', sub: 'agent-a' },
  agentOther: { role: 'agent', sub: 'agent-b' },
  supervisor: { role: 'supervisor', sub: 'sup-1' },
  gateway: { role: 'gateway', sub: 'gw-1' },
  admin: { role: 'admin', sub: 'root' },
};

const expired = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 60_000, clockTimestamp: Date.now() - 3_600_000 })({ sub: 'sup-1', role: 'supervisor' });
const BAD_TOKENS: Record<string, { token: string | undefined; code: string }> = {
  missing: { token: undefined, code: 'UT_ERR_AUTH_REQUIRED' },
  expired: { token: expired, code: 'UT_ERR_TOKEN_EXPIRED' },
  'wrong signature': { token: signToken('another-secret-0123456789-abcdefghijkl', { sub: 'root', role: 'admin' }), code: 'UT_ERR_TOKEN_INVALID' },
  malformed: { token: 'not.a.jwt', code: 'UT_ERR_TOKEN_INVALID' },
  'unknown role': { token: createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 60_000 })({ sub: 'x', role: 'root' }), code: 'UT_ERR_TOKEN_INVALID' },
};

describe('auth matrix (AUTH on)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { TWILIO_AUTH_TOKEN: TWILIO_TOKEN, CONNECTIONS_PER_IP_PER_MINUTE: '0' },
      beforeListen(app) {
        app.get('/v1/supervisor/stream', { websocket: true }, (socket) => socket.send('hello'));
        app.get('/v1/supervisor/calls/:callId', async () => 'history');
        app.get('/admin/queues', async () => 'queues');
        app.get('/v1/unruled', async () => 'unruled');
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function statusOf(endpoint: Endpoint, headers: Record<string, string>): Promise<{ status: number; body?: string }> {
    if (endpoint.kind === 'ws') {
      const result = await upgrade(`${t.wsUrl}${endpoint.path}`, headers);
      result.ws?.close();
      return result;
    }
    const res = await fetch(`${t.url}${endpoint.path}`, { headers });
    return { status: res.status, body: await res.text() };
  }

  for (const endpoint of ENDPOINTS) {
    for (const [who, principal] of Object.entries(PRINCIPALS) as [keyof Endpoint['expect'], { role: Role; sub: string }][]) {
      it(`${endpoint.name} × ${who} → ${endpoint.expect[who]}`, async () => {
        const { status, body } = await statusOf(endpoint, bearer(signToken(SECRET, principal)));
        expect(status).toBe(endpoint.expect[who]);
        if (status === 403) expect(JSON.parse(body!)).toMatchObject({ error: 'UT_ERR_FORBIDDEN' });
      });
    }
    for (const [what, bad] of Object.entries(BAD_TOKENS)) {
      // A Twilio or L16 stream without any credential at the upgrade is let through: its start must carry the token.
      const deferred = endpoint.path.startsWith('/v1/streams/') && what === 'missing';
      it(`${endpoint.name} × ${what} token → ${deferred ? '101 (start must carry a token)' : `401 ${bad.code}`}`, async () => {
        const { status, body } = await statusOf(endpoint, bearer(bad.token));
        if (deferred) return expect(status).toBe(101);
        expect(status).toBe(401);
        expect(JSON.parse(body!)).toMatchObject({ error: bad.code });
      });
    }
  }

  it('leaves /healthz, /readyz, /metrics and the dashboard page and scripts (no data) open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/dashboard', '/dashboard/assets/api.js']) expect((await fetch(`${t.url}${path}`)).status).not.toBe(401);
  });

  it('takes the token from access_token for browsers, and never logs it', async () => {
    const token = signToken(SECRET, { role: 'agent', sub: 'agent-a' });
    const { status, ws } = await upgrade(`${t.wsUrl}/v1/agents/agent-a/stream?access_token=${token}`);
    expect(status).toBe(101);
    ws?.close();
    const wrong = await upgrade(`${t.wsUrl}/v1/agents/agent-b/stream?access_token=${token}`);
    expect(wrong.status).toBe(403);
    const text = JSON.stringify(t.lines);
    expect(text).not.toContain(token);
    expect(text).toContain('access_token=[REDACTED]');
  });

  it('counts refusals by reason in /metrics', async () => {
    expect(await t.metric('undertone_refusals_total{reason="auth_forbidden"}')).toBeGreaterThan(0);
    expect(await t.metric('undertone_refusals_total{reason="auth_expired"}')).toBeGreaterThan(0);
    expect(await t.metric('undertone_refusals_total{reason="auth_missing"}')).toBeGreaterThan(0);
  });

  it('PUT /v1/calls/:callId/agent takes gateway, supervisor and admin tokens, not agents', async () => {
    const put = (token: string | undefined) =>
      fetch(`${t.url}/v1/calls/CAnope/agent`, { method: 'PUT', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{"agentId":"agent-a"}' });
    expect((await put(undefined)).status).toBe(401);
    expect((await put(signToken(SECRET, { role: 'agent', sub: 'agent-a' }))).status).toBe(403);
    for (const role of ['gateway', 'supervisor', 'admin'] as const) expect((await put(signToken(SECRET, { role, sub: 'x' }))).status).toBe(404);
  });

  it('leaves AudioHook to its own signature check (no JWT asked; its 401 without an api key stays)', async () => {
    const res = await upgrade(`${t.wsUrl}/v1/streams/audiohook`, bearer(signToken(SECRET, { role: 'admin', sub: 'root' })));
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body!)).toMatchObject({ error: 'UT_ERR_UNAUTHORIZED' });
  });

  it('an L16 stream proves itself with `token` in its first message', async () => {
    const first = (extra: Record<string, string>) =>
      JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000', callId: twilioCallSid(), ...extra });
    const open = async (message: string): Promise<{ code: number; reason: string }> => {
      const { ws } = await upgrade(`${t.wsUrl}/v1/streams/l16`);
      const done = closed(ws!);
      ws!.send(message);
      ws!.send(Buffer.alloc(640));
      setTimeout(() => ws!.close(1000, 'done'), 300);
      return done;
    };
    expect((await open(first({}))).reason).toMatch(/^UT_ERR_AUTH_REQUIRED: /);
    expect((await open(first({ token: signToken(SECRET, { role: 'gateway', sub: 'gw' }) }))).code).toBe(1000);
  });

  describe('Twilio streams', () => {
    const path = '/v1/streams/twilio';

    it('accepts a valid X-Twilio-Signature of the URL, refuses a wrong one with 403', async () => {
      const host = new URL(t.url).host;
      const good = await upgrade(`${t.wsUrl}${path}?x=1`, { 'x-twilio-signature': twilioSignature(TWILIO_TOKEN, `wss://${host}${path}?x=1`) });
      expect(good.status).toBe(101);
      good.ws?.close();
      const bad = await upgrade(`${t.wsUrl}${path}?x=1`, { 'x-twilio-signature': twilioSignature('wrong-token', `wss://${host}${path}?x=1`) });
      expect(bad.status).toBe(403);
      expect(JSON.parse(bad.body!)).toMatchObject({ error: 'UT_ERR_BAD_SIGNATURE' });
    });

    async function startWith(extra: Record<string, string>): Promise<{ code: number; reason: string }> {
      const { ws } = await upgrade(`${t.wsUrl}${path}`);
      const callSid = twilioCallSid();
      const done = closed(ws!);
      ws!.send(connectedMsg());
      ws!.send(startMsg({ callSid, streamSid: `MZ${callSid.slice(2)}` }, { agentId: 'agent-a', extra }));
      const live = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => {
          if (t.app.callRegistry.detail(callSid)) {
            clearInterval(poll);
            resolve(true);
          }
        }, 20);
        void done.then(() => {
          clearInterval(poll);
          resolve(false);
        });
      });
      if (live) ws!.close(1000, 'done');
      const result = await done;
      return live ? { code: 0, reason: 'started' } : result;
    }

    it('without upgrade credentials, refuses a start without a token with 1008', async () => {
      const result = await startWith({});
      expect(result.code).toBe(1008);
      expect(result.reason).toMatch(/^UT_ERR_AUTH_REQUIRED: /);
    });

    it('refuses a start with an expired or wrongly signed token, or a non-gateway role', async () => {
      expect((await startWith({ token: expired })).reason).toMatch(/^UT_ERR_TOKEN_EXPIRED: /);
      expect((await startWith({ token: BAD_TOKENS['wrong signature']!.token! })).reason).toMatch(/^UT_ERR_TOKEN_INVALID: /);
      expect((await startWith({ token: signToken(SECRET, { role: 'agent', sub: 'agent-a' }) })).reason).toMatch(/^UT_ERR_FORBIDDEN: /);
    });

    it('starts the call with a gateway token in customParameters.token, and keeps it out of the call', async () => {
      const token = signToken(SECRET, { role: 'gateway', sub: 'gw-1' });
      expect(await startWith({ token })).toEqual({ code: 0, reason: 'started' });
      expect(JSON.stringify(t.lines)).not.toContain(token);
    });
  });
});

describe('auth switched off or misconfigured', () => {
  it('AUTH=off opens everything and says so loudly at start-up', async () => {
    const t = await startTestApp({ env: { AUTH: 'off' } });
    try {
      const { status, ws } = await upgrade(`${t.wsUrl}/v1/agents/anyone/stream`);
      expect(status).toBe(101);
      ws?.close();
      expect((await fetch(`${t.url}/v1/calls`)).status).toBe(200);
      expect(t.lines.some((l) => l.level === 40 && /AUTH=off/.test(l.msg))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('AUTH on without JWT_SECRET refuses every protected endpoint (fails closed)', async () => {
    const t = await startTestApp({ env: { JWT_SECRET: '' } });
    try {
      const token = signToken(SECRET, { role: 'admin', sub: 'root' });
      expect((await fetch(`${t.url}/v1/calls`, { headers: bearer(token) })).status).toBe(401);
      expect((await upgrade(`${t.wsUrl}/v1/agents/a/stream`, bearer(token))).status).toBe(401);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      expect(t.lines.some((l) => l.level === 50 && /JWT_SECRET is not set/.test(l.msg))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
