/**
 * `npm run bench` end to end: the command spawns its own server (auth on,
 * own queue), streams 3 calls × 6 s in real time, prints one JSON line last,
 * writes its report and picture, and leaves neither a server process nor its
 * queue behind. No timing assertions.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../integration/helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function bench(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', 'src/main.ts', 'bench', ...args], { cwd: root, env: { ...process.env, REDIS_URL, ...env }, timeout: 150_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run bench (load generator, spawned server)', () => {
  const out = mkdtempSync(join(tmpdir(), 'ut-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('prints the figures as one JSON line last, with every frame sent and taken', async () => {
    const res = await bench(['--calls', '3', '--seconds', '6', '--json', '--out', out, '--server', 'tsx']);
    expect(res.stderr + res.stdout).not.toMatch(/UT_ERR_/);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    const json = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    for (const key of [
      'calls',
      'seconds',
      'cpu_ms_per_call_second',
      'lag_p50_ms',
      'lag_p99_ms',
      'alert_latency_p50_ms',
      'alert_latency_p99_ms',
      'rss_kb_per_call',
      'dropped_frames',
      'stage_cpu_ms_per_call_second',
      'angry_calls_prompted',
      'angry_calls',
      'late_prompts',
      'late_prompts_unmarked',
      'generator_cpu_ms_per_call_second',
    ]) {
      expect(json).toHaveProperty(key);
    }
    expect(json['calls']).toBe(3);
    expect(json['seconds']).toBe(6);
    expect(json['frames_sent']).toBe(3 * 6 * 50);
    expect(json['frames_taken']).toBe(3 * 6 * 50);
    expect(json['dropped_frames']).toBe(0);
    expect(json['unverified_calls']).toBe(0);
    expect(json['cpu_source']).toBe('proc');
    expect(json['cpu_ms_per_call_second']).toBeGreaterThan(0);
    // The spawned server's main thread, from /proc: part of the process, never more.
    expect(json['main_thread_cpu_ms_per_call_second']).toBeGreaterThan(0);
    expect(json['main_thread_cpu_ms_per_call_second']).toBeLessThanOrEqual(json['cpu_ms_per_call_second'] as number);
    // The DSP worker names its thread (dsp-0), so its CPU is read apart; the three parts make the whole.
    expect(json['dsp_thread_cpu_ms_per_call_second']).toBeGreaterThan(0);
    const parts = (json['main_thread_cpu_ms_per_call_second'] as number) + (json['dsp_thread_cpu_ms_per_call_second'] as number) + (json['other_thread_cpu_ms_per_call_second'] as number);
    expect(parts).toBeGreaterThanOrEqual((json['cpu_ms_per_call_second'] as number) - 0.01);
    expect(json['generator_cpu_ms_per_call_second']).toBeGreaterThan(0);
    // The machine's CPU over the window, from /proc/stat: shares that add up to the whole.
    const machine = json['machine_cpu'] as { busy: number; steal: number; idle: number };
    expect(machine.busy).toBeGreaterThan(0);
    expect(machine.busy + machine.steal + machine.idle).toBeCloseTo(1, 2);
    expect(res.stdout).toMatch(/machine CPU over the window \(all cores\)\s+busy \d+ %, stolen by the hypervisor \d+ %, idle \d+ %/);

    const files = readdirSync(out);
    expect(files.some((f) => /^bench-.*\.json$/.test(f))).toBe(true);
    expect(files.some((f) => /^bench-.*\.svg$/.test(f))).toBe(true);

    // Nothing left behind: the server process and the run's queue.
    const pid = Number(/server pid (\d+)/.exec(res.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    const queue = /queue '([^']+)'/.exec(res.stderr)?.[1];
    expect(queue).toMatch(/^bench-/);
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.keys(`bull:${queue}:*`)).toEqual([]);
      expect(await redis.keys(`ut:${queue}:*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
    expect(existsSync(out)).toBe(true);
  }, 160_000);

  it('--instances 2 --protocol audiohook: two servers on one queue (one AudioHook key), calls spread over them, the figures their sum; both stopped after', async () => {
    const res = await bench(['--instances', '2', '--protocol', 'audiohook', '--calls', '4', '--seconds', '6', '--json', '--out', out, '--server', 'tsx']);
    expect(res.stderr + res.stdout).not.toMatch(/UT_ERR_/);
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(json['instances']).toBe(2);
    // Signed AudioHook sessions on both servers: every frame taken, none failed.
    expect(json['protocol']).toBe('audiohook');
    expect(json['failed_calls']).toBe(0);
    expect(json['frames_taken']).toBe(4 * 6 * 50);
    expect(json['dropped_frames']).toBe(0);
    expect(json['cpu_source']).toBe('proc');
    // Each instance has its own DSP threads; the fleet's figure counts them all.
    expect(Object.keys(json['heap_kb_per_call_by_thread'] as object)).toContain('dsp-0');
    const pids = [...res.stdout.matchAll(/server pid (\d+)/g)].map((m) => Number(m[1]));
    expect(new Set(pids).size).toBe(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    const queue = /queue '([^']+)'/.exec(res.stderr)?.[1];
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.keys(`bull:${queue}:*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
  }, 160_000);

  it('--rounds 3: the same load three times on one server, each round read after its calls ended (none left live, memory after GC), the growth per call in the JSON', async () => {
    const res = await bench(['--rounds', '3', '--calls', '2', '--seconds', '4', '--json', '--out', out, '--server', 'tsx']);
    expect(res.stderr + res.stdout).not.toMatch(/UT_ERR_/);
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { rounds: Record<string, unknown>[]; retained_kib_per_call: unknown; frames_taken: number };
    expect(json.frames_taken).toBe(2 * 4 * 50);
    expect(json.rounds.map((r) => r['round'])).toEqual([1, 2, 3]);
    for (const r of json.rounds) {
      expect(r).toMatchObject({ calls: 2, dropped_frames: 0, failed_calls: 0, live_calls_after: 0, memory_after_gc: true });
      expect(Object.keys(r['memory_kib_after'] as object)).toEqual(expect.arrayContaining(['main', 'dsp-0']));
    }
    expect(typeof json.retained_kib_per_call).toBe('number');
    expect(res.stdout).toMatch(/left behind per ended call \(memory growth per call run, rounds 2\.\.3, all threads, after GC\): -?\d+\.\d+ KiB/);
    const pid = Number(/server pid (\d+)/.exec(res.stdout)?.[1]);
    expect(alive(pid)).toBe(false);
  }, 160_000);

  it('refuses bad arguments with exit code 2', async () => {
    const res = await bench(['--calls', '0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--calls/);
    const both = await bench(['--instances', '2', '--url', 'http://127.0.0.1:1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--url URL,URL/);
    const proto = await bench(['--protocol', 'sip']);
    expect(proto.code).toBe(2);
    expect(proto.stderr).toMatch(/--protocol/);
    const rate = await bench(['--protocol', 'l16', '--rate', '44100']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--rate/);
    const hook = await bench(['--protocol', 'audiohook', '--url', 'http://127.0.0.1:1'], { AUDIOHOOK_API_KEYS: '' });
    expect(hook.code).toBe(2);
    expect(hook.stderr).toMatch(/AUDIOHOOK_API_KEYS: it is not set/);
    const badKeys = await bench(['--protocol', 'audiohook', '--url', 'http://127.0.0.1:1'], { AUDIOHOOK_API_KEYS: 'nope' });
    expect(badKeys.code).toBe(2);
    expect(badKeys.stderr).toMatch(/AUDIOHOOK_API_KEYS must be a JSON object/);
    const soakMax = await bench(['--rounds', '2', '--find-max']);
    expect(soakMax.code).toBe(2);
    expect(soakMax.stderr).toMatch(/--rounds and --find-max/);
    const where = await bench(['--agents', 'nowhere']);
    expect(where.code).toBe(2);
    expect(where.stderr).toMatch(/--agents/);
  }, 60_000);
});
