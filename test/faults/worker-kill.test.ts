/**
 * A routing worker SIGKILLed in the middle of a prompt job, after it had
 * already put the prompt in the agent's inbox but before the job was marked
 * done: BullMQ hands the stalled job to another worker, which runs it again,
 * and the agent still sees the prompt exactly once (de-duplicated by the
 * call's order state in Redis; the promptId is the same on both runs).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { collectJson, loadFixtureMuLaw, openSocket, REDIS_URL, startTestService, TwilioGateway, waitFor, type TestService } from '../integration/helpers.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/routing-worker-process.ts', import.meta.url));

function startWorker(queueName: string, mode: 'dying' | 'healthy'): { child: ChildProcess; messages: Record<string, unknown>[] } {
  const child = fork(SCRIPT, [REDIS_URL, queueName, mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const messages: Record<string, unknown>[] = [];
  child.on('message', (m) => messages.push(m as Record<string, unknown>));
  return { child, messages };
}

describe('routing worker killed mid-delivery', () => {
  const children: ChildProcess[] = [];
  let svc: TestService | undefined;
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await svc?.close();
  });

  it('the job is run again by another worker and the agent sees the prompt once', async () => {
    svc = await startTestService({ RUN_WORKER: 'false' });
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/agent-kill/stream`);
    const received = collectJson<AgentMessage>(agent);

    const dying = startWorker(svc.queueName, 'dying');
    children.push(dying.child);
    await waitFor(() => (dying.messages.some((m) => m['ready']) ? true : undefined), 'dying worker ready', 60_000);

    const audio = await loadFixtureMuLaw('calm-then-angry');
    const gw = await TwilioGateway.open(svc.wsUrl);
    gw.start({ agentId: 'agent-kill' }).audio(audio).stop();

    const promptId = String((await waitFor(() => dying.messages.find((m) => m['delivered']), 'prompt posted by the dying worker', 90_000))['delivered']);
    const exited = new Promise((resolve) => dying.child.once('exit', resolve));
    dying.child.kill('SIGKILL');
    await exited;
    const job = await svc.queue.getJob(promptId);
    expect(await job?.getState()).toBe('active');

    const healthy = startWorker(svc.queueName, 'healthy');
    children.push(healthy.child);
    await waitFor(async () => ((await svc!.queue.getJob(promptId))?.finishedOn ? true : undefined), 'job completed by the second worker', 60_000);
    const done = await svc.queue.getJob(promptId);
    // Started twice: once by the killed worker, once by the healthy one.
    expect(done?.attemptsStarted ?? 0).toBeGreaterThanOrEqual(2);

    await waitFor(() => received.find((m) => m.type === 'prompt' && m.promptId === promptId), 'prompt at the agent', 30_000);
    // Give a duplicate every chance to arrive before counting.
    await sleep(1000);
    expect(received.filter((m) => m.type === 'prompt' && m.promptId === promptId)).toHaveLength(1);
    healthy.child.kill('SIGTERM');
    agent.close();
    await gw.close();
  }, 240_000);
});
