/**
 * The load generator against a real service (startService: real Redis,
 * BullMQ, model) on port 0, as `--url` drives one: CPU and memory from its
 * /metrics, two generator threads. No timing assertions: the figures must
 * exist and the frame accounting must add up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/bench/load-run.js';
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
    const run = await runLoad({ target: { httpUrl: svc.url }, calls: 3, seconds: 4, rampMs: 300, warmupMs: 200, fixtures, threads: 2, runId: `t${process.pid}` });
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
});
