/**
 * A real 3-node Redis Cluster (redis-server --cluster-enabled, created with
 * redis-cli --cluster create on free loopback ports), and the whole service
 * on it: REDIS_CLUSTER=true, REDIS_PREFIX={undertone}. A call streams in,
 * its prompt is routed by the BullMQ worker and delivered to the agent's
 * socket, the supervisor feed shows it, and its post-call summary is kept:
 * every multi-key command ran without CROSSSLOT because every key sits in
 * the hash tag's slot, on the one primary that owns it.
 *
 * Skipped when redis-server / redis-cli are not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { CallDetail } from '../../src/calls/call-views.js';
import { answers, freePort } from '../../src/cli/ensure-redis.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import type { SupervisorServerMessage } from '../../src/delivery/supervisor-messages.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, startTestService, TwilioGateway, twilioCallSid, waitFor, type TestService } from './helpers.js';

const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;
const haveRedis = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

describe.skipIf(!haveRedis)('the service on a real Redis Cluster', () => {
  const nodes: ChildProcess[] = [];
  const ports: number[] = [];
  let dir = '';
  let svc: TestService | undefined;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ut-cluster-'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      nodes.push(
        spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no'], {
          stdio: 'ignore',
        }),
      );
    }
    for (const port of ports) await waitFor(async () => ((await answers(`redis://127.0.0.1:${port}`)) ? true : undefined), `node ${port} to answer`);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    expect(create.status, create.stdout + create.stderr).toBe(0);
    for (const port of ports) {
      await waitFor(async () => {
        const r = new Redis(port, '127.0.0.1');
        try {
          return /cluster_state:ok/.test(String(await r.cluster('INFO'))) ? true : undefined;
        } finally {
          r.disconnect();
        }
      }, `node ${port} to see the cluster ok`);
    }
    svc = await startTestService({ REDIS_URL: `redis://127.0.0.1:${ports[0]}`, REDIS_CLUSTER: 'true', REDIS_PREFIX: '{undertone}', INSTANCE_ID: 'cluster-a' });
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await svc?.close();
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => (n.exitCode !== null ? undefined : new Promise((r) => n.once('exit', r)))));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('streams a call: prompt delivered through the queue, feed and summary, all keys in the {undertone} slot on its one owner', async () => {
    const s = svc!;
    expect((await getJson<{ status: string }>(`${s.url}/readyz`)).status).toBe(200);
    const sup = await openSocket(`${s.wsUrl}/v1/supervisor/stream`);
    sockets.push(sup);
    const feed = collectJson<SupervisorServerMessage>(sup);
    const agent = await openSocket(`${s.wsUrl}/v1/agents/cluster-agent/stream`);
    sockets.push(agent);
    const got = collectJson<AgentMessage>(agent);
    await waitFor(() => feed.find((m) => m.type === 'snapshot'), 'snapshot');

    const callSid = twilioCallSid();
    const gw = await TwilioGateway.open(s.wsUrl, callSid);
    gw.start({ agentId: 'cluster-agent' }).audio(await loadFixtureMuLaw('calm-then-angry')).stop();
    const detail = await waitFor(async () => {
      const { body } = await getJson<CallDetail>(`${s.url}/v1/calls/${callSid}`);
      return body.state === 'ended' ? body : undefined;
    }, 'the call to end', 60_000);
    expect(detail.events.filter((e) => e.type === 'prompt').length).toBeGreaterThan(0);
    await waitFor(() => (got.some((m) => m.type === 'prompt' && m.callId === callSid) ? true : undefined), 'the prompt on the agent socket', 30_000);
    await waitFor(() => feed.find((m) => m.type === 'call.ended' && m.callId === callSid), 'call.ended on the feed');
    // Routing jobs completed on the cluster (the queue view is a Cluster connection too).
    await waitFor(async () => (((await s.queue.getJobCounts('completed'))['completed'] ?? 0) >= detail.events.length ? true : undefined), 'the routing jobs to complete');

    // Every key is on the node that owns the {undertone} slot, and nowhere else.
    const slot = calculateSlot('undertone');
    const counts = await Promise.all(
      ports.map(async (port) => {
        const r = new Redis(port, '127.0.0.1');
        try {
          return { inSlot: Number(await r.cluster('COUNTKEYSINSLOT', slot)), all: await r.dbsize() };
        } finally {
          r.disconnect();
        }
      }),
    );
    const owners = counts.filter((c) => c.inSlot > 0);
    expect(owners).toHaveLength(1);
    expect(owners[0]!.inSlot).toBe(owners[0]!.all);
    expect(counts.reduce((n, c) => n + c.all, 0)).toBe(owners[0]!.inSlot);
    expect(owners[0]!.inSlot).toBeGreaterThan(10);
  }, 120_000);
});
