/**
 * `undertone bench` (`npm run bench`): the load generator against a real
 * server (default), or the per-call chain alone (`--in-process`). Figures,
 * not pass/fail: these machines are shared, so runs are noisy.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { readWav } from '../audio/wav.js';
import { CONFIG_DEFAULTS, readAudiohookApiKeys } from '../config/config.js';
import { ConfigError } from '../shared/errors.js';
import { signToken } from '../http/auth/tokens.js';
import { findMax } from '../bench/find-max.js';
import { runInProcess } from '../bench/in-process.js';
import { runLoad, type BenchFixture, type LoadRunResult } from '../bench/load-run.js';
import type { LoadFigures } from '../bench/run-figures.js';
import { removeQueue } from '../bench/redis-cleanup.js';
import { findMaxRows, findMaxSvg, loadRows, roundRows, roundsSvg, table, timelineSvg, writeReport } from '../bench/report.js';
import { settleServers, startBenchServers } from '../bench/bench-servers.js';
import { runRounds } from '../bench/rounds.js';
import { onInterrupt, type SpawnedServer } from '../bench/server-process.js';
import { liveCallsOn, measureServersMemory, type Target } from '../bench/server-probe.js';
import type { AudiohookCredentials } from '../bench/call-driver.js';
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

const FIXTURES = [
  // Anger starts ~20 s in (10 neutral clips, then 10 angry ones); alone, the prompt comes at ~26 s.
  { name: 'calm-then-angry', file: 'audio-fixtures/demo/calm-then-angry.wav', angry: true, promptByS: 27 },
  { name: 'stays-calm', file: 'audio-fixtures/demo/stays-calm.wav', angry: false },
] as const;

async function loadMuLaw(file: string): Promise<Uint8Array> {
  const wav = readWav(await readFile(file));
  if (!wav.muLaw || wav.sampleRate !== 8000) throw new Error(`UT_ERR_BENCH_FIXTURE: ${file} must be 8 kHz mu-law (the wire format)`);
  return wav.muLaw;
}

const positiveInt = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw Object.assign(new Error(`bench: --${name} takes a positive whole number, got '${v}'`), { usage: true });
  return n;
};

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

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

type Values = Record<string, string | boolean | undefined>;
const str = (v: Values, k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);

async function inProcess(v: Values): Promise<number> {
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

async function loadGenerator(v: Values): Promise<number> {
  const findMaxMode = v['find-max'] === true;
  const rounds = positiveInt('rounds', str(v, 'rounds'));
  if (findMaxMode && rounds > 1) throw Object.assign(new Error('bench: --rounds and --find-max do not go together'), { usage: true });
  const calls = positiveInt('calls', str(v, 'calls') ?? '100');
  const seconds = positiveInt('seconds', str(v, 'seconds') ?? '30');
  const stepSeconds = positiveInt('step-seconds', str(v, 'step-seconds'));
  const maxCalls = positiveInt('max-calls', str(v, 'max-calls'));
  const threads = positiveInt('threads', str(v, 'threads'));
  const angryShare = Number(str(v, 'angry-share'));
  if (!(angryShare >= 0 && angryShare <= 1)) throw Object.assign(new Error('bench: --angry-share takes a number in 0..1'), { usage: true });
  const rampMs = Number(str(v, 'ramp-ms'));
  const warmupMs = Number(str(v, 'warmup-ms'));
  const mode = str(v, 'server');
  if (mode !== 'auto' && mode !== 'tsx' && mode !== 'dist') throw Object.assign(new Error('bench: --server is auto, tsx or dist'), { usage: true });
  const instances = positiveInt('instances', str(v, 'instances'));
  const agents = str(v, 'agents');
  if (agents !== 'same' && agents !== 'other') throw Object.assign(new Error('bench: --agents is same or other'), { usage: true });
  const protocol = str(v, 'protocol');
  if (protocol !== 'twilio' && protocol !== 'l16' && protocol !== 'audiohook') throw Object.assign(new Error('bench: --protocol is twilio, l16 or audiohook'), { usage: true });
  const l16Rate = Number(str(v, 'rate'));
  if (l16Rate !== 8000 && l16Rate !== 16000) throw Object.assign(new Error('bench: --rate is 8000 or 16000'), { usage: true });
  const fixtures: BenchFixture[] = await Promise.all(FIXTURES.map(async (f) => ({ name: f.name, angry: f.angry, ...('promptByS' in f ? { promptByS: f.promptByS } : {}), mulaw: await loadMuLaw(f.file) })));
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const redisUrl = process.env['REDIS_URL'] ?? CONFIG_DEFAULTS.redisUrl;
  const queueName = `bench-${runId}`;

  let servers: SpawnedServer[] = [];
  let targets: Target[];
  const url = str(v, 'url');
  if (url !== undefined) {
    if (instances !== 1) throw Object.assign(new Error('bench: --instances spawns servers; with --url, list the running ones: --url URL,URL'), { usage: true });
    const secret = process.env['JWT_SECRET'];
    const mint = (role: 'agent' | 'supervisor' | 'gateway' | 'admin', sub: string): string | undefined => (secret ? signToken(secret, { role, sub }) : undefined);
    const adminToken = mint('admin', 'bench-admin');
    const agentToken = str(v, 'agent-token');
    const audiohook = protocol === 'audiohook' ? audiohookKeyFromEnv() : undefined;
    targets = url.split(',').map((u) => ({
      httpUrl: u.trim().replace(/\/$/, ''),
      ...((str(v, 'token') ?? mint('gateway', 'bench-gateway')) ? { gatewayToken: (str(v, 'token') ?? mint('gateway', 'bench-gateway'))! } : {}),
      ...((agentToken ?? mint('supervisor', 'bench-supervisor')) ? { supervisorToken: (agentToken ?? mint('supervisor', 'bench-supervisor'))! } : {}),
      agentToken: (agentId) => agentToken ?? mint('agent', agentId),
      ...(adminToken ? { adminToken } : {}),
      ...(audiohook ? { audiohook } : {}),
    }));
  } else {
    const ceiling = findMaxMode ? maxCalls : calls;
    process.stderr.write(`bench: starting ${instances === 1 ? 'a server' : `${instances} servers`} (queue '${queueName}')…\n`);
    onInterrupt(() => removeQueue(redisUrl, queueName));
    ({ servers, targets } = await startBenchServers({ mode, ceiling, queueName, redisUrl, instances, runId }));
  }
  const serverText =
    servers.length > 0 ? servers.map((s) => `server pid ${s.pid} (${s.mode}) at ${s.url}`).join(', ') : targets.map((t) => t.httpUrl).join(', ');
  const placement = targets.length > 1 ? `; calls spread over ${targets.length} instances, agents on ${agents === 'other' ? 'the next instance' : "the call's instance"}` : '';
  process.stdout.write(`Undertone bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${serverText}; generator threads ${threads}${placement}\n`);

  const stillOverloaded = (t: Target, ms: number): void => void process.stdout.write(`bench: server ${t.httpUrl} still overloaded, waited ${Math.round(ms / 1000)} s…\n`);
  let step = 0;
  let lastStep: LoadFigures | undefined;
  const once = async (n: number, s: number): Promise<LoadRunResult> => {
    step++;
    const progress = createProgress({ label: `${n} calls × ${s} s`, total: s * 1000 + rampMs, unit: 'ms' });
    const result = await runLoad({
      targets,
      agents,
      protocol,
      l16Rate,
      calls: n,
      seconds: s,
      rampMs,
      warmupMs,
      angryShare,
      fixtures,
      threads,
      runId: `${runId}-${step}`,
      onProgress: (done) => progress.update(done),
    });
    progress.done();
    return result;
  };

  try {
    const out = str(v, 'out')!;
    if (findMaxMode) {
      const res = await findMax({
        start: positiveInt('start-calls', str(v, 'start-calls')),
        limit: maxCalls,
        run: async (n) => {
          // Let the previous step's deliveries drain so steps do not overlap, and
          // an overloaded server recover: its overload guard refuses new calls (1013)
          // until its lag has stayed low for 5 s, which would fail the next step.
          if (step > 0 && servers.length > 0 && (lastStep?.shed_calls ?? 0) + (lastStep?.failed_calls ?? 0) > 0) {
            // A server that shed or refused calls holds new calls to the count it kept, and raises that
            // limit only 5 % per quiet 30 s: the next step would measure the limit, not the server.
            process.stdout.write('bench: the last step shed or refused calls; a fresh server for the next step\n');
            await Promise.all(servers.map((s) => s.stop()));
            ({ servers, targets } = await startBenchServers({ mode, ceiling: maxCalls, queueName, redisUrl, instances, runId }));
          } else if (step > 0) {
            await settleServers(targets, stillOverloaded);
          }
          const { figures } = await once(n, stepSeconds);
          lastStep = figures;
          // RSS is not given back after a step: only the first step starts from a fresh server.
          return step > 1 ? { ...figures, rss_kb_per_call: null } : figures;
        },
        onStep: (s) => process.stdout.write(`${table(findMaxRows([s], 0).slice(0, 1))}\n`),
      });
      const best = res.steps.filter((s) => s.realtime).sort((a, b) => b.calls - a.calls)[0];
      process.stdout.write(`\n${table(findMaxRows(res.steps, res.maxRealtimeCalls))}\n`);
      if (best) process.stdout.write(`\nat ${best.calls} calls:\n${table(loadRows(best.figures, threads))}\n`);
      const json = { ...(best?.figures ?? res.steps[0]!.figures), max_realtime_calls: res.maxRealtimeCalls, steps: res.steps.map((s) => ({ ...s.figures, realtime: s.realtime })) };
      const paths = await writeReport(out, stamp(), json, findMaxSvg(res.steps, `Undertone --find-max: max real-time calls ${res.maxRealtimeCalls}`));
      process.stdout.write(`\nreport: ${paths.json}, picture: ${paths.svg}\n`);
      if (v.json) process.stdout.write(`${JSON.stringify(json)}\n`);
    } else if (rounds > 1) {
      const res = await runRounds({
        rounds,
        calls,
        run: async () => (await once(calls, seconds)).figures,
        settle: () => settleServers(targets, stillOverloaded),
        probe: async () => ({ live: await liveCallsOn(targets), memory: await measureServersMemory(targets) }),
        onRound: (r) => process.stdout.write(`${table(roundRows([r]))}\n`),
      });
      process.stdout.write(`\n${table(roundRows(res.records))}\n`);
      const retained = res.retainedKibPerCall === null ? 'n/a' : `${res.retainedKibPerCall.toFixed(2)} KiB`;
      process.stdout.write(`\nleft behind per ended call (memory growth per call run, ${rounds >= 3 ? `rounds 2..${rounds}` : 'both rounds'}, all threads, after GC): ${retained}\n`);
      const json = { ...res.figures.at(-1)!, rounds: res.records, retained_kib_per_call: res.retainedKibPerCall };
      const paths = await writeReport(out, stamp(), json, roundsSvg(res.records, `Undertone bench: ${rounds} rounds of ${calls} calls × ${seconds} s`));
      process.stdout.write(`\nreport: ${paths.json}, picture: ${paths.svg}\n`);
      if (v.json) process.stdout.write(`${JSON.stringify(json)}\n`);
    } else {
      const result = await once(calls, seconds);
      process.stdout.write(`\n${table(loadRows(result.figures, threads))}\n`);
      const paths = await writeReport(out, stamp(), result.figures, timelineSvg(result, `Undertone bench: ${calls} calls × ${seconds} s`));
      process.stdout.write(`\nreport: ${paths.json}, picture: ${paths.svg}\n`);
      if (v.json) process.stdout.write(`${JSON.stringify(result.figures)}\n`);
    }
    return 0;
  } finally {
    if (servers.length > 0) {
      await Promise.all(servers.map((s) => s.stop()));
      const problem = await removeQueue(redisUrl, queueName);
      if (problem) process.stderr.write(`bench: could not remove queue '${queueName}' from Redis: ${problem}\n`);
    }
  }
}

/** `--protocol audiohook --url …`: the first key of `AUDIOHOOK_API_KEYS`, the servers' own setting, read and checked as they read it. */
function audiohookKeyFromEnv(): AudiohookCredentials {
  const usage = (why: string): Error => Object.assign(new Error(`bench: --protocol audiohook with --url signs with the first key of AUDIOHOOK_API_KEYS: ${why}`), { usage: true });
  let keys: Readonly<Record<string, string>>;
  try {
    keys = readAudiohookApiKeys(process.env);
  } catch (err) {
    throw usage(err instanceof ConfigError ? err.problems.join('; ') : String(err));
  }
  const first = Object.entries(keys)[0];
  if (first === undefined) throw usage('it is not set');
  return { apiKey: first[0], clientSecret: first[1] };
}
