/**
 * The worker-pool DSP engine: K worker threads, each with its own ONNX
 * session and the decoders and feature streams of the calls pinned to it.
 * A call is pinned at `open` and stays there: its audio is one ordered
 * chain, on that thread.
 *
 * Placement packs, then spreads (`packCalls`, P). A new call goes to the
 * busiest worker that still has fewer than P calls; once every worker has
 * P, to the one with the fewest. Why: each batch costs a wake-up on both
 * threads on top of its audio (docs/performance.md, "Packing calls"), so
 * at 100 calls one thread with batches half again as large cost 13 % less
 * CPU per call than two, at the same alert latency; past K·P the calls are
 * spread evenly, as capacity needs. P must be a load one thread carries
 * easily on a slow machine (one thread held 250 calls on the slowest seen),
 * and a worker that has fallen behind is not packed further.
 *
 * Start-up waits until every worker has opened its model; a worker that
 * cannot (a bad model) fails start-up with its ModelError. The model card is
 * checked once, by the caller, before the pool starts (`readCheckedModelCard`).
 *
 * A worker that dies later (an uncaught error, or it exits) fails the calls
 * pinned to it (each through its sink: the call logs it and closes with
 * 1011); the other workers' calls go on, and a replacement worker is started
 * for new calls.
 */
import { createDecoder } from '../audio/decoder.js';
import type { ModelCard } from '../model/model-card.js';
import type { StageClock } from '../observability/stage-clock.js';
import type { ThreadMemory } from '../observability/thread-memory.js';
import type { Logger } from '../shared/logger.js';
import type { DspCall, DspCallSink, DspCallSpec, DspEngine } from './dsp-engine.js';
import { DspWorkerError } from './dsp-errors.js';
import { WorkerCall } from './worker-call.js';
import { WorkerHost, type HostEvents } from './worker-host.js';

export interface WorkerPoolOptions {
  /** Worker threads (at least 1). */
  threads: number;
  /** ONNX file each worker opens. */
  modelPath: string;
  /** The model card, already checked against the extractor. */
  card: ModelCard;
  /** Worker deaths and replacements are logged here. */
  logger?: Pick<Logger, 'info' | 'error'>;
  /**
   * Told of every batched model run in a worker: its synchronous time, ms,
   * and how many windows it scored (feeds `undertone_inference_seconds`,
   * which the inline engine feeds through the timed model). Optional.
   */
  onInference?: (ms: number, windows: number) => void;
  /**
   * How long a call's audio may wait on the main thread for more before its
   * worker's batch is posted, ms (default 0: at the next event-loop turn).
   * Opens and closes are not held. See worker-host.ts.
   */
  gatherMs?: number;
  /**
   * Calls a worker takes before the next one is used (see the header), at
   * least 0; 0 spreads every call to the worker with the fewest. Default
   * `DEFAULT_PACK_CALLS` (100).
   */
  packCalls?: number;
  /**
   * Each worker thread's young generation (V8's `maxYoungGenerationSizeMb`),
   * MB, at least 0; 0 = V8's default, sized from the machine's memory (48 on
   * a 24-GB machine). Default `DEFAULT_DSP_YOUNG_GENERATION_MB` (8).
   */
  youngGenerationMb?: number;
  /** Each worker thread's array-buffer nudge interval, ms; 0 = off (observability/gc-nudge.ts). Default 0. */
  gcNudgeMs?: number;
  /** Its growth threshold, bytes (GcNudgeOptions.minGrowthBytes). Default 256 KiB. */
  gcNudgeMinBytes?: number;
}

/**
 * A DSP thread's young generation, MB. Why: V8 grows a busy thread's young
 * generation to its default (48 MB here, 32 of it new space) and keeps it,
 * though a DSP thread's state is typed arrays that live as long as their
 * call and its garbage is a few small objects per batch. With 8 MB per
 * thread the server's memory per call at 300 calls fell from ≈ 320 to
 * ≈ 245 KB (RSS), at the same CPU (docs/performance.md, "The DSP threads'
 * young generation").
 */
export const DEFAULT_DSP_YOUNG_GENERATION_MB = 8;

/** Calls per worker before placement spreads: well under what one thread held on the slowest machine seen (250). */
export const DEFAULT_PACK_CALLS = 100;

/**
 * A worker whose oldest unprocessed audio has waited this long takes no
 * more calls by packing, ms. Why: were one thread too slow for `packCalls`
 * calls (a machine far slower than any seen), packing would keep adding to
 * the thread that is behind while another idles. Normal waits are a few ms
 * (one batch's turnaround); the overload guard acts at 1000.
 */
export const PACK_MAX_BACKLOG_MS = 100;

/** What placement reads of a worker. */
export interface Placeable {
  readonly alive: boolean;
  /** Open calls pinned to it. */
  readonly load: number;
  backlogMs(nowMs: number): number;
}

/**
 * Which live worker a new call goes to (see the header): among those with
 * fewer than `packCalls` calls and not behind (oldest audio waiting under
 * `maxBacklogMs`: `PACK_MAX_BACKLOG_MS` plus any gathering wait), the
 * busiest; else the least busy; ties to the first. Undefined when none is
 * alive.
 */
export function placeCall<H extends Placeable>(hosts: readonly H[], packCalls: number, nowMs: number, maxBacklogMs = PACK_MAX_BACKLOG_MS): H | undefined {
  let packed: H | undefined;
  let spread: H | undefined;
  for (const h of hosts) {
    if (!h.alive) continue;
    if (h.load < packCalls && (packed === undefined || h.load > packed.load) && h.backlogMs(nowMs) < maxBacklogMs) packed = h;
    if (spread === undefined || h.load < spread.load) spread = h;
  }
  return packed ?? spread;
}

export class WorkerPoolEngine implements DspEngine {
  readonly mode = 'workers' as const;
  private readonly hosts: WorkerHost[] = [];
  private nextCall = 1;
  private nextIndex = 0;
  private closed = false;
  /** Batches posted by workers that have since died (their hosts are gone). */
  private retiredBatches = 0;
  /** Where the workers' stage times go: the clock the calls are opened with (one per process). */
  private clock: StageClock | undefined;
  private readonly events: HostEvents = {
    onClock: (deltas) => this.clock?.merge(deltas),
    onInference: (ms, windows) => this.options.onInference?.(ms, windows),
    onDead: (host, error) => this.replace(host, error),
  };

  constructor(private readonly options: WorkerPoolOptions) {
    for (let i = 0; i < options.threads; i++) this.hosts.push(this.startHost());
  }

  get threads(): number {
    return this.options.threads;
  }

  /** Resolves once every worker has opened its model; rejects with the first start-up error. */
  async ready(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.ready));
  }

  open(spec: DspCallSpec, sink: DspCallSink): DspCall {
    if (this.closed) throw new DspWorkerError('the DSP engine is closed');
    // Same synchronous check as the inline engine: an unknown format fails the call's start.
    createDecoder(spec.format);
    if (spec.clock) this.clock = spec.clock;
    // Audio waits up to gatherMs by design (worker-host.ts): only a wait beyond that means behind.
    const host = placeCall(this.hosts, this.options.packCalls ?? DEFAULT_PACK_CALLS, performance.now(), PACK_MAX_BACKLOG_MS + (this.options.gatherMs ?? 0));
    if (host === undefined) throw new DspWorkerError('no DSP worker is running');
    const call = new WorkerCall(this.nextCall++, spec.callId, spec.format, sink, host);
    host.attach(call);
    return call;
  }

  /**
   * Test hook: the worker running `call` throws an uncaught error on its next
   * batch, as a bug in the DSP code would. Not for production use.
   */
  crashWorkerOf(call: DspCall): void {
    const host = this.hosts.find((h) => h.alive && h.has(call));
    host?.crash();
  }

  /** The oldest unprocessed audio's wait over the workers, ms (see DspEngine.backlogMs). */
  backlogMs(nowMs: number): number {
    let max = 0;
    for (const h of this.hosts) if (h.alive) max = Math.max(max, h.backlogMs(nowMs));
    return max;
  }

  /** Real-time calls the workers carry while busy, summed (see DspEngine.throughputCalls). */
  throughputCalls(): number | undefined {
    let sum = 0;
    for (const h of this.hosts) {
      if (!h.alive) continue;
      const t = h.throughputCalls();
      if (t === undefined) return undefined;
      sum += t;
    }
    return sum > 0 ? sum : undefined;
  }

  /** Batches posted to the workers so far, replaced workers included (see DspEngine.batchesPosted). */
  batchesPosted(): number {
    let sum = this.retiredBatches;
    for (const h of this.hosts) sum += h.batchesPosted;
    return sum;
  }

  /** The main thread's staging buffers for gathering batches, bytes summed over the live workers. */
  stagingBytes(): number {
    let sum = 0;
    for (const h of this.hosts) if (h.alive) sum += h.stagingBytes;
    return sum;
  }

  /** Call audio the workers hold unextracted between window ends, ms summed (see dsp-worker.ts, "hold"). */
  heldAudioMs(): number {
    let sum = 0;
    for (const h of this.hosts) if (h.alive) sum += h.heldAudioMs();
    return sum;
  }

  /** Each live worker thread's memory, as it last reported it (`undertone_thread_memory_bytes`). */
  threadMemory(): ThreadMemory[] {
    return this.hosts.flatMap((h) => (h.memory ? [h.memory] : []));
  }

  /** Each worker's memory, asked now (after a full GC in each when `gc` and the process runs with --expose-gc). */
  async measureThreadMemory(gc: boolean): Promise<ThreadMemory[]> {
    const all = await Promise.all(this.hosts.map((h) => h.measureMemory(gc)));
    return all.filter((m): m is ThreadMemory => m !== undefined);
  }

  /** Open calls on each live worker, by its index (a replacement has a new one: `dsp-<index>`). */
  callsByWorker(): { worker: number; calls: number }[] {
    return this.hosts.filter((h) => h.alive).map((h) => ({ worker: h.index, calls: h.load }));
  }

  /** The young generation each live worker thread reported it has, MB, in worker order (for tests and logs). */
  youngGenerationMb(): (number | undefined)[] {
    return this.hosts.filter((h) => h.alive).map((h) => h.youngGenerationMb);
  }

  /** Open calls per worker, in worker order (for tests and logs). */
  loads(): number[] {
    return this.hosts.map((h) => h.load);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.hosts.map((h) => h.terminate()));
  }

  private startHost(): WorkerHost {
    return new WorkerHost(
      this.nextIndex++,
      { modelPath: this.options.modelPath, card: this.options.card, index: this.nextIndex - 1, gcNudgeMs: this.options.gcNudgeMs ?? 0, gcNudgeMinBytes: this.options.gcNudgeMinBytes },
      this.events,
      this.options.gatherMs ?? 0,
      this.options.youngGenerationMb ?? DEFAULT_DSP_YOUNG_GENERATION_MB,
    );
  }

  private replace(dead: WorkerHost, error: unknown): void {
    const i = this.hosts.indexOf(dead);
    if (i >= 0) this.hosts.splice(i, 1);
    this.retiredBatches += dead.batchesPosted;
    if (this.closed) return;
    const host = this.startHost();
    this.hosts.push(host);
    this.options.logger?.error({ err: error, worker: dead.index, replacement: host.index }, 'DSP worker died; its calls failed; replacement started');
    host.ready.then(
      () => this.options.logger?.info({ worker: host.index }, 'replacement DSP worker ready'),
      (err: unknown) => this.options.logger?.error({ err, worker: host.index }, 'replacement DSP worker failed to start'),
    );
  }
}

/** Starts the pool and waits until every worker is ready (closing it again if one fails). */
export async function createWorkerPoolEngine(options: WorkerPoolOptions): Promise<WorkerPoolEngine> {
  if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError(`worker pool needs at least 1 thread, got ${options.threads}`);
  if (options.packCalls !== undefined && !(Number.isInteger(options.packCalls) && options.packCalls >= 0)) {
    throw new RangeError(`packCalls must be a whole number ≥ 0, got ${options.packCalls}`);
  }
  if (options.gcNudgeMs !== undefined && !(Number.isInteger(options.gcNudgeMs) && options.gcNudgeMs >= 0)) {
    throw new RangeError(`gcNudgeMs must be a whole number ≥ 0, got ${options.gcNudgeMs}`);
  }
  if (options.gcNudgeMinBytes !== undefined && !(options.gcNudgeMinBytes >= 0)) {
    throw new RangeError(`gcNudgeMinBytes must be ≥ 0, got ${options.gcNudgeMinBytes}`);
  }
  if (options.youngGenerationMb !== undefined && !(Number.isInteger(options.youngGenerationMb) && options.youngGenerationMb >= 0)) {
    throw new RangeError(`youngGenerationMb must be a whole number ≥ 0, got ${options.youngGenerationMb}`);
  }
  const pool = new WorkerPoolEngine(options);
  try {
    await pool.ready();
  } catch (error) {
    await pool.close();
    throw error;
  }
  return pool;
}
