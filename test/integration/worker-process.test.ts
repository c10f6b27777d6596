/**
 * Routing workers as their own processes: a server with RUN_WORKER=false
 * leaves routing jobs in the queue; `undertone worker` (what `npm run worker`
 * runs) takes them and the agent connected to the server gets the prompts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, REDIS_URL, startTestService, TwilioGateway, waitFor, type TestService } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run worker', () => {
  let svc: TestService | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await svc?.close();
  });

  it('processes the routing jobs of a server that runs no worker, and stops on SIGTERM with exit 0', async () => {
    svc = await startTestService({ RUN_WORKER: 'false' });
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/agent-w/stream`);
    const got = collectJson<AgentMessage>(agent);
    const audio = await loadFixtureMuLaw('calm-then-angry');
    const gw = await TwilioGateway.open(svc.wsUrl);
    gw.start({ agentId: 'agent-w' }).audio(audio).stop();
    const s = svc;
    const events = await waitFor(async () => {
      const { status, body } = await getJson<{ state: string; events: unknown[] }>(`${s.url}/v1/calls/${gw.ids.callSid}`);
      return status === 200 && body.state === 'ended' ? body.events : undefined;
    }, 'the call to end');
    expect(events.length).toBeGreaterThan(0);
    // No worker anywhere: the jobs wait in the queue.
    const counts = await svc.queue.getJobCounts('waiting', 'prioritized', 'completed');
    expect(counts['completed']).toBe(0);
    expect((counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0)).toBe(events.length);
    expect(got).toEqual([]);

    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
      cwd: root,
      env: { ...process.env, REDIS_URL, ROUTING_QUEUE: svc.queueName, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
});
