/**
 * Splits the calls over K generator threads: K = 1 drives them on the main
 * thread; K > 1 starts K worker threads (drive-worker.ts), each with its own
 * tick loop and sockets, for when one thread cannot send 50 messages/s for
 * every call (the run prints the generator's own CPU so you can tell).
 */
import { Worker } from 'node:worker_threads';
import { CallDriver, type DriveCallResult, type DrivePlan } from './call-driver.js';

export interface DriverPool {
  /** Opens every socket (agents, then gateways with their `start`). */
  prepare(): Promise<void>;
  /** Streams every call from `startAtMs`; resolves when all have sent `stop`. */
  run(startAtMs: number): Promise<void>;
  /** Closes the agent sockets; every call's result, in plan order. */
  finish(): Promise<DriveCallResult[]>;
  /** Ends worker threads (idempotent; also after an error). */
  terminate(): Promise<void>;
}

function inThread(plan: DrivePlan): DriverPool {
  const driver = new CallDriver(plan);
  return {
    prepare: () => driver.prepare(),
    run: (startAtMs) => driver.run(startAtMs),
    finish: async () => driver.finish(),
    terminate: async () => undefined,
  };
}

type WorkerMsg = { type: 'ready' } | { type: 'stopped' } | { type: 'results'; results: DriveCallResult[] };

function waitFor<T extends WorkerMsg['type']>(w: Worker, type: T): Promise<Extract<WorkerMsg, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMsg = (msg: WorkerMsg): void => {
      if (msg.type !== type) return;
      w.off('message', onMsg);
      w.off('error', reject);
      resolve(msg as Extract<WorkerMsg, { type: T }>);
    };
    w.on('message', onMsg);
    w.once('error', reject);
  });
}

export function createDriverPool(plan: DrivePlan, threads: number): DriverPool {
  if (threads <= 1 || plan.calls.length < 2) return inThread(plan);
  const k = Math.min(threads, plan.calls.length);
  // Under tsx the sources are .ts; built, they are .js next to this file.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(`./drive-worker${ext}`, import.meta.url);
  const shares = Array.from({ length: k }, (_, t) => plan.calls.filter((_, i) => i % k === t));
  // Built (.js) the worker runs as is; from sources (.ts) it registers tsx first: loader flags
  // given to the parent (`node --import tsx`, or vitest's) do not reach worker threads on Node 20.
  const workers = shares.map((calls) => {
    const workerData = { ...plan, calls } satisfies DrivePlan;
    if (ext === '.js') return new Worker(url, { workerData });
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
    return new Worker(boot, { eval: true, workerData });
  });
  const ready = Promise.all(workers.map((w) => waitFor(w, 'ready')));
  return {
    prepare: async () => {
      await ready;
    },
    run: async (startAtMs) => {
      const stopped = Promise.all(workers.map((w) => waitFor(w, 'stopped')));
      for (const w of workers) w.postMessage({ type: 'run', startAtMs });
      await stopped;
    },
    finish: async () => {
      const parts = await Promise.all(
        workers.map((w) => {
          const p = waitFor(w, 'results');
          w.postMessage({ type: 'finish' });
          return p;
        }),
      );
      // Back to plan order: call i went to worker i % k at position floor(i / k).
      return plan.calls.map((_, i) => parts[i % k]!.results[Math.floor(i / k)]!);
    },
    terminate: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
