/**
 * Routing workers as their own processes: a server with RUN_WORKER=false
 * leaves routing jobs in the queue; `undertone worker` (what `npm run worker`
 * runs) takes them and the agent connected to the server gets the prompts.
 * With local agent delivery (the default) that agent has them already, as
 * they are decided, and the worker's inbox copies do not reach it twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { deliveryKeys } from '../../src/delivery/delivery-keys.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, REDIS_URL, startTestService, TwilioGateway, waitFor, type TestService } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * One call (calm, then angry) with its agent connected, on a server that runs
 * no routing worker; resolves when the call has ended, with the events it
 * decided, what the agent got so far, and the queue's job counts then.
 */
async function callWithoutWorker(svc: TestService, agentId: string) {
  const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
  const got = collectJson<AgentMessage>(agent);
  const audio = await loadFixtureMuLaw('calm-then-angry');
  const gw = await TwilioGateway.open(svc.wsUrl);
  gw.start({ agentId }).audio(audio).stop();
  const events = await waitFor(async () => {
    const { status, body } = await getJson<{ state: string; events: { seq: number }[] }>(`${svc.url}/v1/calls/${gw.ids.callSid}`);
    return status === 200 && body.state === 'ended' ? body.events : undefined;
  }, 'the call to end');
  const counts = await svc.queue.getJobCounts('waiting', 'prioritized', 'completed');
  return { agent, got, gw, events, counts };
}

/** `undertone worker` (what `npm run worker` runs) on the service's queue. */
function spawnWorker(svc: TestService): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    cwd: root,
    env: { ...process.env, REDIS_URL, ROUTING_QUEUE: svc.queueName, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('npm run worker', () => {
  let svc: TestService | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await svc?.close();
  });

  it('processes the routing jobs of a server that runs no worker, and stops on SIGTERM with exit 0', async () => {
    // The queue path alone: nothing sent ahead by the instance that decided it.
    svc = await startTestService({ RUN_WORKER: 'false', AGENT_LOCAL_DELIVERY: 'false' });
    const { agent, got, gw, events, counts } = await callWithoutWorker(svc, 'agent-w');
    expect(events.length).toBeGreaterThan(0);
    // No worker anywhere: the jobs wait in the queue.
    expect(counts['completed']).toBe(0);
    // One job per policy event, plus the call's post-call summary.
    expect((counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0)).toBe(events.length + 1);
    expect(got).toEqual([]);

    child = spawnWorker(svc);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    await waitFor(() => (got.length === events.length ? true : undefined), `the ${events.length} messages via the worker process`, 150_000); // a cold tsx start on a loaded machine is slow
    expect(new Set(got.map((m) => m.callId))).toEqual(new Set([gw.ids.callSid]));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    agent.close();
  }, 240_000);

  it('with local agent delivery, the agent has every message before any worker runs, and the worker sends none twice', async () => {
    svc = await startTestService({ RUN_WORKER: 'false' });
    const { agent, got, events, counts } = await callWithoutWorker(svc, 'agent-l');
    expect(events.length).toBeGreaterThan(0);
    // No worker anywhere, yet every event reached the agent, in seq order.
    expect(counts['completed']).toBe(0);
    expect((counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0)).toBe(events.length + 1);
    expect(got.map((m) => m.seq)).toEqual(events.map((e) => e.seq));

    child = spawnWorker(svc);
    const q = svc.queue;
    // The worker posts each job's message to the agent's inbox; the server's hub reads it and skips this socket.
    await waitFor(async () => ((await q.getJobCounts('completed'))['completed'] === events.length + 1 ? true : undefined), 'the worker to complete every job', 150_000);
    // The hub read every inbox copy (the agent's cursor reached the newest entry) and sent this socket none of them.
    const keys = deliveryKeys(svc.queueName);
    const redis = new Redis(REDIS_URL);
    try {
      const newest = ((await redis.xrevrange(keys.agentInbox('agent-l'), '+', '-', 'COUNT', 1))[0] ?? [])[0];
      expect(newest).toBeDefined();
      await waitFor(async () => ((await redis.get(keys.agentCursor('agent-l'))) === newest ? true : undefined), 'the hub to read the inbox copies');
    } finally {
      await redis.quit();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((m) => m.seq)).toEqual(events.map((e) => e.seq));
    agent.close();
  }, 240_000);
});
