/**
 * `undertone bench` (`npm run bench`): the load generator against a real
 * server (default), or the per-call chain alone (`--in-process`). Figures,
 * not pass/fail: these machines are shared, so runs are noisy.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { CONFIG_DEFAULTS } from '../config/config.js';
import { runInProcess } from '../bench/in-process.js';
import { table } from '../bench/report.js';
import { FIXTURES, loadMuLaw, positiveInt, str, type BenchValues } from './bench-args.js';
import { loadGenerator } from './bench-load.js';
import { createProgress } from './progress.js';

const HELP = `usage: npm run bench [-- options]

Load generator (default): starts its own server (child process: own port,
own ROUTING_QUEUE, auth on with a JWT secret made up for the run), opens
--calls concurrent Twilio Media Streams calls paced in real time (20 ms
mu-law frames of audio-fixtures/demo: a share turn angry; --protocol l16 or
audiohook for the other gateways), one agent socket per call, and prints
server CPU per call-second (and by stage), processing lag, alert latency,
memory per call and dropped frames.

  --calls N          concurrent calls (default 100)
  --seconds S        audio per call, s (default 30)
  --ramp-ms MS       call starts spread over this (default 1000)
  --warmup-ms MS     settle time before measuring (default 1000)
  --angry-share F    share of calls that turn angry, 0..1 (default 0.5; calls shorter than 29 s start
                     the angry fixture later, so its anger, and the prompt, still fall inside the call)
  --threads K        generator threads (default 1; more if the generator's own CPU is near a core)
  --instances K      spawn K servers on one Redis and one routing queue (default 1; scale-out): call i
                     streams into server i mod K, and every figure is the servers' sum
  --agents WHERE     with K > 1, where each call's agent connects: other (default: the next server, so
                     every prompt crosses servers through the routing queue and the agent's inbox) or
                     same (the call's own server: local delivery, as a balancer keeping them together)
  --protocol P       twilio (default: 8 kHz mu-law in Twilio Media Streams JSON), l16 (the Vonage
                     websocket: binary 20-ms L16 frames, at --rate) or audiohook (Genesys AudioHook:
                     signed upgrades, open/opened, binary stereo PCMU, close/closed; with --url the
                     first key of AUDIOHOOK_API_KEYS in the environment)
  --rate HZ          with --protocol l16: 8000 or 16000 (default 16000, resampled to 8 kHz by the server)
  --url URL[,URL…]   load already running servers instead (no /proc: CPU and RSS from their /metrics);
                     auth: JWT_SECRET in the environment (tokens minted), or --token / --agent-token, or AUTH off
  --token JWT        gateway token for --url
  --agent-token JWT  supervisor/admin token for --url: every agent socket and GET /v1/calls
  --server MODE      auto | tsx | dist: how the spawned server runs (auto: the build if newer than src/)
  --find-max         ramp N (doubling, then bisection; steps of --step-seconds) to the largest N that
                     stays real time: p99 lag < 200 ms, no dropped frames, every angry call
                     prompted before it ends (after a step that shed or refused calls, the
                     spawned server is replaced: its admission limit would fail the next step)
  --start-calls N    first --find-max step (default 50)
  --max-calls N      --find-max never tries more (default 2000)
  --step-seconds S   audio per --find-max step (default 10)
  --rounds K         run the same load K times on the same server (a soak, default 1): after each
                     round, once its calls have ended, the live calls left and every thread's memory
                     after a full GC; its growth per call over rounds 2..K (K ≥ 3) is what an ended
                     call leaves behind
  --json             last line printed is one JSON object with every figure
  --out DIR          where bench-<time>.json and .svg go (default reports)

In-process (--in-process): the chain alone (no sockets, no Redis): --calls
(default 20) calls of --seconds (default 60) of --file through CallSession,
split by stage with the StageClock; memory per call state; inference times.

  --file WAV         8 kHz mu-law audio (default audio-fixtures/demo/calm-then-angry.wav)
  --memory-calls N   live call states held for the memory figure (default 200)
  --inferences N     single-window inferences timed (default 2000)
`;

/** `undertone bench`. */
export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      calls: { type: 'string' },
      seconds: { type: 'string' },
      'ramp-ms': { type: 'string', default: '1000' },
      'warmup-ms': { type: 'string', default: '1000' },
      'angry-share': { type: 'string', default: '0.5' },
      threads: { type: 'string', default: '1' },
      url: { type: 'string' },
      instances: { type: 'string', default: '1' },
      agents: { type: 'string', default: 'other' },
      protocol: { type: 'string', default: 'twilio' },
      rate: { type: 'string', default: '16000' },
      token: { type: 'string' },
      'agent-token': { type: 'string' },
      server: { type: 'string', default: 'auto' },
      'find-max': { type: 'boolean' },
      rounds: { type: 'string', default: '1' },
      'start-calls': { type: 'string', default: '50' },
      'max-calls': { type: 'string', default: '2000' },
      'step-seconds': { type: 'string', default: '10' },
      json: { type: 'boolean' },
      out: { type: 'string', default: 'reports' },
      'in-process': { type: 'boolean' },
      file: { type: 'string', default: FIXTURES[0].file },
      'memory-calls': { type: 'string', default: '200' },
      inferences: { type: 'string', default: '2000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    return v['in-process'] ? await inProcess(v) : await loadGenerator(v);
  } catch (err) {
    if ((err as { usage?: boolean }).usage) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

async function inProcess(v: BenchValues): Promise<number> {
  const calls = positiveInt('calls', str(v, 'calls') ?? '20');
  const seconds = positiveInt('seconds', str(v, 'seconds') ?? '60');
  const file = str(v, 'file')!;
  process.stdout.write(`Undertone bench, in-process — ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);
  const progress = createProgress({ label: 'pipeline', total: seconds * 50, unit: 'frames/call' });
  const f = await runInProcess({
    mulaw: await loadMuLaw(file),
    calls,
    seconds,
    memoryCalls: positiveInt('memory-calls', str(v, 'memory-calls')),
    inferences: positiveInt('inferences', str(v, 'inferences')),
    modelPath: CONFIG_DEFAULTS.modelPath,
    cardPath: CONFIG_DEFAULTS.modelCardPath,
    policyFile: CONFIG_DEFAULTS.policyFile,
    onProgress: (d, t) => progress.update(Math.min(d, t)),
  });
  progress.done();
  process.stdout.write(
    `\n${table([
      ['audio pushed', `${calls} calls × ${seconds} s of ${file}, interleaved 20 ms chunks (${f.windows_scored} windows scored)`],
      ['CPU per call-second (process, all threads)', `${f.cpu_ms_per_call_second.toFixed(3)} ms → ${f.realtime_calls_per_core} real-time calls per core on this chain alone`],
      ['  by stage, CPU ms per call-second', Object.entries(f.stage_cpu_ms_per_call_second).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')],
      ['  StageClock as measured (wall)', Object.entries(f.stage_wall_ms_per_call_second).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')],
      ['throughput, all calls in one process', `${f.call_seconds_per_wall_second.toFixed(0)} call-seconds per wall second`],
      ['memory per live call state', `${f.kib_per_call_state.toFixed(0)} KiB${globalThis.gc ? '' : ' (run with node --expose-gc for a steadier figure)'}`],
      ['inference, one window: p50 / p99', `${f.inference_ms_p50.toFixed(3)} ms / ${f.inference_ms_p99.toFixed(3)} ms`],
      ['inference, batched ×64: per window', `${f.inference_batched_ms_per_window.toFixed(4)} ms`],
    ])}\n`,
  );
  if (v.json) process.stdout.write(`${JSON.stringify(f)}\n`);
  return 0;
}
