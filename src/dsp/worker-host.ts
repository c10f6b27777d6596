/**
 * The main thread's side of one DSP worker: the calls pinned to it, the
 * batch gathering for it, and the replies.
 *
 * Batching: payloads are copied into one staging buffer as they arrive and
 * posted together as one message, transferring a right-sized copy of the
 * staged bytes (one memcpy; no further copy across threads; the staging
 * buffer is reused). One batch is in flight at a time. A batch goes once
 * its oldest audio has waited `gatherMs` (default 0: the next turn), or at
 * the next turn when it holds an open, a close or the crash hook. The worker
 * answers each batch with one message, in order, so results are matched to
 * batches by order alone; before it, possibly a `windows` message with the
 * batch's windows that were scored first (see dsp-worker.ts).
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ModelError } from '../shared/errors.js';
import { DspRemoteError, DspWorkerError } from './dsp-errors.js';
import type { CallHost, WorkerCall } from './worker-call.js';
import { unpackMemory, type ThreadMemory } from '../observability/thread-memory.js';
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import { windowsByCall, type DspWorkerData, type EarlyWindowsMessage, type FromWorker, type MemoryRequest, type OpenOp, type ScoredMessage } from './worker-protocol.js';

/** What the host tells its pool. */
export interface HostEvents {
  /** A reply's stage-time deltas (ms per stage). */
  onClock(deltas: Float64Array): void;
  /** A batched model run of `windows` windows took `ms` (synchronous time, in the worker). */
  onInference(ms: number, windows: number): void;
  /** The worker died after it had started; its calls have been failed. */
  onDead(host: WorkerHost, error: unknown): void;
}

interface SentBatch {
  seq: number;
  /** When its first payload was queued (`performance.now()`): the age of its oldest audio. */
  queuedMs: number;
  /** When it was posted, and how much call audio it holds, ms (summed over its calls). */
  sentMs: number;
  audioMs: number;
  /** Per call in the batch: payloads sent, and the call's total bytes at the time. */
  calls: Map<WorkerCall, { payloads: number; bytes: number }>;
}

/** Batches the throughput figure spans: a few seconds under load, where it matters. */
const THROUGHPUT_BATCHES = 8;

/** The staging buffer's size at the start, and the least it is cut back to, bytes. */
const STAGING_MIN_BYTES = 16 * 1024;
/**
 * Batches in a row that each used at most a quarter of a grown staging buffer
 * before it is cut back (to twice their largest, rounded up to a power of
 * two). Why: one stall (a long GC pause, a busy host) makes one large turn,
 * and the buffer kept that size for the rest of the process; the run of
 * batches keeps a load that still needs it from reallocating every few turns.
 */
const STAGING_SHRINK_BATCHES = 64;

/**
 * Starts the worker thread. From the compiled `dist/` the entry is plain
 * JavaScript. From source (tsx, vitest) it is TypeScript, and Node 20 does
 * not pass ESM loader hooks (`--import tsx`) on to worker threads, so the
 * worker registers tsx's CommonJS hook itself and requires the entry.
 */
function startWorker(data: DspWorkerData, youngGenerationMb: number): Worker {
  const here = import.meta.url;
  const resourceLimits = youngGenerationMb > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } } : {};
  if (!here.endsWith('.ts')) return new Worker(new URL('./dsp-worker.js', here), { workerData: data, ...resourceLimits });
  const entry = fileURLToPath(new URL('./dsp-worker.ts', here));
  const tsx = createRequire(here).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(entry)});`, { eval: true, workerData: data, ...resourceLimits });
}

export class WorkerHost implements CallHost {
  private readonly worker: Worker;
  private readonly calls = new Map<number, WorkerCall>();
  /** Resolves once the worker's model is open; rejects (ModelError…) when it cannot start. */
  readonly ready: Promise<void>;
  private started = false;
  private dead = false;

  // The batch gathering.
  /** It holds something to post. */
  private scheduled = false;
  /** A post is due at the next turn (setImmediate armed), or at `timer`. */
  private immediate = false;
  private timer: NodeJS.Timeout | undefined;
  /** It holds an open, a close or the crash hook: due at once, whatever its audio's age. */
  private urgent = false;
  private opens: OpenOp[] = [];
  private closes: number[] = [];
  private audio: number[] = [];
  private staging = new Uint8Array(STAGING_MIN_BYTES);
  private staged = 0;
  /** Batches in a row that used at most a quarter of the staging buffer, and the largest of them, bytes. */
  private smallBatches = 0;
  private smallBatchesMaxBytes = 0;
  private turnCalls = new Map<WorkerCall, { payloads: number; bytes: number }>();
  /** When this turn's first payload was queued; NaN while it holds none. */
  private turnQueuedMs = Number.NaN;
  /** Call audio in this turn, ms. */
  private turnAudioMs = 0;
  /** Recent batches' audio and the worker's time on them, ms (rings): its throughput. */
  private readonly doneAudioMs = new Float64Array(THROUGHPUT_BATCHES);
  private readonly doneBusyMs = new Float64Array(THROUGHPUT_BATCHES);
  private doneCount = 0;
  /** Call audio the worker held after its last reply, received and not yet extracted, ms. */
  private heldMs = 0;
  private crashRequested = false;
  /** The young generation the thread reported it has, MB (undefined before it is ready). */
  youngGenerationMb: number | undefined;
  private seq = 0;
  private readonly sent: SentBatch[] = [];
  /** The worker's memory as it last reported it. */
  private lastMemory: ThreadMemory | undefined;
  /** `measureMemory` callers waiting for the worker's answer. */
  private readonly memoryWaiters: ((memory: ThreadMemory | undefined) => void)[] = [];

  constructor(
    readonly index: number,
    data: DspWorkerData,
    private readonly events: HostEvents,
    /** How long a batch's oldest audio may wait for more before it is posted, ms (see WorkerPoolOptions.gatherMs). */
    private readonly gatherMs = 0,
    /** The thread's young generation, MB; 0 = V8's default (see WorkerPoolOptions.youngGenerationMb). */
    youngGenerationMb = 0,
  ) {
    this.worker = startWorker(data, youngGenerationMb);
    // An idle worker must not keep the process alive (the pool closes it); one with batches in flight does.
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: FromWorker) => {
        if (message.type === 'windows') {
          this.receiveEarly(message);
          return;
        }
        if (message.type !== 'init-error' && message.memory) this.lastMemory = unpackMemory(`dsp-${index}`, message.memory);
        if (message.type === 'memory') {
          for (const resolve of this.memoryWaiters.splice(0)) resolve(this.lastMemory);
        } else if (message.type === 'scored') this.receive(message);
        else if (message.type === 'ready') {
          this.started = true;
          this.youngGenerationMb = message.youngGenerationMb;
          resolve();
        } else {
          const error = message.code === 'UT_ERR_MODEL' ? new ModelError(message.message) : new DspRemoteError(message.name, message.message, message.code);
          reject(error);
          this.die(error);
        }
      });
      this.worker.on('error', (error) => {
        reject(error);
        this.die(error);
      });
      this.worker.on('exit', (code) => {
        const error = new DspWorkerError(`DSP worker ${index} exited (code ${code})`);
        reject(error);
        this.die(error);
      });
    });
    // Awaited by the pool at start-up (and logged by it for a replacement); never an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Calls open on this worker: the pool pins new calls to the least loaded. */
  get load(): number {
    return this.calls.size;
  }

  /** The worker thread's memory as last reported (undefined before it is ready or once it is gone). */
  get memory(): ThreadMemory | undefined {
    return this.dead ? undefined : this.lastMemory;
  }

  /**
   * Asks the worker for its memory now (after a full GC when `gc` and the
   * process runs with --expose-gc). Undefined if the worker is gone or does not answer within 5 s.
   */
  measureMemory(gc: boolean): Promise<ThreadMemory | undefined> {
    if (this.dead || !this.started) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.memoryWaiters.indexOf(done);
        if (i >= 0) this.memoryWaiters.splice(i, 1);
        resolve(undefined);
      }, 5000);
      const done = (memory: ThreadMemory | undefined): void => {
        clearTimeout(timer);
        resolve(memory);
      };
      this.memoryWaiters.push(done);
      this.worker.postMessage({ type: 'memory', gc } satisfies MemoryRequest);
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  attach(call: WorkerCall): void {
    this.calls.set(call.id, call);
    this.opens.push({ call: call.id, callId: call.callId, encoding: call.format.encoding, sampleRate: call.format.sampleRate });
    this.schedule(true);
  }

  enqueueAudio(call: WorkerCall, payload: Uint8Array): void {
    if (this.staged + payload.length > this.staging.length) {
      const grown = new Uint8Array(Math.max(this.staging.length * 2, this.staged + payload.length));
      grown.set(this.staging.subarray(0, this.staged));
      this.staging = grown;
    }
    // Copied now: the socket layer may reuse its buffer before the turn ends.
    if (this.staged === 0) this.turnQueuedMs = performance.now();
    this.turnAudioMs += (payload.length * 1000) / (call.bytesPerSample * call.format.sampleRate);
    this.staging.set(payload, this.staged);
    this.staged += payload.length;
    this.audio.push(call.id, payload.length);
    const entry = this.turnCalls.get(call);
    if (entry === undefined) this.turnCalls.set(call, { payloads: 1, bytes: call.bytes });
    else {
      entry.payloads += 1;
      entry.bytes = call.bytes;
    }
    this.schedule();
  }

  enqueueClose(call: WorkerCall): void {
    this.closes.push(call.id);
    this.schedule(true);
  }

  /**
   * How long the oldest audio not yet answered for has waited, ms: the batch
   * in flight's (one at a time), else the gathering turn's; 0 when idle.
   */
  backlogMs(nowMs: number): number {
    const oldest = this.sent[0]?.queuedMs ?? this.turnQueuedMs;
    return Number.isNaN(oldest) ? 0 : Math.max(0, nowMs - oldest);
  }

  /**
   * Call audio the worker got through per ms of its time over its recent
   * batches: how many real-time calls it can carry while it is kept busy
   * (under load it always is). Undefined before 4 batches.
   */
  throughputCalls(): number | undefined {
    const n = Math.min(this.doneCount, THROUGHPUT_BATCHES);
    if (n < 4) return undefined;
    let audio = 0;
    let busy = 0;
    for (let i = 0; i < n; i++) {
      audio += this.doneAudioMs[i]!;
      busy += this.doneBusyMs[i]!;
    }
    return busy > 0 ? audio / busy : undefined;
  }

  /**
   * Call audio the worker holds unextracted until it ends a window (or a
   * call's hold limit), ms summed over its calls, as of its last reply.
   */
  heldAudioMs(): number {
    return this.heldMs;
  }

  /** Batches posted to this worker so far (each one message). */
  get batchesPosted(): number {
    return this.seq;
  }

  /** Whether `call` is pinned here. */
  has(call: unknown): boolean {
    return [...this.calls.values()].includes(call as WorkerCall);
  }

  retire(call: WorkerCall): void {
    this.calls.delete(call.id);
  }

  /** Test hook: the worker throws an uncaught error on its next batch. */
  crash(): void {
    this.crashRequested = true;
    this.schedule(true);
  }

  /** Stops the worker (shutdown); its calls should have finished. */
  async terminate(): Promise<void> {
    this.dead = true;
    clearTimeout(this.timer);
    await this.worker.terminate();
  }

  private schedule(urgent = false): void {
    if (urgent) this.urgent = true;
    if (this.dead) return;
    this.scheduled = true;
    // One batch in flight at a time: while the worker computes one, the next
    // gathers every call's audio and goes when the reply arrives (receive).
    // Under load that is a few posts per worker batch instead of one per
    // event-loop turn: each post wakes the worker and its reply the main thread.
    if (this.sent.length === 0) this.arm();
  }

  /**
   * Posts the gathering batch when it is due: at the next turn when it holds
   * a control op or its oldest audio has waited `gatherMs`, else by a timer
   * at that age. Why wait: each batch costs both threads a message and a
   * wake-up, and the worker up to two model runs (≈ 45 µs each, whatever
   * their size): ≈ 330 µs of CPU per batch on a 2-core VM, so fewer, larger
   * batches cost less per call-second. A window-ending payload waits too:
   * sending it at once left too few windows per batch to gain anything at
   * load (docs/performance.md "Gathering batches").
   */
  private arm(): void {
    if (this.immediate) return;
    const waitMs = this.dueInMs();
    if (waitMs <= 0) {
      this.immediate = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      setImmediate(() => this.flush());
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.arm();
      }, waitMs);
    }
  }

  /** How long until the gathering batch is due, ms (≤ 0: now). */
  private dueInMs(): number {
    return this.urgent || Number.isNaN(this.turnQueuedMs) ? 0 : this.turnQueuedMs + this.gatherMs - performance.now();
  }

  /** Posts this turn's batch: one message, one transferred buffer. */
  private flush(): void {
    this.immediate = false;
    if (!this.scheduled || this.dead || this.sent.length > 0) return;
    this.scheduled = false;
    this.urgent = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const seq = ++this.seq;
    const audio = Int32Array.from(this.audio);
    // A right-sized copy is sent (transferred) and the staging buffer kept: a batch
    // holds only its own bytes, however large the staging buffer once grew. Sending
    // the staging buffer itself and allocating a fresh one of the same size each
    // turn made every batch as large as the largest turn: while a busy worker falls
    // behind, those queued batches were most of the server's memory.
    const bytes = this.staging.slice(0, this.staged).buffer;
    if (this.sent.length === 0) this.worker.ref();
    const sentMs = performance.now();
    this.sent.push({ seq, calls: this.turnCalls, queuedMs: Number.isNaN(this.turnQueuedMs) ? sentMs : this.turnQueuedMs, sentMs, audioMs: this.turnAudioMs });
    this.turnAudioMs = 0;
    this.worker.postMessage(
      { type: 'batch', seq, opens: this.opens, audio, bytes, closes: this.closes, ...(this.crashRequested ? { crash: true } : {}) },
      [audio.buffer, bytes],
    );
    this.fitStaging(this.staged);
    this.staged = 0;
    this.turnQueuedMs = Number.NaN;
    this.audio = [];
    this.opens = [];
    this.closes = [];
    this.turnCalls = new Map();
    this.crashRequested = false;
  }

  /** Cuts a grown staging buffer back once batches have stayed small for a while (see STAGING_SHRINK_BATCHES). */
  private fitStaging(usedBytes: number): void {
    if (this.staging.length <= STAGING_MIN_BYTES) return;
    if (usedBytes * 4 > this.staging.length) {
      this.smallBatches = 0;
      this.smallBatchesMaxBytes = 0;
      return;
    }
    this.smallBatchesMaxBytes = Math.max(this.smallBatchesMaxBytes, usedBytes);
    if (++this.smallBatches < STAGING_SHRINK_BATCHES) return;
    let size = STAGING_MIN_BYTES;
    while (size < 2 * this.smallBatchesMaxBytes) size *= 2;
    // Called once the batch is copied out: the staged bytes need not move.
    this.staging = new Uint8Array(size);
    this.smallBatches = 0;
    this.smallBatchesMaxBytes = 0;
  }

  /** The staging buffer's size, bytes: the memory this host keeps for gathering audio. */
  get stagingBytes(): number {
    return this.staging.length;
  }

  private receive(message: ScoredMessage): void {
    const batch = this.sent.shift();
    if (batch === undefined || batch.seq !== message.seq) {
      this.die(new DspWorkerError(`DSP worker ${this.index} answered batch ${message.seq}, expected ${batch?.seq ?? 'none'}`));
      return;
    }
    if (this.sent.length === 0) this.worker.unref();
    // One batch in flight at a time: the worker spent send → reply on this one.
    const slot = this.doneCount++ % THROUGHPUT_BATCHES;
    this.doneAudioMs[slot] = batch.audioMs;
    this.doneBusyMs[slot] = performance.now() - batch.sentMs;
    // What gathered while this batch was in flight (see schedule): now if it is due.
    if (this.scheduled && this.sent.length === 0) {
      if (this.dueInMs() <= 0) this.flush();
      else this.arm();
    }
    this.heldMs = (message.heldSamples * 1000) / PIPELINE_SAMPLE_RATE;
    this.events.onClock(message.clock);
    if (message.windowCalls.length > 0) this.events.onInference(message.inferenceMs, message.windowCalls.length);
    for (const failure of message.failures) {
      const call = this.calls.get(failure.call);
      call?.failed(new DspRemoteError(failure.name, failure.message, failure.code), failure.what);
    }
    const samples = new Map<number, number>();
    for (let i = 0; i + 1 < message.samples.length; i += 2) samples.set(message.samples[i]!, message.samples[i + 1]!);
    const windows = windowsByCall(message);
    for (const [call, sent] of batch.calls) {
      try {
        call.delivered(sent.payloads, sent.bytes, samples.get(call.id), windows.get(call.id) ?? []);
      } catch (error) {
        // A sink that throws ends its own call, not the batch's other calls.
        call.failed(error, 'delivering scores failed');
      }
    }
  }

  /**
   * The windows the worker extracted and scored ahead of the rest of the
   * batch in flight (calls whose audio ended a window): to their calls now.
   * The batch's `scored` reply still settles every call's payloads.
   */
  private receiveEarly(message: EarlyWindowsMessage): void {
    if (this.sent[0]?.seq !== message.seq) {
      this.die(new DspWorkerError(`DSP worker ${this.index} sent windows of batch ${message.seq}, expected ${this.sent[0]?.seq ?? 'none'}`));
      return;
    }
    this.events.onInference(message.inferenceMs, message.windowCalls.length);
    for (const [id, list] of windowsByCall(message)) {
      const call = this.calls.get(id);
      if (call === undefined) continue;
      try {
        call.deliveredEarly(list);
      } catch (error) {
        call.failed(error, 'delivering scores failed');
      }
    }
  }

  /** The worker is gone: every call pinned to it fails; the pool replaces it if it had started. */
  private die(error: unknown): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timer);
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const resolve of this.memoryWaiters.splice(0)) resolve(undefined);
    this.sent.length = 0;
    const reason = new DspWorkerError(`DSP worker ${this.index} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    for (const call of calls) call.failed(reason, 'DSP worker failed');
    void this.worker.terminate();
    if (this.started) this.events.onDead(this, error);
  }
}
