/**
 * What the bench reads from the server under test: /proc figures of its
 * process when the bench spawned it, else the process metrics on /metrics;
 * the stage and lag metrics; the call API (`GET /v1/calls[/:callId]`).
 * Every read that fails gives `undefined`: a missing figure prints as n/a.
 */
import type { AudiohookCredentials } from './call-driver.js';
import { MetricsSnapshot } from './prom-text.js';
import { processCpuMs, processRssBytes, threadCpu, type ThreadCpu } from './proc-stat.js';

export interface Target {
  /** `http://host:port` of the server. */
  httpUrl: string;
  /** The server's pid when the bench spawned it (CPU and RSS from /proc). */
  pid?: number;
  /** Sent as `customParameters.token` on each Twilio stream (AUTH on). */
  gatewayToken?: string;
  /** Supervisor/admin JWT for `GET /v1/calls…` (AUTH on). */
  supervisorToken?: string;
  /** Admin JWT for the memory probe (`GET /admin/memory`); without it (AUTH on) memory comes from /metrics. */
  adminToken?: string;
  /** Agent JWT for an agent id (AUTH on); undefined with AUTH off. */
  agentToken?: (agentId: string) => string | undefined;
  /** An AudioHook api key the server takes (one of its `AUDIOHOOK_API_KEYS`), for `--protocol audiohook`. */
  audiohook?: AudiohookCredentials;
}

export interface ServerSample {
  /** Epoch ms of the sample. */
  atMs: number;
  cpuMs: number | undefined;
  /** CPU ms of the main thread alone (from /proc, only when the pid is known). */
  mainCpuMs: number | undefined;
  /** Every thread's CPU so far, with its name (from /proc only, when the pid is known): DSP workers are `dsp-<i>`. */
  threads?: ThreadCpu[] | undefined;
  rssBytes: number | undefined;
  metrics: MetricsSnapshot | undefined;
}

async function fetchText(url: string, token?: string, timeoutMs = 10_000): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

export async function scrapeMetrics(target: Target): Promise<MetricsSnapshot | undefined> {
  const text = await fetchText(`${target.httpUrl}/metrics`);
  return text === undefined ? undefined : MetricsSnapshot.parse(text);
}

/** CPU and RSS now (from /proc when the pid is known) and, if `withMetrics`, a /metrics scrape. */
export async function sampleServer(target: Target, withMetrics: boolean): Promise<ServerSample> {
  const atMs = performance.timeOrigin + performance.now();
  let cpuMs: number | undefined;
  let mainCpuMs: number | undefined;
  let threads: ThreadCpu[] | undefined;
  let rssBytes: number | undefined;
  if (target.pid !== undefined) {
    try {
      threads = threadCpu(target.pid);
      // The main thread is the task whose id is the pid: read from the same listing, not a second time.
      const pid = target.pid;
      mainCpuMs = threads.find((t) => t.tid === pid)?.cpuMs;
      cpuMs = processCpuMs(target.pid);
      rssBytes = processRssBytes(target.pid);
    } catch {
      // the process is gone: figures stay undefined
    }
  }
  const metrics = withMetrics || target.pid === undefined ? await scrapeMetrics(target) : undefined;
  if (target.pid === undefined && metrics) {
    const cpuS = metrics.value('undertone_process_cpu_seconds_total');
    const rss = metrics.value('undertone_process_resident_memory_bytes');
    cpuMs = cpuS === undefined ? undefined : cpuS * 1000;
    rssBytes = rss;
  }
  return { atMs, cpuMs, mainCpuMs, threads, rssBytes, metrics };
}

/**
 * One sample of several instances as one fleet (`--instances K`): CPU, RSS
 * and metrics added up (MetricsSnapshot.merge), threads listed together
 * (each instance's `dsp-<i>` threads count as DSP threads), the main-thread
 * figure the sum of the instances' main threads. A figure any instance
 * lacks is undefined for the fleet: a partial sum would read as a cheaper
 * server.
 */
export async function sampleServers(targets: readonly Target[], withMetrics: boolean): Promise<ServerSample> {
  if (targets.length === 1) return sampleServer(targets[0]!, withMetrics);
  const samples = await Promise.all(targets.map((t) => sampleServer(t, withMetrics)));
  const sum = (pick: (s: ServerSample) => number | undefined): number | undefined => {
    let total = 0;
    for (const s of samples) {
      const v = pick(s);
      if (v === undefined) return undefined;
      total += v;
    }
    return total;
  };
  const metrics = samples.map((s) => s.metrics);
  const threads = samples.map((s) => s.threads);
  return {
    atMs: samples[0]!.atMs,
    cpuMs: sum((s) => s.cpuMs),
    mainCpuMs: sum((s) => s.mainCpuMs),
    threads: threads.every((t) => t !== undefined) ? threads.flat() : undefined,
    rssBytes: sum((s) => s.rssBytes),
    metrics: metrics.every((m) => m !== undefined) ? MetricsSnapshot.merge(metrics) : undefined,
  };
}

/** Every instance's thread memory added up by thread name (see measureServerMemory); undefined if any instance cannot be probed. */
export async function measureServersMemory(targets: readonly Target[]): Promise<ServerMemory | undefined> {
  const each = await Promise.all(targets.map((t) => measureServerMemory(t)));
  if (each.some((m) => m === undefined)) return undefined;
  const threads = new Map<string, number>();
  for (const m of each) for (const [name, bytes] of m!.threads) threads.set(name, (threads.get(name) ?? 0) + bytes);
  return { gc: each.every((m) => m!.gc), threads };
}

/** `GET path` as JSON with the supervisor token; undefined on any failure. */
export async function getApiJson<T>(target: Target, path: string, timeoutMs = 10_000): Promise<T | undefined> {
  const text = await fetchText(`${target.httpUrl}${path}`, target.supervisorToken, timeoutMs);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Live calls summed over the servers (`GET /v1/calls`); undefined if any cannot be read. */
export async function liveCallsOn(targets: readonly Target[]): Promise<number | undefined> {
  const each = await Promise.all(targets.map((t) => getApiJson<{ calls?: unknown }>(t, '/v1/calls')));
  let n = 0;
  for (const answer of each) {
    if (!Array.isArray(answer?.calls)) return undefined;
    n += answer.calls.length;
  }
  return n;
}

/** The server's answer to `GET /admin/memory?gc=1` (src/http/memory-route.ts). */
export interface ServerMemory {
  /** Whether every thread collected garbage first (the server runs with --expose-gc). */
  gc: boolean;
  /** Heap used + external per thread (`main`, `dsp-0`, …), bytes. */
  threads: Map<string, number>;
}

/** Every server thread's live memory (after a full GC when the server allows it); undefined when the probe is not reachable. */
export async function measureServerMemory(target: Target): Promise<ServerMemory | undefined> {
  const text = await fetchText(`${target.httpUrl}/admin/memory?gc=1`, target.adminToken ?? target.supervisorToken, 30_000);
  if (text === undefined) return undefined;
  try {
    const report = JSON.parse(text) as { gc?: unknown; threads?: { thread: string; heapUsed: number; external: number }[] };
    if (!Array.isArray(report.threads)) return undefined;
    return { gc: report.gc === true, threads: new Map(report.threads.map((t) => [t.thread, t.heapUsed + t.external])) };
  } catch {
    return undefined;
  }
}
