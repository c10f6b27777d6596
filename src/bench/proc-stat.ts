/**
 * CPU time and resident memory of a process from Linux /proc: what the
 * process really used, all threads included (onnxruntime's pool, libuv's),
 * without asking the process itself; and the whole machine's CPU time,
 * steal included (what a hypervisor took from this VM).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/** One thread of a process as /proc/<pid>/task/<tid> shows it. */
export interface ThreadCpu {
  tid: number;
  /** Its `comm`: `dsp-<i>` for a DSP worker (observability/thread-name.ts), else what the runtime left (`node`). */
  name: string;
  /** CPU ms it used so far. */
  cpuMs: number;
}

/** Every live thread of process `pid` with its CPU so far; a thread that exits while this reads is left out. */
export function threadCpu(pid: number): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${entry}/comm`, 'utf8').trimEnd();
      out.push({ tid: Number(entry), name, cpuMs: parseProcStatCpuMs(readFileSync(`/proc/${pid}/task/${entry}/stat`, 'utf8')) });
    } catch {
      // exited between the listing and the read
    }
  }
  return out;
}

/** The name a DSP worker thread gives itself (`dsp-<index>`, see src/dsp/dsp-worker.ts). */
export const DSP_THREAD_NAME = /^dsp-\d+$/;

/**
 * CPU ms the threads named like `pattern` used between two readings: per
 * thread, its CPU at `after` minus its CPU at `before` (0 for a thread
 * started in between; one that ended in between is missing from `after`, so
 * its last part is left out, which the process total still counts).
 */
export function threadCpuDeltaMs(before: readonly ThreadCpu[], after: readonly ThreadCpu[], pattern: RegExp): number {
  const was = new Map(before.map((t) => [t.tid, t.cpuMs]));
  let ms = 0;
  for (const t of after) if (pattern.test(t.name)) ms += t.cpuMs - (was.get(t.tid) ?? 0);
  return ms;
}

/** The machine's CPU time so far, all CPUs, in clock ticks (the `cpu` line of /proc/stat). */
export interface MachineCpu {
  /** user + nice + system + irq + softirq (guest time is inside user). */
  busy: number;
  /** idle + iowait. */
  idle: number;
  /** Time a hypervisor ran something else while this VM wanted the CPU. */
  steal: number;
}

/** Shares of all CPUs' time between two readings, 0..1 (they add up to 1). */
export interface MachineCpuShares {
  busy: number;
  steal: number;
  idle: number;
}

/** The `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal [guest guest_nice]. */
export function parseMachineCpu(stat: string): MachineCpu {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  const f = line?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  if (f.length < 8 || f.slice(0, 8).some((v) => !Number.isFinite(v))) throw new Error(`unreadable /proc/stat cpu line: ${String(line).slice(0, 80)}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/** The machine's CPU time so far; undefined where /proc/stat cannot be read (not Linux). */
export function machineCpu(): MachineCpu | undefined {
  try {
    return parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Busy, stolen and idle shares of the machine's CPU time from `a` to `b`; undefined when no time passed. */
export function machineCpuShares(a: MachineCpu, b: MachineCpu): MachineCpuShares | undefined {
  const busy = b.busy - a.busy;
  const idle = b.idle - a.idle;
  const steal = b.steal - a.steal;
  const total = busy + idle + steal;
  if (!(total > 0)) return undefined;
  return { busy: busy / total, steal: steal / total, idle: idle / total };
}
