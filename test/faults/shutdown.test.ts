/**
 * Graceful shutdown of the real `undertone serve` process while its Redis
 * refuses writes (the review's hang): SIGTERM closes live gateway streams
 * with 1001, the process exits within its grace period, and the events
 * Redis never took are in the publish journal; a publisher opened on that
 * journal later delivers them to the queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqPublisher, type PendingJob } from '../../src/queue/bullmq-publisher.js';
import { openPublishJournal } from '../../src/queue/publish-journal.js';
import { captureLogger, getJson, loadFixtureMuLaw, MODEL_CARD_PATH, MODEL_PATH, TwilioGateway, uniqueName, waitFor, waitForCallEnded } from '../integration/helpers.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('SIGTERM while Redis refuses writes', () => {
  let redis: PrivateRedis;
  let dir: string;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = await mkdtemp(join(tmpdir(), 'ut-shutdown-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('closes streams with 1001, exits, and keeps the unpublished events in the journal for the next start', async () => {
    const journal = join(dir, 'journal.ndjson');
    const queueName = uniqueName('ut-test-shutdown');
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        AUTH: 'off',
        PORT: '0',
        REDIS_URL: redis.url,
        ROUTING_QUEUE: queueName,
        MODEL_PATH,
        MODEL_CARD_PATH,
        SHUTDOWN_GRACE_MS: '4000',
        PUBLISH_JOURNAL_PATH: journal,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const lines: { msg?: string; url?: string }[] = [];
    let rest = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as { msg?: string; url?: string });
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const url = (await waitFor(() => lines.find((l) => l.msg === 'undertone serving'), 'service up', 60_000)).url!;
    const wsUrl = url.replace(/^http/, 'ws');

    await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    await redis.command('CONFIG', 'SET', 'maxmemory', '1');
    const audio = await loadFixtureMuLaw('calm-then-angry');
    const angry = await TwilioGateway.open(wsUrl);
    angry.start({ agentId: 'agent-term' }).audio(audio).stop();
    const detail = await waitForCallEnded(url, angry.ids.callSid);
    const prompt = detail.events.find((e) => e.type === 'prompt');
    expect(prompt).toBeDefined();
    await angry.close();

    // A call still live at SIGTERM.
    const live = await TwilioGateway.open(wsUrl);
    live.start({ agentId: 'agent-live' }).audio(audio.subarray(0, 8000 * 2));
    await waitFor(async () => ((await getJson(`${url}/v1/calls/${live.ids.callSid}`)).status === 200 ? true : undefined), 'live call started');

    proc.kill('SIGTERM');
    const closedWith = await live.closedP;
    expect(closedWith.code).toBe(1001);
    // It exits by itself: cleanly (0) once every part closed or was abandoned at the
    // grace period, or (1) by the last-resort timer if a loaded machine made even that late.
    const exitCode = await exited;
    expect([0, 1]).toContain(exitCode);
    expect(lines.some((l) => l.msg === 'undertone stopped' || l.msg === 'shutdown grace period over; exiting now')).toBe(true);

    // The prompt Redis never took is owed in the journal...
    const owed = (await readFile(journal, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string; id: string; job: { name: string; data: { callId: string; seq: number } } });
    const entry = owed.find((l) => l.op === 'add' && l.job.name === 'prompt' && l.job.data.callId === angry.ids.callSid);
    expect(entry?.job.data.seq).toBe(prompt!.seq);
    const promptJobId = entry!.id;

    // ...and the next start publishes it.
    await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    const { logger } = captureLogger();
    const publisher = createBullmqPublisher({ connection: redis.url, queueName, logger, journal: openPublishJournal<PendingJob>(journal, logger) });
    const queue = new Queue(queueName, { connection: { url: redis.url } });
    try {
      const job = await waitFor(async () => (await queue.getJob(promptJobId)) ?? undefined, 'replayed job in the queue', 30_000);
      expect(job.name).toBe('prompt');
      await publisher.drained();
      expect(await readFile(journal, 'utf8')).toBe('');
    } finally {
      await publisher.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  }, 180_000);
});
