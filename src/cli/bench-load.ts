/**
 * `undertone bench` as a load generator (src/cli/bench.ts parses the
 * options): its own servers, or running ones (`--url`); one run, `--rounds`
 * or `--find-max`; the figures printed, as JSON, and as a report with a
 * picture.
 */
import { cpus } from 'node:os';
import { CONFIG_DEFAULTS, readAudiohookApiKeys } from '../config/config.js';
import { ConfigError } from '../shared/errors.js';
import { signToken } from '../http/auth/tokens.js';
import { findMax } from '../bench/find-max.js';
import { runLoad, type BenchFixture, type LoadRunResult } from '../bench/load-run.js';
import type { LoadFigures } from '../bench/run-figures.js';
import { removeQueue } from '../bench/redis-cleanup.js';
import { findMaxRows, findMaxSvg, loadRows, roundRows, roundsSvg, table, timelineSvg, writeReport } from '../bench/report.js';
import { settleServers, startBenchServers } from '../bench/bench-servers.js';
import { runRounds } from '../bench/rounds.js';
import { onInterrupt, type SpawnedServer } from '../bench/server-process.js';
import { liveCallsOn, measureServersMemory, type Target } from '../bench/server-probe.js';
import type { AudiohookCredentials } from '../bench/call-driver.js';
import { FIXTURES, loadMuLaw, positiveInt, stamp, str, type BenchValues } from './bench-args.js';
import { createProgress } from './progress.js';

/** The load generator: the default mode of `undertone bench`. */
export async function loadGenerator(v: BenchValues): Promise<number> {
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
