import { describe, expect, it } from 'vitest';
import { parseProcStatCpuMs, processCpuMs, processRssBytes } from '../../src/bench/proc-stat.js';

describe('/proc figures', () => {
  it('reads utime + stime after the last ")" (a command name may hold spaces and parentheses)', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000 1000000 5000';
    expect(parseProcStatCpuMs(stat, 100)).toBe(3000);
    expect(parseProcStatCpuMs(stat, 250)).toBe(1200);
    expect(() => parseProcStatCpuMs('garbage', 100)).toThrow(/unreadable/);
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
});
