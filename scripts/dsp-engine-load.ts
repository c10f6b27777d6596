/**
 * The DSP engine under load, in process: N calls, each a CallSession fed one
 * 20 ms mu-law payload per call every 20 ms (real-time pace), for S seconds,
 * on the inline engine (DSP_THREADS=0) or a worker pool. No sockets and no
 * Redis (events go to a null publisher), so the figures are the call chain
 * alone: decode, features, pitch, model, policy.
 *
 * Prints, per run: process CPU ms per call-second (every thread), the main
 * thread's own CPU (from /proc/self/task/<pid>/stat) and event-loop
 * utilisation, window lag p50/p99/max (CallSession's onWindowLag), and
 * whether the run stayed real-time (p99 lag < 200 ms, the feeder never more
 * than 200 ms behind).
 *
 *   nice -n 10 npx tsx scripts/dsp-engine-load.ts --threads 0 --calls 100 --seconds 20
 *   nice -n 10 npx tsx scripts/dsp-engine-load.ts --threads 1 --calls 100,200,300 --seconds 20
 *
 * `--pack-calls P` places calls as `DSP_PACK_CALLS` does (default: the
 * server's default, 100; 0 spreads them over the threads from the first).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { readWav } from '../src/audio/wav.js';
import { createCallPipeline } from '../src/calls/call-pipeline.js';
import { CallSession } from '../src/calls/call-session.js';
import type { DspEngine } from '../src/dsp/dsp-engine.js';
import { createWorkerPoolEngine, DEFAULT_PACK_CALLS } from '../src/dsp/worker-pool.js';
import { loadEmotionModel } from '../src/model/emotion-model.js';
import { StageClock, STAGES } from '../src/observability/stage-clock.js';
import { createEscalationPolicy } from '../src/policy/create-escalation-policy.js';
import { createLogger } from '../src/shared/logger.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '0' },
    calls: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'pack-calls': { type: 'string', default: String(DEFAULT_PACK_CALLS) },
  },
});
const threads = Number(values.threads);
const counts = values.calls.split(',').map(Number);
const seconds = Number(values.seconds);
const packCalls = Number(values['pack-calls']);

const modelPath = 'models/emotion.onnx';
const model = await loadEmotionModel({ modelPath, cardPath: 'models/emotion.json' });
const dsp: DspEngine | undefined = threads > 0 ? await createWorkerPoolEngine({ threads, modelPath, card: model.card, packCalls }) : undefined;
const audio = readWav(readFileSync('audio-fixtures/demo/calm-then-angry.wav')).muLaw!;
const logger = createLogger({ level: 'silent' });
/** /proc stat times are in clock ticks of 1/USER_HZ s. */
const USER_HZ = 100;

function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line; 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(n: number): Promise<void> {
  const clock = new StageClock();
  const lags: number[] = [];
  const pipeline = createCallPipeline({
    model,
    ...(dsp ? { dsp } : {}),
    policyFactory: createEscalationPolicy(),
    publisher: { publish: async () => {}, close: async () => {} },
    clock,
    onWindowLag: (lag) => lags.push(lag),
  });
  const sessions = Array.from({ length: n }, (_, i) => {
    const callId = `CA-load-${n}-${i}`;
    return new CallSession(
      { kind: 'start', callId, streamId: `MZ-${callId}`, agentId: 'a', language: 'en-US', tracks: ['caller'], format: { encoding: 'pcmu', sampleRate: 8000 }, metadata: {}, source: 'twilio' },
      pipeline,
      logger,
    );
  });
  // Calls start at different points of the fixture, so speech and silence spread over the run.
  const audioFrames = Math.floor(audio.length / 160) - 1;
  const offsets = sessions.map((_, i) => ((i * 7919) % audioFrames) * 160);
  const frames = seconds * 50;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let sent = 0;
  let maxBehindMs = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(frames, Math.floor((performance.now() - t0) / 20) + 1);
      maxBehindMs = Math.max(maxBehindMs, (due - sent - 1) * 20);
      for (; sent < due; sent++) {
        for (let i = 0; i < n; i++) {
          // Call i starts (i mod 25) frames late: window ends spread over the 0.5 s hop, as real calls' do.
          const frame = sent - (i % 25);
          if (frame < 0) continue;
          const at = (offsets[i]! + frame * 160) % (audio.length - 160);
          sessions[i]!.acceptAudio({ kind: 'audio', callId: sessions[i]!.callId, track: 'caller', payload: audio.subarray(at, at + 160) });
        }
      }
      if (sent >= frames) resolve();
      else setTimeout(tick, Math.max(0, t0 + sent * 20 - performance.now()));
    };
    tick();
  });
  await Promise.all(sessions.map((s) => s.finish('hangup')));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainMs = mainThreadCpuMs() - main0;
  const elu = performance.eventLoopUtilization(elu0);
  const callSeconds = n * seconds;
  const sorted = lags.slice().sort((a, b) => a - b);
  const p99 = pct(sorted, 99);
  const stages = STAGES.map((s, i) => `${s} ${(clock.ms[i]! / callSeconds).toFixed(2)}`).join(', ');
  const result = {
    mode: threads > 0 ? `workers(${threads})` : 'inline',
    calls: n,
    seconds,
    wall_s: Number(wallS.toFixed(1)),
    cpu_ms_per_call_second: Number(((cpu.user + cpu.system) / 1000 / callSeconds).toFixed(3)),
    main_thread_cpu_ms_per_call_second: Number((mainMs / callSeconds).toFixed(3)),
    main_event_loop_utilization: Number(elu.utilization.toFixed(3)),
    lag_p50_ms: Number(pct(sorted, 50).toFixed(1)),
    lag_p99_ms: Number(p99.toFixed(1)),
    lag_max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)),
    feeder_max_behind_ms: maxBehindMs,
    windows: lags.length,
    realtime: p99 < 200 && maxBehindMs <= 200,
  };
  process.stdout.write(`${JSON.stringify(result)}\n  stage ms per call-second: ${stages}\n`);
}

for (const n of counts) await run(n);
await dsp?.close();
await model.close();
