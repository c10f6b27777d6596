/**
 * The load generator against a real service (startService: real Redis,
 * BullMQ, model) on port 0, as `--url` drives one: CPU and memory from its
 * /metrics, two generator threads. No timing assertions: the figures must
 * exist and the frame accounting must add up.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/bench/load-run.js';
import { MetricsSnapshot } from '../../src/bench/prom-text.js';
import { loadFixtureMuLaw, startTestService, type TestService } from '../integration/helpers.js';

describe('load generator against a running server (--url)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ CONNECTIONS_PER_IP_PER_MINUTE: '0' });
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
  });

  it('streams every frame in real time over two generator threads; the server takes them all', async () => {
    const fixtures = [
      { name: 'calm-then-angry', angry: true, mulaw: await loadFixtureMuLaw('calm-then-angry') },
      { name: 'stays-calm', angry: false, mulaw: await loadFixtureMuLaw('stays-calm') },
    ];
    const run = await runLoad({ targets: [{ httpUrl: svc.url }], calls: 3, seconds: 4, rampMs: 300, warmupMs: 200, fixtures, threads: 2, runId: `t${process.pid}` });
    const f = run.figures;
    expect(f.calls).toBe(3);
    expect(f.frames_expected).toBe(3 * 200);
    expect(f.frames_sent).toBe(600);
    expect(f.frames_taken).toBe(600);
    expect(f.dropped_frames).toBe(0);
    expect(f.unverified_calls).toBe(0);
    expect(f.failed_calls).toBe(0);
    expect(f.angry_calls).toBe(1);
    expect(f.cpu_source).toBe('metrics');
    expect(f.cpu_ms_per_call_second).toBeGreaterThan(0);
    expect(f.rss_kb_per_call).not.toBeNull();
    expect(f.measured_s).toBeGreaterThan(0);
    expect(run.timeline.length).toBeGreaterThan(0);
  }, 90_000);

  it('--protocol l16: wideband calls (binary L16 at 16 kHz, the Vonage websocket) are taken whole and the angry one prompted', async () => {
    const fixtures = [
      { name: 'calm-then-angry', angry: true, promptByS: 27, mulaw: await loadFixtureMuLaw('calm-then-angry') },
      { name: 'stays-calm', angry: false, mulaw: await loadFixtureMuLaw('stays-calm') },
    ];
    const run = await runLoad({ targets: [{ httpUrl: svc.url }], protocol: 'l16', l16Rate: 16000, calls: 2, seconds: 10, rampMs: 300, warmupMs: 200, fixtures, runId: `l16-${process.pid}` });
    const f = run.figures;
    expect(f.protocol).toBe('l16/16000');
    expect(f.frames_sent).toBe(2 * 500);
    // The server counts the audio it took at 8 kHz after resampling: every 20-ms frame of it.
    expect(f.frames_taken).toBe(2 * 500);
    expect(f.dropped_frames).toBe(0);
    expect(f.failed_calls).toBe(0);
    const m = MetricsSnapshot.parse(await (await fetch(`${svc.url}/metrics`)).text());
    expect(m.byLabel('undertone_audio_messages_total', 'source').get('l16')).toBeGreaterThanOrEqual(2 * 500);
    expect(f.angry_calls).toBe(1);
    expect(f.angry_calls_prompted).toBe(1);
  }, 90_000);
});

describe('load generator speaking AudioHook (--protocol audiohook)', () => {
  const audiohook = { apiKey: 'bench-test-key', clientSecret: randomBytes(32).toString('base64') };
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ CONNECTIONS_PER_IP_PER_MINUTE: '0', AUDIOHOOK_API_KEYS: JSON.stringify({ [audiohook.apiKey]: audiohook.clientSecret }) });
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
  });

  it('signed sessions, open/opened, stereo PCMU, close/closed: every frame taken, the angry call prompted, each call ended by its close', async () => {
    const fixtures = [
      { name: 'calm-then-angry', angry: true, promptByS: 27, mulaw: await loadFixtureMuLaw('calm-then-angry') },
      { name: 'stays-calm', angry: false, mulaw: await loadFixtureMuLaw('stays-calm') },
    ];
    const run = await runLoad({ targets: [{ httpUrl: svc.url, audiohook }], protocol: 'audiohook', calls: 2, seconds: 10, rampMs: 300, warmupMs: 200, fixtures, runId: `ah-${process.pid}` });
    const f = run.figures;
    expect(f.protocol).toBe('audiohook');
    expect(f.failed_calls).toBe(0);
    expect(f.frames_sent).toBe(2 * 500);
    expect(f.frames_taken).toBe(2 * 500);
    expect(f.dropped_frames).toBe(0);
    const m = MetricsSnapshot.parse(await (await fetch(`${svc.url}/metrics`)).text());
    // Both channels arrive in each frame; the customer's is what is scored.
    expect(m.byLabel('undertone_audio_messages_total', 'source').get('audiohook')).toBeGreaterThanOrEqual(2 * 500);
    expect(f.angry_calls).toBe(1);
    expect(f.angry_calls_prompted).toBe(1);
    // Each call ended through AudioHook's close handshake (a hangup, not a dropped socket),
    // with the agent's channel counted apart from the customer's.
    const closed = svc.lines.filter((l) => l.msg === 'AudioHook session closed by the client');
    expect(closed).toHaveLength(2);
    for (const { callId } of closed) {
      const detail = (await (await fetch(`${svc.url}/v1/calls/${callId}`)).json()) as { state: string; endReason: string; audioMs: number; agentAudioMs: number };
      expect(detail).toMatchObject({ state: 'ended', endReason: 'hangup', audioMs: 10_000, agentAudioMs: 10_000 });
    }
  }, 90_000);

  it('refuses to run without an AudioHook key for the targets', async () => {
    const fixtures = [
      { name: 'a', angry: true, mulaw: await loadFixtureMuLaw('calm-then-angry') },
      { name: 'c', angry: false, mulaw: await loadFixtureMuLaw('stays-calm') },
    ];
    await expect(runLoad({ targets: [{ httpUrl: svc.url }], protocol: 'audiohook', calls: 1, seconds: 4, fixtures, runId: 'x' })).rejects.toThrow(/AudioHook api key/);
  });
});

describe('load generator over two instances on one Redis and one routing queue (--instances 2)', () => {
  let a: TestService;
  let b: TestService;
  beforeAll(async () => {
    a = await startTestService({ CONNECTIONS_PER_IP_PER_MINUTE: '0', INSTANCE_ID: 'bench-a' });
    b = await startTestService({ CONNECTIONS_PER_IP_PER_MINUTE: '0', INSTANCE_ID: 'bench-b', ROUTING_QUEUE: a.queueName });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("spreads the calls over both, each agent on the other instance, and every angry call's prompt crosses to it", async () => {
    const fixtures = [
      { name: 'calm-then-angry', angry: true, promptByS: 27, mulaw: await loadFixtureMuLaw('calm-then-angry') },
      { name: 'stays-calm', angry: false, mulaw: await loadFixtureMuLaw('stays-calm') },
    ];
    const run = await runLoad({
      targets: [{ httpUrl: a.url }, { httpUrl: b.url }],
      agents: 'other',
      calls: 4,
      seconds: 10,
      rampMs: 300,
      warmupMs: 200,
      fixtures,
      runId: `t2-${process.pid}`,
    });
    const f = run.figures;
    expect(f.instances).toBe(2);
    expect(f.frames_sent).toBe(4 * 500);
    expect(f.frames_taken).toBe(4 * 500);
    expect(f.dropped_frames).toBe(0);
    expect(f.failed_calls).toBe(0);
    // Two calls streamed into each instance (call i into instance i mod 2) …
    for (const svc of [a, b]) {
      const m = MetricsSnapshot.parse(await (await fetch(`${svc.url}/metrics`)).text());
      expect([...m.byLabel('undertone_audio_messages_total', 'source').values()].reduce((x, y) => x + y, 0)).toBe(2 * 500);
      // … and with no agent on a call's own instance, nothing went to an
      // agent locally: the prompts reached the agents only through the
      // routing queue and the agent's inbox on the other instance.
      expect(m.byLabel('undertone_agent_local_messages_total', 'type').size).toBe(0);
    }
    expect(f.angry_calls).toBe(2);
    expect(f.angry_calls_prompted).toBe(2);
    expect(f.late_prompts).toBe(0);
    // The fleet's figures add both instances up.
    expect(f.cpu_ms_per_call_second).toBeGreaterThan(0);
    expect(f.lag_source).toBe('metrics');
  }, 120_000);
});
