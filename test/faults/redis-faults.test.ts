/**
 * Redis faults during a live call, on a private redis-server this test
 * starts (and stops) itself:
 * - Redis stopped mid-call and restarted: scoring goes on, /readyz says not
 *   ready, the events wait in the buffer; the agent, connected to the
 *   instance that decided the prompt, has it at once (local delivery), and
 *   not again when the buffered job reaches its inbox;
 * - Redis refusing writes (maxmemory reached): the same, and the buffered
 *   events are journalled to PUBLISH_JOURNAL_PATH until Redis takes them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import {
  collectJson,
  getJson,
  loadFixtureMuLaw,
  openSocket,
  startTestService,
  TwilioGateway,
  waitFor,
  waitForCallEnded,
  type TestService,
} from '../integration/helpers.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';

const FIRST_PART_BYTES = 8000 * 20; // 20 s of calm speech, before anything is decided

describe('Redis faults during a call', () => {
  let redis: PrivateRedis;
  let audio: Uint8Array;
  let dir: string;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    audio = await loadFixtureMuLaw('calm-then-angry');
    dir = await mkdtemp(join(tmpdir(), 'ut-journal-'));
  });
  afterAll(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function callUntilCalmScored(svc: TestService, agentId: string): Promise<{ gw: TwilioGateway; received: AgentMessage[] }> {
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/${agentId}/stream`);
    const received = collectJson<AgentMessage>(agent);
    const gw = await TwilioGateway.open(svc.wsUrl);
    gw.start({ agentId }).audio(audio.subarray(0, FIRST_PART_BYTES));
    await waitFor(async () => {
      const d = await getJson<CallDetail>(`${svc.url}/v1/calls/${gw.ids.callSid}`);
      return d.status === 200 && d.body.timeline.some((w) => w.endMs >= 19_000) ? true : undefined;
    }, 'first part scored', 60_000);
    return { gw, received };
  }

  /** Every prompt the call decided reaches the agent, and none twice (the buffer must neither lose nor repeat). */
  async function expectEveryPromptOnce(detail: CallDetail, received: AgentMessage[], callId: string): Promise<void> {
    const decided = detail.events.filter((e) => e.type === 'prompt').length;
    const mine = (): AgentMessage[] => received.filter((m) => m.type === 'prompt' && m.callId === callId);
    await waitFor(() => (mine().length >= decided ? true : undefined), `all ${decided} prompt(s) delivered`, 30_000);
    // A moment more: a duplicate would arrive right behind the originals.
    await new Promise((r) => setTimeout(r, 500));
    expect(mine()).toHaveLength(decided);
  }

  it('Redis stopped mid-call and restarted: the call goes on and the prompt is still delivered, once', async () => {
    const svc = await startTestService({ REDIS_URL: redis.url });
    try {
      const { gw, received } = await callUntilCalmScored(svc, 'agent-outage');
      await redis.stop();
      gw.audio(audio.subarray(FIRST_PART_BYTES)).stop();
      // The angry part is scored while Redis is away: the events wait in the buffer.
      const detail = await waitForCallEnded(svc.url, gw.ids.callSid);
      expect(detail.endReason).toBe('hangup');
      expect(detail.events.some((e) => e.type === 'prompt')).toBe(true);
      const notReady = await getJson<{ failed: string[] }>(`${svc.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(notReady.body.failed).toContain('redis');
      // Sent by the instance that decided it, while its job waits in the buffer.
      const prompt = await waitFor(() => received.find((m) => m.type === 'prompt' && m.callId === gw.ids.callSid), 'prompt while Redis is away', 10_000);
      expect(prompt.type === 'prompt' && prompt.text.length > 0).toBe(true);

      await redis.start();
      await waitFor(async () => ((await getJson(`${svc.url}/readyz`)).status === 200 ? true : undefined), 'ready again', 30_000);
      await expectEveryPromptOnce(detail, received, gw.ids.callSid);
      await gw.close();
    } finally {
      await svc.close();
    }
  }, 180_000);

  it('Redis refusing writes (maxmemory): events are buffered and journalled, the call goes on, the prompt arrives once Redis takes writes again', async () => {
    const journal = join(dir, 'publish-journal.ndjson');
    // The queue path alone (no local delivery): the prompt can only come through the buffer, the journal and the inbox.
    const svc = await startTestService({ REDIS_URL: redis.url, PUBLISH_JOURNAL_PATH: journal, AGENT_LOCAL_DELIVERY: 'false' });
    try {
      const { gw, received } = await callUntilCalmScored(svc, 'agent-oom');
      await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await redis.command('CONFIG', 'SET', 'maxmemory', '1');
      gw.audio(audio.subarray(FIRST_PART_BYTES)).stop();
      const detail = await waitForCallEnded(svc.url, gw.ids.callSid);
      expect(detail.endReason).toBe('hangup');
      expect(detail.events.some((e) => e.type === 'prompt')).toBe(true);
      const notReady = await getJson<{ failed: string[] }>(`${svc.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(notReady.body.failed).toContain('publisher');
      expect(await readFile(journal, 'utf8')).toContain(gw.ids.callSid);
      expect(received.filter((m) => m.type === 'prompt')).toHaveLength(0);

      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
      await waitFor(() => received.find((m) => m.type === 'prompt' && m.callId === gw.ids.callSid), 'prompt after writes resumed', 60_000);
      await waitFor(async () => ((await getJson(`${svc.url}/readyz`)).status === 200 ? true : undefined), 'ready again', 30_000);
      // Flushed: the journal owes nothing any more.
      expect(await readFile(journal, 'utf8')).toBe('');
      await expectEveryPromptOnce(detail, received, gw.ids.callSid);
      await gw.close();
    } finally {
      await svc.close();
      await redis.command('CONFIG', 'SET', 'maxmemory', '0').catch(() => undefined);
    }
  }, 180_000);
});
