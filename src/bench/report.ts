/**
 * The bench's printed table, its JSON line and its files (reports/bench-*.json
 * and .svg, side by side).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderPanelsSvg } from './bench-svg.js';
import { MAX_REALTIME_LAG_MS, type FindMaxStep } from './find-max.js';
import type { LoadRunResult } from './load-run.js';
import type { LoadFigures } from './run-figures.js';
import type { RoundRecord } from './rounds.js';

const na = (v: number | null, unit = '', digits = 2): string => (v === null ? 'n/a' : `${v.toFixed(digits)}${unit}`);
const pct = (share: number): string => `${(share * 100).toFixed(0)} %`;

/** Key/value rows, aligned. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function loadRows(f: LoadFigures, threads = 1): [string, string][] {
  const stages = f.stage_cpu_ms_per_call_second;
  return [
    ['calls × seconds', `${f.calls} × ${f.seconds} s (steady-state window ${f.measured_s.toFixed(1)} s)${f.protocol !== 'twilio' ? `, ${f.protocol.replace('/', ' at ')} Hz` : ''}${f.instances > 1 ? `, over ${f.instances} server instances (CPU and memory: their sum)` : ''}`],
    ['server CPU per call-second', `${na(f.cpu_ms_per_call_second, ' ms', 3)}${f.cpu_source ? ` (${f.cpu_source === 'proc' ? '/proc of the server' : '/metrics process CPU'})` : ''}  (target ≤ 1.0 ms)`],
    ['  of it the main thread', `${na(f.main_thread_cpu_ms_per_call_second, ' ms', 3)} (sockets, sessions, policy, delivery)`],
    ['  the DSP worker threads', `${na(f.dsp_thread_cpu_ms_per_call_second, ' ms', 3)} (decode, features, pitch, model)`],
    ['  other threads', `${na(f.other_thread_cpu_ms_per_call_second, ' ms', 3)} (V8 GC and compiler, libuv and onnxruntime pools)`],
    [
      '  by stage, ms per call-second',
      stages === null ? 'n/a (the server exports no undertone_stage_seconds_total)' : Object.entries(stages).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '),
    ],
    [
      '  DSP batches / model runs per second',
      f.dsp_batches_per_s === null
        ? 'n/a (inline DSP, or the server exports no undertone_dsp_batches_total)'
        : `${f.dsp_batches_per_s.toFixed(0)} / ${na(f.model_runs_per_s, '', 0)} (${na(f.audio_messages_per_dsp_batch, '', 1)} audio messages per batch)`,
    ],
    [
      '  GC nudges per second (all threads)',
      f.gc_nudges_per_s === null ? 'n/a (the server exports no undertone_gc_nudges_total)' : `${f.gc_nudges_per_s.toFixed(1)} (${na(f.gc_nudge_ms_per_call_second, ' ms', 4)} per call-second; GC_NUDGE_MS)`,
    ],
    ['processing lag p50 / p99', `${na(f.lag_p50_ms, ' ms', 1)} / ${na(f.lag_p99_ms, ' ms', 1)}${f.lag_source === 'client' ? ' (client-side estimate: audio sent − audio the server took, and frame sent → prompt decided)' : ''}  (real time: p99 < ${MAX_REALTIME_LAG_MS} ms)`],
    ['alert latency p50 / p99', `${na(f.alert_latency_p50_ms, ' ms', 1)} / ${na(f.alert_latency_p99_ms, ' ms', 1)} over ${f.prompts} prompt(s) received (${f.prompts_decided} decided by the server)`],
    ['  frame sent → decided / decided → delivered, p50', `${na(f.alert_decide_p50_ms, ' ms', 1)} / ${na(f.alert_deliver_p50_ms, ' ms', 1)} (p99 ${na(f.alert_decide_p99_ms, ' ms', 1)} / ${na(f.alert_deliver_p99_ms, ' ms', 1)})`],
    ['angry calls prompted before their end', `${f.angry_calls_prompted}/${f.angry_calls}`],
    ['prompts that arrived after their call ended', `${f.late_prompts} (${f.late_prompts_unmarked} of them not marked stale)`],
    ['server memory per live call', na(f.rss_kb_per_call, ' KiB', 0) + '  (RSS with the calls live − RSS before)'],
    [
      '  heap + external per live call',
      `${na(f.heap_kb_per_call, ' KiB', 0)}${f.heap_kb_per_call_by_thread ? ` (${Object.entries(f.heap_kb_per_call_by_thread).map(([t, v]) => `${t} ${v.toFixed(0)}`).join(', ')})` : ''}  (all threads; ${f.heap_source === 'probe-gc' ? 'live objects, after a GC' : f.heap_source === 'probe' ? 'no GC: garbage included' : f.heap_source === 'metrics' ? '/metrics gauges: garbage included' : 'n/a'})`,
    ],
    ['frames expected / sent / taken by the server', `${f.frames_expected} / ${f.frames_sent} / ${f.frames_taken}`],
    [
      'dropped frames',
      `${f.dropped_frames}${f.failed_calls > 0 ? ` (${f.failed_calls} call(s) refused or closed early${f.shed_calls > 0 ? `, ${f.shed_calls} of them shed past capacity` : ''})` : ''}${f.unverified_calls > 0 ? `; ${f.unverified_calls} call(s) unverified (the server could not report them)` : ''}`,
    ],
    ['load generator: frames sent late, p99', `${na(f.generator_send_late_p99_ms, ' ms', 1)} (send − due; large means the generator itself was starved)`],
    [
      'machine CPU over the window (all cores)',
      f.machine_cpu === null
        ? 'n/a (no /proc/stat)'
        : `busy ${pct(f.machine_cpu.busy)}, stolen by the hypervisor ${pct(f.machine_cpu.steal)}, idle ${pct(f.machine_cpu.idle)}${f.machine_cpu.steal >= 0.05 ? ' (a VM short of its cores: figures from such a run are not comparable with a quiet one)' : ''}`,
    ],
    [
      'load generator CPU per call-second',
      `${f.generator_cpu_ms_per_call_second.toFixed(3)} ms (${((f.generator_cpu_ms_per_call_second * f.calls) / 1000).toFixed(2)} cores${(f.generator_cpu_ms_per_call_second * f.calls) / 1000 > 0.7 * threads ? ': near its threads\' capacity, try more --threads' : ''})`,
    ],
  ];
}

export function findMaxRows(steps: readonly FindMaxStep[], max: number): [string, string][] {
  return [
    ...steps.map((s): [string, string] => [
      `  ${s.calls} calls`,
      `${s.realtime ? 'real time' : 'NOT real time'}: CPU ${na(s.figures.cpu_ms_per_call_second, ' ms/call-s', 3)}, lag p99 ${na(s.figures.lag_p99_ms, ' ms', 0)}, dropped ${s.figures.dropped_frames}, angry prompted ${s.figures.angry_calls_prompted}/${s.figures.angry_calls}`,
    ]),
    ['max real-time calls', String(max)],
  ];
}

/** One line per `--rounds` round: its calls' outcome, and what was left after them. */
export function roundRows(records: readonly RoundRecord[]): [string, string][] {
  return records.map((r): [string, string] => {
    const memory = r.memory_kib_after === null ? 'n/a' : Object.entries(r.memory_kib_after).map(([t, kib]) => `${t} ${(kib / 1024).toFixed(2)} MiB`).join(', ');
    return [
      `  round ${r.round}`,
      `${r.calls} calls, angry prompted ${r.angry_calls_prompted}/${r.angry_calls}, dropped ${r.dropped_frames}, failed ${r.failed_calls}; after: live calls ${r.live_calls_after ?? 'n/a'}, memory${r.memory_after_gc ? ' after GC' : ''} ${memory}`,
    ];
  });
}

/** `--rounds`: each thread's memory after each round, which should level off, not climb. */
export function roundsSvg(records: readonly RoundRecord[], title: string): string {
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const threads = [...new Set(records.flatMap((r) => Object.keys(r.memory_kib_after ?? {})))];
  return renderPanelsSvg({
    title,
    xLabel: 'round',
    panels: [
      {
        title: 'heap + external after GC, MiB, per thread (after each round, its calls ended)',
        series: threads.map((t, i) => ({
          name: t,
          colour: colours[i % colours.length]!,
          points: records.flatMap((r) => (r.memory_kib_after?.[t] === undefined ? [] : [[r.round, r.memory_kib_after[t]! / 1024] as [number, number]])),
        })),
      },
    ],
  });
}

export function timelineSvg(run: LoadRunResult, title: string): string {
  return renderPanelsSvg({
    title,
    xLabel: 'seconds since media started',
    panels: [
      {
        title: 'server CPU, ms per call-second (each second)',
        series: [{ name: 'CPU per call-second', colour: '#1f77b4', points: run.timeline.filter((p) => p.cpuMsPerCallS !== undefined).map((p) => [p.tS, p.cpuMsPerCallS!]) }],
        threshold: { value: 1, label: 'target 1 ms' },
      },
      {
        title: 'processing lag, ms (max over the last 10 s, from /metrics)',
        series: [{ name: 'lag max', colour: '#ff7f0e', points: run.timeline.filter((p) => p.lagMaxMs !== undefined).map((p) => [p.tS, p.lagMaxMs!]) }],
        threshold: { value: MAX_REALTIME_LAG_MS, label: `${MAX_REALTIME_LAG_MS} ms` },
      },
      {
        title: 'alert latency, ms (each prompt, at its arrival on the agent socket)',
        series: [{ name: 'prompt', colour: '#d62728', dots: true, points: run.alertPoints }],
      },
    ],
  });
}

export function findMaxSvg(steps: readonly FindMaxStep[], title: string): string {
  const byN = [...steps].sort((a, b) => a.calls - b.calls);
  const pts = (f: (s: FindMaxStep) => number | null): [number, number][] =>
    byN.flatMap((s) => {
      const v = f(s);
      return v === null ? [] : [[s.calls, v] as [number, number]];
    });
  return renderPanelsSvg({
    title,
    xLabel: 'concurrent calls',
    panels: [
      { title: 'processing lag p99, ms', series: [{ name: 'lag p99', colour: '#ff7f0e', points: pts((s) => s.figures.lag_p99_ms) }], threshold: { value: MAX_REALTIME_LAG_MS, label: 'real-time bound' } },
      { title: 'server CPU, ms per call-second', series: [{ name: 'CPU per call-second', colour: '#1f77b4', points: pts((s) => s.figures.cpu_ms_per_call_second) }], threshold: { value: 1, label: 'target 1 ms' } },
      { title: 'alert latency p99, ms', series: [{ name: 'alert p99', colour: '#d62728', points: pts((s) => s.figures.alert_latency_p99_ms) }] },
    ],
  });
}

/** Writes `<dir>/bench-<stamp>.json` and `.svg`; returns their paths. */
export async function writeReport(dir: string, stamp: string, json: unknown, svg: string): Promise<{ json: string; svg: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { json: join(dir, `bench-${stamp}.json`), svg: join(dir, `bench-${stamp}.svg`) };
  await writeFile(paths.json, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(paths.svg, svg);
  return paths;
}
