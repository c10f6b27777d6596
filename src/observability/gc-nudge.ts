/**
 * Young-generation collections nudged by array-buffer growth (`GC_NUDGE_MS`,
 * off unless set).
 *
 * Why: every socket read and every batch posted between threads is an
 * ArrayBuffer whose memory lives in glibc's malloc arenas, outside V8's
 * heap, and is freed only when a garbage collection finds it dead. V8
 * collects when its own heap fills, and binary audio (L16, AudioHook) leaves
 * little garbage in the heap: at 250 wideband calls the dead buffers pile up
 * between collections and the arenas grow to hold them, ≈ 480–490 KiB of
 * RSS per call against ≈ 220–250 for Twilio calls.
 *
 * So each thread checks its `arrayBuffers` figure every `intervalMs` and runs
 * a young-generation collection (a scavenge, ≈ 2–3 ms in a busy server) when
 * it has grown by `minGrowthBytes` over its lowest reading since the last
 * one. Measured (docs/performance.md, "Wideband calls' memory without a
 * flag"): every 100 ms with no growth threshold, 250 L16 calls held 278–397
 * KiB per call; Twilio calls gain nothing and pay ≈ 0.12 ms of CPU per
 * call-second, so the service leaves it off unless configured.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Check interval when a nudge is made without one, ms (the service's `GC_NUDGE_MS` defaults to 0: off). */
export const DEFAULT_GC_NUDGE_MS = 100;
/** Default growth that triggers a collection, bytes (`GC_NUDGE_MIN_KB` 256). */
export const DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES = 256 * 1024;

/** Options of a thread's nudge. */
export interface GcNudgeOptions {
  /** How often the thread reads its array-buffer memory, ms; 0 = never (no timer). Default `DEFAULT_GC_NUDGE_MS` (100). */
  intervalMs?: number;
  /** Growth over the lowest reading since the last nudge that triggers one, bytes; 0 = collect at every check. Default `DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES` (256 KiB). */
  minGrowthBytes?: number;
  /** The thread's array-buffer memory, bytes. Default `process.memoryUsage().arrayBuffers` (≈ 15 µs). */
  readArrayBuffers?: () => number;
  /** Runs a young-generation collection. Default `youngGenerationCollector()`; without one the nudge stays off. */
  collect?: () => void;
}

/** What a thread's nudge has done. */
export interface GcNudgeStats {
  /** Collections it ran. */
  nudges: number;
  /** Time they blocked the thread, ms. */
  nudgeMs: number;
}

let collector: (() => void) | null | undefined;

/**
 * This thread's young-generation collection, or undefined where V8 refuses
 * to expose `gc`. Node documents `v8.setFlagsFromString('--expose-gc')`
 * followed by a new context as the way to reach `gc` without the command
 * line flag; the flag is process-wide, so worker threads get it too.
 */
export function youngGenerationCollector(): (() => void) | undefined {
  if (collector !== undefined) return collector ?? undefined;
  try {
    let gc = (globalThis as { gc?: unknown }).gc;
    if (typeof gc !== 'function') {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc');
    }
    const fn = gc as (options?: { type: 'minor' | 'major' }) => void;
    fn({ type: 'minor' });
    collector = () => fn({ type: 'minor' });
  } catch {
    collector = null;
  }
  return collector ?? undefined;
}

export class GcNudge {
  readonly intervalMs: number;
  readonly minGrowthBytes: number;
  private readonly read: () => number;
  private readonly collect: (() => void) | undefined;
  private low = Number.POSITIVE_INFINITY;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly counts: GcNudgeStats = { nudges: 0, nudgeMs: 0 };

  constructor(options: GcNudgeOptions = {}) {
    this.intervalMs = options.intervalMs ?? DEFAULT_GC_NUDGE_MS;
    this.minGrowthBytes = options.minGrowthBytes ?? DEFAULT_GC_NUDGE_MIN_GROWTH_BYTES;
    if (!(Number.isFinite(this.intervalMs) && this.intervalMs >= 0)) throw new RangeError(`GcNudge: intervalMs must be ≥ 0, got ${this.intervalMs}`);
    if (!(this.minGrowthBytes >= 0)) throw new RangeError(`GcNudge: minGrowthBytes must be ≥ 0, got ${this.minGrowthBytes}`);
    this.read = options.readArrayBuffers ?? (() => process.memoryUsage().arrayBuffers);
    this.collect = options.collect ?? (this.intervalMs > 0 ? youngGenerationCollector() : undefined);
  }

  /** Whether the nudge can run here (an interval above 0 and a collector). */
  get enabled(): boolean {
    return this.intervalMs > 0 && this.collect !== undefined;
  }

  get stats(): Readonly<GcNudgeStats> {
    return this.counts;
  }

  /** Starts the timer (unref'd: it never keeps the process alive). Returns whether it runs. */
  start(): boolean {
    if (!this.enabled || this.timer !== undefined) return this.timer !== undefined;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    return true;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One check: collects when the figure has grown by `minGrowthBytes` over
   * its lowest reading since the last collection. Returns whether it
   * collected. The buffers a scavenge finds dead are freed by V8's sweeper
   * a little later, so the next readings set the new low.
   */
  tick(): boolean {
    if (this.collect === undefined) return false;
    const now = this.read();
    if (now < this.low) this.low = now;
    if (now - this.low < this.minGrowthBytes) return false;
    const t0 = performance.now();
    this.collect();
    this.counts.nudgeMs += performance.now() - t0;
    this.counts.nudges++;
    this.low = now;
    return true;
  }
}
