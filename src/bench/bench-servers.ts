/**
 * The servers a load run measures: the bench's own (spawned, auth on with a
 * secret made up for the run, one routing queue, an INSTANCE_ID each), and
 * the wait for a server's overload guard to admit calls again between
 * --find-max steps.
 */
import { randomBytes } from 'node:crypto';
import { signToken } from '../http/auth/tokens.js';
import type { AudiohookCredentials } from './call-driver.js';
import { spawnServer, type SpawnedServer } from './server-process.js';
import { scrapeMetrics, type Target } from './server-probe.js';

/** How the bench's servers are started (see startBenchServers). */
export interface BenchServerOptions {
  mode: 'auto' | 'tsx' | 'dist';
  /** The most calls a run will open: the servers' own limits are set above it. */
  ceiling: number;
  queueName: string;
  redisUrl: string;
  /** Servers to start (default 1). */
  instances?: number;
  /** Names the servers' INSTANCE_IDs. */
  runId: string;
}

/**
 * Polls `undertone_overloaded` until the server admits calls again (0, or
 * absent on a server without the guard), at most `maxMs`.
 */
export async function waitUntilNotOverloaded(target: Target, maxMs: number, onWait: (waitedMs: number) => void): Promise<void> {
  const t0 = performance.now();
  let told = 0;
  while (performance.now() - t0 < maxMs) {
    const metrics = await scrapeMetrics(target);
    if ((metrics?.value('undertone_overloaded') ?? 0) === 0) return;
    const waited = performance.now() - t0;
    if (waited - told >= 10_000) {
      told = waited;
      onWait(waited);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Between two runs on the same servers: 2 s for the last run's deliveries to
 * drain, then each server's overload guard admitting calls again (at most
 * 60 s each; an overloaded server refuses new calls with 1013 until its lag
 * has stayed low for 5 s, which would fail the next run).
 */
export async function settleServers(targets: readonly Target[], onWait: (target: Target, waitedMs: number) => void): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000));
  for (const t of targets) await waitUntilNotOverloaded(t, 60_000, (ms) => onWait(t, ms));
}

/**
 * Spawns the bench's own servers (auth on with one secret made up for the
 * run, one routing queue, an INSTANCE_ID each) and the targets that reach
 * them. Started one after another: each loads the model and compiles, and
 * in parallel they would only slow each other's start.
 */
export async function startBenchServers(o: BenchServerOptions): Promise<{ servers: SpawnedServer[]; targets: Target[] }> {
  const secret = randomBytes(32).toString('base64url');
  // An AudioHook key for the run, signed upgrades (as Genesys Cloud signs them).
  const audiohook = { apiKey: `bench-${o.runId}`, clientSecret: randomBytes(32).toString('base64') };
  const servers: SpawnedServer[] = [];
  try {
    for (let i = 0; i < (o.instances ?? 1); i++) servers.push(await startBenchServer(o, secret, audiohook, `bench-${o.runId}-${i}`));
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  const targets = servers.map(
    (server): Target => ({
      httpUrl: server.url,
      pid: server.pid,
      gatewayToken: signToken(secret, { role: 'gateway', sub: 'bench-gateway' }),
      supervisorToken: signToken(secret, { role: 'supervisor', sub: 'bench-supervisor' }),
      agentToken: (agentId) => signToken(secret, { role: 'agent', sub: agentId }),
      adminToken: signToken(secret, { role: 'admin', sub: 'bench-admin' }),
      audiohook,
    }),
  );
  return { servers, targets };
}

function startBenchServer(o: BenchServerOptions, secret: string, audiohook: AudiohookCredentials, instanceId: string): Promise<SpawnedServer> {
  return spawnServer({
    root: process.cwd(),
    mode: o.mode,
    env: {
      AUTH: 'on',
      JWT_SECRET: secret,
      AUDIOHOOK_API_KEYS: JSON.stringify({ [audiohook.apiKey]: audiohook.clientSecret }),
      ROUTING_QUEUE: o.queueName,
      INSTANCE_ID: instanceId,
      REDIS_URL: o.redisUrl,
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
      // The bench's own limits must not be what it measures.
      MAX_CALLS: String(Math.max(200, o.ceiling * 2)),
      CALL_HISTORY: String(Math.max(200, o.ceiling + 10)),
      CONNECTIONS_PER_IP_PER_MINUTE: '0',
      // The generator is no Twilio: it authenticates with the start token only.
      TWILIO_AUTH_TOKEN: '',
    },
  });
}
