import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  DSP_THREAD_NAME,
  machineCpu,
  machineCpuShares,
  parseMachineCpu,
  parseProcStatCpuMs,
  processCpuMs,
  processRssBytes,
  threadCpu,
  threadCpuDeltaMs,
  type ThreadCpu,
} from '../../src/bench/proc-stat.js';

describe('/proc figures', () => {
  it('reads utime + stime after the last ")" (a command name may hold spaces and parentheses)', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000 1000000 5000';
    expect(parseProcStatCpuMs(stat, 100)).toBe(3000);
    expect(parseProcStatCpuMs(stat, 250)).toBe(1200);
    expect(() => parseProcStatCpuMs('garbage', 100)).toThrow(/unreadable/);
  });

  it("reads the machine's CPU time from /proc/stat's cpu line, and its busy, stolen and idle shares between two readings", () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const a = parseMachineCpu('cpu  1000 10 200 5000 90 5 45 300 0 0\ncpu0 500 5 100 2500 45 2 22 150 0 0\nintr 1 2 3\n');
    expect(a).toEqual({ busy: 1260, idle: 5090, steal: 300 });
    const b = { busy: a.busy + 560, idle: a.idle + 240, steal: a.steal + 200 };
    expect(machineCpuShares(a, b)).toEqual({ busy: 0.56, steal: 0.2, idle: 0.24 });
    expect(machineCpuShares(a, a)).toBeUndefined();
    expect(() => parseMachineCpu('intr 1 2 3')).toThrow(/unreadable/);
    expect(() => parseMachineCpu('cpu  1 2 3')).toThrow(/unreadable/);
    // This machine (Linux): readable, and time only grows.
    const now = machineCpu();
    expect(now).toBeDefined();
    expect(now!.busy + now!.idle).toBeGreaterThan(0);
  });

  it('measures this very process: CPU grows with work, RSS is positive', () => {
    const before = processCpuMs(process.pid);
    // Burn 100 ms of CPU (as the process itself counts it), however long that takes on a shared machine.
    const cpu0 = process.cpuUsage();
    let x = 0;
    while ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000 < 100) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    // /proc counts in clock ticks (10 ms): allow for the rounding at both ends.
    expect(processCpuMs(process.pid) - before).toBeGreaterThanOrEqual(70);
    expect(processRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });

  it('CPU of named threads between two readings: per thread, started ones from 0, other names left out', () => {
    const before: ThreadCpu[] = [
      { tid: 10, name: 'node', cpuMs: 500 },
      { tid: 11, name: 'dsp-0', cpuMs: 200 },
      { tid: 12, name: 'dsp-1', cpuMs: 100 },
    ];
    const after: ThreadCpu[] = [
      { tid: 10, name: 'node', cpuMs: 900 },
      { tid: 11, name: 'dsp-0', cpuMs: 260 }, // +60
      // tid 12 ended: its last part is not counted
      { tid: 13, name: 'dsp-2', cpuMs: 30 }, // started in between: +30
      { tid: 14, name: 'dsp-x', cpuMs: 999 }, // not a DSP worker's name
    ];
    expect(threadCpuDeltaMs(before, after, DSP_THREAD_NAME)).toBe(90);
    expect(threadCpuDeltaMs(before, after, /^node$/)).toBe(400);
  });

  it('a thread that names itself shows under that name with its own CPU, apart from the main thread', async () => {
    // The worker names itself as a DSP worker does (thread-name.ts), burns ~150 ms of CPU, then waits to be read.
    const entry = new URL('../../src/observability/thread-name.ts', import.meta.url).pathname;
    const tsx = createRequire(import.meta.url).resolve('tsx/cjs');
    const worker = new Worker(
      `require(${JSON.stringify(tsx)});
       const { parentPort } = require('node:worker_threads');
       const named = require(${JSON.stringify(entry)}).nameThisThread('dsp-7');
       const t0 = process.hrtime.bigint();
       let x = 0;
       while (process.hrtime.bigint() - t0 < 150_000_000n) x += Math.sqrt(x + 1);
       parentPort.postMessage({ named, x });
       setTimeout(() => {}, 60_000);`,
      { eval: true },
    );
    try {
      const reply = await new Promise<{ named: boolean }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(reply.named).toBe(true);
      const threads = threadCpu(process.pid);
      const dsp = threads.filter((t) => DSP_THREAD_NAME.test(t.name));
      expect(dsp.map((t) => t.name)).toEqual(['dsp-7']);
      // 150 ms of wall time busy; on a shared machine it may get less CPU than that, but some.
      expect(dsp[0]!.cpuMs).toBeGreaterThan(0);
      expect(dsp[0]!.tid).not.toBe(process.pid);
      expect(threads.find((t) => t.tid === process.pid)?.name).not.toBe('dsp-7');
    } finally {
      await worker.terminate();
    }
  });
});
