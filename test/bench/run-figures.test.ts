import { describe, expect, it } from 'vitest';
import type { DriveCallResult } from '../../src/bench/call-driver.js';
import { MetricsSnapshot } from '../../src/bench/prom-text.js';
import { computeFigures, threadMemoryPerCall, type FigureInputs, type ServerCallView } from '../../src/bench/run-figures.js';
import type { ServerSample } from '../../src/bench/server-probe.js';

const FRAMES = 100; // 2 s calls

/** A call whose frame f was sent at t0 + 20 f. */
function call(opts: { angry: boolean; t0: number; sent?: number; failed?: number; prompts?: DriveCallResult['prompts'] }): DriveCallResult {
  const sent = opts.sent ?? FRAMES;
  const sendTimes = new Float64Array(FRAMES).fill(Number.NaN);
  for (let f = 0; f < sent; f++) sendTimes[f] = opts.t0 + 20 * f;
  return {
    callSid: `CA${Math.random()}`,
    angry: opts.angry,
    startMs: opts.t0,
    sendTimes,
    framesSent: sent,
    framesFailed: opts.failed ?? 0,
    stopMs: opts.t0 + 20 * FRAMES,
    prompts: opts.prompts ?? [],
  };
}

const view = (audioMs: number | undefined, prompts: [number, number][] = []): ServerCallView => ({ audioMs, promptAudioMs: new Map(prompts) });

function sample(atMs: number, cpuMs: number, rssBytes: number, metrics?: string, mainCpuMs?: number): ServerSample {
  return { atMs, cpuMs, mainCpuMs, rssBytes, metrics: metrics === undefined ? undefined : MetricsSnapshot.parse(metrics) };
}

const base = (over: Partial<FigureInputs>): FigureInputs => ({
  calls: 2,
  seconds: 2,
  framesPerCall: FRAMES,
  results: [],
  views: [],
  windowStart: sample(0, 1000, 100 * 1024 * 1024),
  windowEnd: sample(1000, 1050, 101 * 1024 * 1024),
  rssBeforeBytes: 99 * 1024 * 1024,
  generatorCpuMs: 4,
  clientLagMs: [],
  cpuSource: 'proc',
  ...over,
});

describe('load run figures', () => {
  it('CPU, memory and generator CPU per call over the window', () => {
    const f = computeFigures(base({ results: [call({ angry: false, t0: 0 }), call({ angry: false, t0: 0 })], views: [view(2000), view(2000)] }));
    expect(f.measured_s).toBe(1);
    expect(f.cpu_ms_per_call_second).toBe(25); // 50 ms over 2 calls × 1 s
    expect(f.cpu_source).toBe('proc');
    expect(f.main_thread_cpu_ms_per_call_second).toBeNull(); // no per-thread figures in these samples
    expect(f.rss_kb_per_call).toBe(1024); // 2 MiB over 2 calls
    expect(f.generator_cpu_ms_per_call_second).toBe(2);
    expect(f.generator_send_late_p99_ms).toBe(0); // every frame sent exactly when due
    expect(f.stage_cpu_ms_per_call_second).toBeNull();
    expect(f.lag_p99_ms).toBeNull();
  });

  it("the machine's busy, stolen and idle shares over the window; null when /proc/stat was not read", () => {
    const machineCpu = { start: { busy: 1000, idle: 3000, steal: 100 }, end: { busy: 1600, idle: 3300, steal: 200 } };
    expect(computeFigures(base({ machineCpu })).machine_cpu).toEqual({ busy: 0.6, steal: 0.1, idle: 0.3 });
    expect(computeFigures(base({})).machine_cpu).toBeNull();
  });

  it('main thread CPU per call over the window, beside the whole process', () => {
    const f = computeFigures(base({ windowStart: sample(0, 1000, 100 * 1024 * 1024, undefined, 400), windowEnd: sample(1000, 1050, 101 * 1024 * 1024, undefined, 420) }));
    expect(f.cpu_ms_per_call_second).toBe(25);
    expect(f.main_thread_cpu_ms_per_call_second).toBe(10); // 20 ms over 2 calls × 1 s
    expect(f.dsp_thread_cpu_ms_per_call_second).toBeNull(); // no thread list in these samples
    expect(f.other_thread_cpu_ms_per_call_second).toBeNull();
  });

  it('process CPU split into the main thread, the DSP worker threads and the rest', () => {
    const a = { ...sample(0, 1000, 100 * 1024 * 1024, undefined, 400), threads: [{ tid: 1, name: 'node', cpuMs: 400 }, { tid: 2, name: 'dsp-0', cpuMs: 300 }, { tid: 3, name: 'node', cpuMs: 50 }] };
    const b = { ...sample(1000, 1050, 101 * 1024 * 1024, undefined, 420), threads: [{ tid: 1, name: 'node', cpuMs: 420 }, { tid: 2, name: 'dsp-0', cpuMs: 326 }, { tid: 3, name: 'node', cpuMs: 54 }] };
    const f = computeFigures(base({ windowStart: a, windowEnd: b }));
    expect(f.cpu_ms_per_call_second).toBe(25); // 50 ms over 2 calls × 1 s
    expect(f.main_thread_cpu_ms_per_call_second).toBe(10);
    expect(f.dsp_thread_cpu_ms_per_call_second).toBe(13); // 26 ms
    expect(f.other_thread_cpu_ms_per_call_second).toBe(2); // 50 − 20 − 26 = 4 ms
  });

  it('dropped frames: sent but not taken by the server, plus frames the generator could not send', () => {
    const f = computeFigures(
      base({
        results: [call({ angry: false, t0: 0 }), call({ angry: false, t0: 0, sent: 90, failed: 10 })],
        views: [view(1960), view(1800)],
      }),
    );
    expect(f.frames_expected).toBe(200);
    expect(f.frames_sent).toBe(190);
    expect(f.frames_taken).toBe(98 + 90);
    expect(f.dropped_frames).toBe(2 + 10);
  });

  it('alert latency from the send time of the frame completing the window; late prompts; angry calls prompted', () => {
    const t0 = 10_000;
    const results = [
      // Prompt for the window ending at 1000 ms (frame 49, sent at t0 + 980) arrives 30 ms later.
      call({ angry: true, t0, prompts: [{ recvMs: t0 + 1010, seq: 2, decidedMs: t0 + 1000 }] }),
      // The message carries its audioMs (1500 ms → frame 74, sent t0 + 1480); it arrives after the call ended (t0 + 2000).
      call({ angry: true, t0, prompts: [{ recvMs: t0 + 2100, seq: 5, audioMs: 1500 }] }),
    ];
    const f = computeFigures(base({ results, views: [view(2000, [[2, 1000]]), view(2000)] }));
    expect(f.prompts).toBe(2);
    expect(f.prompts_decided).toBe(1); // the server's record of the first call; the second's is empty here
    expect(f.alert_latency_p50_ms).toBe(30);
    expect(f.alert_latency_p99_ms).toBe(620);
    expect(f.alert_decide_p50_ms).toBe(20);
    expect(f.alert_deliver_p50_ms).toBe(10);
    // No lag histogram and no polls: the prompt window's frame sent → decided is the lag sample.
    expect(f.lag_source).toBe('client');
    expect(f.lag_p99_ms).toBe(20);
    expect(f.late_prompts).toBe(1);
    expect(f.late_prompts_unmarked).toBe(1);
    expect(f.angry_calls).toBe(2);
    expect(f.angry_calls_prompted).toBe(1);
  });

  it('tells late prompts marked stale from those sent as live after their call ended', () => {
    const t0 = 10_000;
    const results = [
      // In time, then two after the call's end (t0 + 2000): one marked stale by the server, one not.
      call({ angry: true, t0, prompts: [{ recvMs: t0 + 1010, seq: 2 }, { recvMs: t0 + 2050, seq: 4, stale: true }, { recvMs: t0 + 2080, seq: 6 }] }),
      call({ angry: true, t0, prompts: [{ recvMs: t0 + 2300, seq: 3, stale: true }] }),
    ];
    const f = computeFigures(base({ results, views: [view(2000), view(2000)] }));
    expect(f.prompts).toBe(4);
    expect(f.late_prompts).toBe(3);
    expect(f.late_prompts_unmarked).toBe(1);
    expect(f.angry_calls_prompted).toBe(1);
  });

  it('stage split and lag percentiles from /metrics deltas; the client estimate only when the histogram is absent', () => {
    const m = (decode: number, features: number, b5: number, b50: number, inf: number): string =>
      [
        `undertone_stage_seconds_total{stage="decode"} ${decode}`,
        `undertone_stage_seconds_total{stage="features"} ${features}`,
        `undertone_audio_lag_seconds_bucket{le="0.005"} ${b5}`,
        `undertone_audio_lag_seconds_bucket{le="0.05"} ${b50}`,
        `undertone_audio_lag_seconds_bucket{le="+Inf"} ${inf}`,
      ].join('\n');
    const f = computeFigures(
      base({
        windowStart: sample(0, 0, 0, m(1, 2, 100, 100, 100)),
        windowEnd: sample(2000, 10, 0, m(1.004, 2.02, 100, 200, 200)),
        clientLagMs: [999],
      }),
    );
    expect(f.stage_cpu_ms_per_call_second).toEqual({ decode: 1, features: 5 }); // 4 ms and 20 ms over 4 call-seconds
    expect(f.lag_source).toBe('metrics');
    expect(f.lag_p50_ms).toBeCloseTo(27.5, 6); // rank 50 of 100 new, all in (5, 50] ms
    const client = computeFigures(base({ clientLagMs: [0, 0, 20, 40] }));
    expect(client.lag_source).toBe('client');
    expect(client.lag_p99_ms).toBe(40);
  });

  it('DSP batches and model runs per second, and audio messages per batch, from /metrics deltas; null without the counter', () => {
    const scrape = (batches: number, twilio: number, l16: number, runs: number): string =>
      [
        `undertone_dsp_batches_total ${batches}`,
        `undertone_audio_messages_total{source="twilio"} ${twilio}`,
        `undertone_audio_messages_total{source="l16"} ${l16}`,
        `undertone_inference_seconds_count ${runs}`,
      ].join('\n');
    const f = computeFigures(
      base({ windowStart: sample(0, 1000, 100 * 1024 * 1024, scrape(100, 1000, 0, 40)), windowEnd: sample(2000, 1050, 101 * 1024 * 1024, scrape(700, 4000, 600, 440)) }),
    );
    expect(f.dsp_batches_per_s).toBe(300); // 600 batches over 2 s
    expect(f.audio_messages_per_dsp_batch).toBe(6); // 3600 messages over 600 batches
    expect(f.model_runs_per_s).toBe(200);
    const inline = computeFigures(base({ windowStart: sample(0, 1000, 1, 'undertone_inference_seconds_count 1'), windowEnd: sample(1000, 1050, 1, 'undertone_inference_seconds_count 9') }));
    expect(inline.dsp_batches_per_s).toBeNull();
    expect(inline.audio_messages_per_dsp_batch).toBeNull();
    expect(inline.model_runs_per_s).toBe(8);
  });

  it('GC nudges per second and their ms per call-second, summed over threads from /metrics deltas; null without the counter', () => {
    const scrape = (main: number, dsp: number, mainS: number, dspS: number): string =>
      [
        `undertone_gc_nudges_total{thread="main"} ${main}`,
        `undertone_gc_nudges_total{thread="dsp-0"} ${dsp}`,
        `undertone_gc_nudge_seconds_total{thread="main"} ${mainS}`,
        `undertone_gc_nudge_seconds_total{thread="dsp-0"} ${dspS}`,
      ].join('\n');
    // 2 calls over 2 s (base): 4 call-seconds.
    const f = computeFigures(base({ windowStart: sample(0, 0, 0, scrape(10, 5, 0.01, 0.005)), windowEnd: sample(2000, 10, 0, scrape(30, 25, 0.03, 0.017)) }));
    expect(f.gc_nudges_per_s).toBe(20); // 40 nudges over 2 s
    expect(f.gc_nudges_per_s_by_thread).toEqual({ main: 10, 'dsp-0': 10 });
    expect(f.gc_nudge_ms_per_call_second).toBe(8); // 32 ms over 4 call-seconds
    const none = computeFigures(base({ windowStart: sample(0, 0, 0, 'undertone_inference_seconds_count 1'), windowEnd: sample(2000, 10, 0, 'undertone_inference_seconds_count 9') }));
    expect(none.gc_nudges_per_s).toBeNull();
    expect(none.gc_nudges_per_s_by_thread).toBeNull();
    expect(none.gc_nudge_ms_per_call_second).toBeNull();
  });

  it('a call the server refused or closed early counts as failed', () => {
    const refused = { ...call({ angry: false, t0: 0, sent: 0, failed: FRAMES }), closedByServer: { code: 1013, reason: 'overloaded' } };
    const f = computeFigures(base({ results: [call({ angry: false, t0: 0 }), refused], views: [view(2000), view(undefined)] }));
    expect(f.failed_calls).toBe(1);
    expect(f.dropped_frames).toBe(FRAMES);
    expect(f.unverified_calls).toBe(0);
  });

  it('generator lateness: send time − due time of the frames', () => {
    const late = call({ angry: false, t0: 0 });
    late.sendTimes.forEach((t, f) => (late.sendTimes[f] = t + (f >= 50 ? 30 : 0)));
    const f = computeFigures(base({ results: [call({ angry: false, t0: 0 }), late], views: [view(2000), view(2000)] }));
    expect(f.generator_send_late_p99_ms).toBe(30);
  });

  it('a call the server cannot report is unverified, not dropped', () => {
    const f = computeFigures(base({ results: [call({ angry: false, t0: 0 }), call({ angry: false, t0: 0 })], views: [view(2000), view(undefined)] }));
    expect(f.unverified_calls).toBe(1);
    expect(f.dropped_frames).toBe(0);
  });

  it('memory per call: Δ(heap + external) per thread from the memory probe, else from the /metrics gauges', () => {
    const MiB = 1024 * 1024;
    const probe = computeFigures(
      base({
        calls: 4,
        memoryBefore: { gc: true, threads: new Map([['main', 40 * MiB], ['dsp-0', 30 * MiB]]) },
        memoryLive: { gc: true, threads: new Map([['main', 41 * MiB], ['dsp-0', 32 * MiB], ['dsp-1', 1 * MiB]]) },
      }),
    );
    // main 1 MiB, dsp-0 2 MiB, dsp-1 (new) 1 MiB over 4 calls.
    expect(probe.heap_kb_per_call_by_thread).toEqual({ main: 256, 'dsp-0': 512, 'dsp-1': 256 });
    expect(probe.heap_kb_per_call).toBe(1024);
    expect(probe.heap_source).toBe('probe-gc');
    expect(computeFigures(base({ memoryBefore: { gc: false, threads: new Map([['main', 0]]) }, memoryLive: { gc: true, threads: new Map([['main', MiB]]) } })).heap_source).toBe('probe');

    const gauge = (main: number, dsp: number): string =>
      [
        `undertone_thread_memory_bytes{thread="main",kind="heap_used"} ${main}`,
        `undertone_thread_memory_bytes{thread="main",kind="external"} ${main}`,
        `undertone_thread_memory_bytes{thread="main",kind="array_buffers"} ${main}`,
        `undertone_thread_memory_bytes{thread="dsp-0",kind="heap_used"} ${dsp}`,
        `undertone_thread_memory_bytes{thread="dsp-0",kind="heap_total"} ${10 * dsp}`,
      ].join('\n');
    const metrics = computeFigures(
      base({ metricsBefore: MetricsSnapshot.parse(gauge(MiB, MiB)), windowEnd: sample(1000, 1050, 101 * MiB, gauge(2 * MiB, 3 * MiB)) }),
    );
    // heap_used + external (array_buffers is part of external; heap_total is not live memory): main 2 MiB, dsp-0 2 MiB over 2 calls.
    expect(metrics.heap_kb_per_call_by_thread).toEqual({ main: 1024, 'dsp-0': 1024 });
    expect(metrics.heap_source).toBe('metrics');
    expect(computeFigures(base({})).heap_kb_per_call).toBeNull();
    expect(threadMemoryPerCall(new Map(), new Map([['main', 1]]), 1)).toBeUndefined();
  });
});
