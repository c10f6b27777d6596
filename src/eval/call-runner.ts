/**
 * Runs many assembled calls (train-features, eval), spread over worker
 * threads: each call is independent (its own decoder and feature stream), so
 * calls go to whichever worker is free, longest first. Results come back in
 * a compact form (one Float32Array of feature values per call) and are
 * returned in job order, so the output does not depend on scheduling.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { streamCall, type CallPlan, type StreamCallOptions, type UnreadableClip } from './call-assembly.js';

/** One call to stream: a plan, which augmentation pass and at what speed. */
export interface CallJob {
  plan: CallPlan;
  pass: number;
  /** Speed perturbation factor (StreamCallOptions.speed). Default 1. */
  speed?: number;
}

/** The windows of one streamed call, columnar. */
export interface CallWindows {
  job: number;
  featureCount: number;
  /** Feature values, window after window. */
  values: Float32Array;
  /** Manifest index of each window's clip (−1: none). */
  clipIndex: Int32Array;
  share: Float32Array;
  /** Share of the window's clip audio with its clip's label (see LabelledWindow.labelShare). */
  labelShare: Float32Array;
  startSample: Float64Array;
  endSample: Float64Array;
  speechRatio: Float32Array;
  /** Audio length of the call, samples. */
  samples: number;
  /** Clips of the call that could not be read (left out of it). */
  unreadable: UnreadableClip[];
}

export type RunOptions = Omit<StreamCallOptions, 'augmentPass' | 'speed' | 'loadClip'>;

/** Streams one call in this thread and packs its windows. */
export async function runCallJob(job: CallJob, index: number, options: RunOptions, onClip?: (seconds: number) => void): Promise<CallWindows> {
  const res = await streamCall(job.plan, {
    ...options,
    augmentPass: job.pass,
    ...(job.speed !== undefined ? { speed: job.speed } : {}),
    ...(onClip ? { onClip } : {}),
  });
  const n = res.windows.length;
  const f = n > 0 ? res.windows[0]!.window.values.length : 0;
  const out: CallWindows = {
    job: index,
    featureCount: f,
    values: new Float32Array(n * f),
    clipIndex: new Int32Array(n),
    share: new Float32Array(n),
    labelShare: new Float32Array(n),
    startSample: new Float64Array(n),
    endSample: new Float64Array(n),
    speechRatio: new Float32Array(n),
    samples: res.samples,
    unreadable: res.unreadable,
  };
  res.windows.forEach((lw, i) => {
    out.values.set(lw.window.values, i * f);
    out.clipIndex[i] = lw.clip ? lw.clip.index : -1;
    out.share[i] = lw.share;
    out.labelShare[i] = lw.labelShare;
    out.startSample[i] = lw.window.startSample;
    out.endSample[i] = lw.window.endSample;
    out.speechRatio[i] = lw.window.speechRatio;
  });
  return out;
}

export interface RunCallsOptions extends RunOptions {
  /** Worker threads; 1 runs in this thread. Default: CPU count (at most 8). */
  jobs?: number;
  /** Called as audio is consumed: seconds of clip audio streamed since the last call. */
  onProgress?: (seconds: number) => void;
  /** Called with each finished call (in completion order). */
  onCall?: (result: CallWindows) => void;
}

function jobSeconds(job: CallJob): number {
  return job.plan.clips.reduce((s, c) => s + (c.durationS || 1), 0);
}

/**
 * Starts a call worker. Under tsx the sources run as .ts and a worker does
 * not inherit tsx's loader, so a tiny bootstrap registers it first; the build
 * runs the emitted .js directly.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./call-worker.js', import.meta.url));
  const entry = new URL('./call-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(entry)}))`;
  return new Worker(boot, { eval: true });
}

/** Streams every job and returns the results in job order. */
export async function runCalls(jobs: readonly CallJob[], options: RunCallsOptions = {}): Promise<CallWindows[]> {
  const { onProgress, onCall, jobs: threads, ...streamOptions } = options;
  const workerCount = Math.max(1, Math.min(threads ?? Math.min(os.availableParallelism(), 8), jobs.length));
  const results: CallWindows[] = new Array(jobs.length);
  // Longest calls first, so the last call to finish is a short one.
  const order = jobs.map((_, i) => i).sort((a, b) => jobSeconds(jobs[b]!) - jobSeconds(jobs[a]!));

  if (workerCount === 1) {
    for (const i of order) {
      const r = await runCallJob(jobs[i]!, i, streamOptions, onProgress);
      results[i] = r;
      onCall?.(r);
    }
    return results;
  }

  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let running = workerCount;
    let failed = false;
    const workers: Worker[] = [];
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const dispatch = (w: Worker): void => {
      if (failed) return;
      if (next >= order.length) {
        void w.terminate();
        if (--running === 0) resolve();
        return;
      }
      const i = order[next++]!;
      w.postMessage({ type: 'job', index: i, job: jobs[i], options: streamOptions });
    };
    for (let k = 0; k < workerCount; k++) {
      const w = startWorker();
      workers.push(w);
      w.on('message', (msg: { type: string; seconds?: number; result?: CallWindows; error?: string }) => {
        if (msg.type === 'progress') onProgress?.(msg.seconds ?? 0);
        else if (msg.type === 'result' && msg.result) {
          results[msg.result.job] = msg.result;
          onCall?.(msg.result);
          dispatch(w);
        } else if (msg.type === 'error') fail(new Error(msg.error));
      });
      w.on('error', fail);
      w.on('exit', (code) => {
        if (code !== 0 && !failed && next < order.length) fail(new Error(`call worker exited with code ${code}`));
      });
      dispatch(w);
    }
  });
  return results;
}
