/**
 * `undertone serve` start-up and shutdown: exit codes, failing start-up,
 * and a graceful stop that flushes live calls before the publisher closes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { run, startService } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/config.js';
import {
  captureLogger,
  closed,
  collectJson,
  getJson,
  loadFixtureMuLaw,
  openSocket,
  REDIS_URL,
  startTestService,
  TwilioGateway,
  uniqueName,
  waitFor,
} from './helpers.js';

describe('serve run()', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('prints every configuration problem and exits 2', async () => {
    vi.stubEnv('PORT', 'eighty');
    vi.stubEnv('LOG_LEVEL', 'chatty');
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    expect(await run([])).toBe(2);
    expect(err).toContain('invalid configuration');
    expect(err).toContain("PORT must be a whole number between 0 and 65535, got 'eighty'");
    expect(err).toContain('LOG_LEVEL must be one of');
  });

  it('prints usage for --help and exits 0; an unknown flag exits 2', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['--help'])).toBe(0);
    expect(out).toContain('usage: undertone serve');
    expect(await run(['--bogus'])).toBe(2);
  });
});

describe('startService', () => {
  it('fails with UT_ERR_MODEL when the model is missing, closing what it had opened', async () => {
    const { logger } = captureLogger();
    const config = loadConfig({ PORT: '0', REDIS_URL, ROUTING_QUEUE: uniqueName('ut-test-nomodel'), MODEL_PATH: '/nonexistent/emotion.onnx', MODEL_CARD_PATH: '/nonexistent/emotion.json' });
    await expect(startService(config, { logger })).rejects.toMatchObject({ code: 'UT_ERR_MODEL' });
  });

  it('refuses a wrapped model with DSP worker threads, which score with sessions of their own', async () => {
    const { logger } = captureLogger();
    const config = loadConfig({ PORT: '0', REDIS_URL, ROUTING_QUEUE: uniqueName('ut-test-wrap'), DSP_THREADS: '1' });
    await expect(startService(config, { logger, wrapModel: (m) => m })).rejects.toThrow(/wrapModel applies to inline scoring only/);
  });

  it('shuts down gracefully: sockets get 1001, live calls flush and publish before the queue closes', async () => {
    const svc = await startTestService();
    const audio = await loadFixtureMuLaw('calm-then-angry');
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/agent-shutdown/stream`);
    collectJson<AgentMessage>(agent);
    const agentClosed = closed(agent);
    const gw = await TwilioGateway.open(svc.wsUrl);
    gw.start({ agentId: 'agent-shutdown' }).audio(audio);
    // Wait until the server has taken all the audio (no stop: the call is live).
    await waitFor(async () => {
      const { body } = await getJson<{ calls: Array<{ callId: string; audioMs: number }> }>(`${svc.url}/v1/calls`);
      return body.calls.find((c) => c.callId === gw.ids.callSid && c.audioMs === Math.round((audio.length * 1000) / 8000));
    }, 'all audio received');

    await svc.service.close();
    expect(await gw.closedP).toEqual({ code: 1001, reason: 'UT_ERR_SHUTTING_DOWN: server is shutting down' });
    expect((await agentClosed).code).toBe(1001);

    // The registry outlives the app object: the call ended as a shutdown with nothing pending...
    const detail = svc.service.app.callRegistry.detail(gw.ids.callSid)!;
    expect(detail).toMatchObject({ state: 'ended', endReason: 'shutdown' });
    expect(detail.events.length).toBeGreaterThan(0);
    // ...and every event it decided reached Redis before the publisher closed.
    const jobs = await svc.queue.getJobs(['completed', 'active', 'waiting', 'prioritized', 'delayed', 'failed'], 0, 1000);
    const callJobs = jobs.filter((j) => (j.data as { callId: string }).callId === gw.ids.callSid);
    const ids = callJobs.filter((j) => j.name !== 'summary').map((j) => (j.data as { seq: number }).seq).sort((a, b) => a - b);
    expect(ids).toEqual(detail.events.map((e) => e.seq));
    // ...and so did its post-call summary, after the last event.
    expect(callJobs.filter((j) => j.name === 'summary').map((j) => (j.data as { seq: number }).seq)).toEqual([Math.max(...ids) + 1]);
    await svc.close();
  });
});
