/**
 * Time spent in each stage of the per-call chain, summed over every call of
 * the process (or of one DSP worker). The hot path adds `performance.now()`
 * deltas into a Float64Array: no allocation, no labels, no Map lookups.
 * `/metrics` exports the sums as `undertone_stage_seconds_total{stage}`;
 * the load generator (`npm run bench`) reads them to split server CPU by
 * stage.
 *
 * The stages are synchronous code on one thread, so their wall time is,
 * within scheduler noise, CPU time. Async waits (ONNX run on its own pool,
 * Redis round trips) are not counted here: the `model` stage counts the
 * synchronous part of `session.run` plus tensor packing; the process CPU
 * total (`undertone_process_cpu_seconds_total`) holds the rest.
 */

/** The stages, in chain order; a stage's index is its slot in `StageClock.ms`. */
export const STAGES = ['ingest', 'decode', 'features', 'pitch', 'model', 'policy', 'publish'] as const;
export type StageName = (typeof STAGES)[number];

/** Slot of each stage (constant lookups on the hot path). */
export const Stage: { readonly [K in StageName]: number } = Object.freeze({
  /** Socket message handling: JSON parse, base64, adapter validation. */
  ingest: 0,
  /** Wire bytes → 8 kHz float samples (G.711 / L16, resampling). */
  decode: 1,
  /** Band filter, framing, spectrum, formants, VAD, window statistics (pitch excluded). */
  features: 2,
  /** The pitch tracker alone. */
  pitch: 3,
  /** Packing windows into tensors and the ONNX run. */
  model: 4,
  /** Caller score baseline, agitation tracker, escalation policy. */
  policy: 5,
  /**
   * Publishing policy events: the synchronous part of `EventPublisher.publish`
   * (job data, schema check, the start of the BullMQ add). Not the wait for
   * Redis's reply, nor BullMQ's continuation after its first await (those
   * are in the process total); the supervisor feed runs outside the stage.
   */
  publish: 6,
});

export class StageClock {
  /** Milliseconds summed per stage, indexed by `Stage`. */
  readonly ms = new Float64Array(STAGES.length);

  add(stage: number, ms: number): void {
    this.ms[stage] = this.ms[stage]! + ms;
  }

  /** Adds another clock's sums (a DSP worker's report) into this one. */
  merge(other: ArrayLike<number>): void {
    for (let i = 0; i < STAGES.length; i++) this.ms[i] = this.ms[i]! + (other[i] ?? 0);
  }

  /** The sums as a plain object, in seconds (for reports and tests). */
  snapshotS(): Record<StageName, number> {
    const out = {} as Record<StageName, number>;
    STAGES.forEach((name, i) => {
      out[name] = this.ms[i]! / 1000;
    });
    return out;
  }
}
