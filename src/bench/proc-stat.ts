/**
 * CPU time and resident memory of a process from Linux /proc: what the
 * process really used, all threads included (onnxruntime's pool, libuv's),
 * without asking the process itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clkTck: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 when unknown). */
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * utime + stime in ms from the text of /proc/<pid>/stat. The command name
 * (field 2) may hold spaces and parentheses, so fields are counted after the
 * last ')': utime and stime are fields 14 and 15.
 */
export function parseProcStatCpuMs(stat: string, hz = ticksPerSecond()): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return ((utime + stime) * 1000) / hz;
}

/** CPU ms used so far by process `pid` (all its threads). */
export function processCpuMs(pid: number): number {
  return parseProcStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Resident memory of process `pid`, bytes (VmRSS of /proc/<pid>/status). */
export function processRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * CPU ms used so far by the main thread of process `pid` (the task whose id
 * is the pid: the JavaScript main thread of a Node process). The rest of the
 * process (`processCpuMs − mainThreadCpuMs`) is its workers (DSP threads),
 * V8's GC and compiler helpers, libuv's and onnxruntime's pools.
 */
export function mainThreadCpuMs(pid: number): number {
  return parseProcStatCpuMs(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
}
