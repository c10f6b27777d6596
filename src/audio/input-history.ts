/**
 * The input samples a streaming FIR resampler still needs, addressed by
 * their absolute index in the stream (shared by resample.ts and
 * halfband.ts). Samples before the stream's start read as silence.
 */
export class InputHistory {
  /** Samples from absolute index `start`, `length` of them. */
  buf: Float64Array;
  start: number;
  length: number;

  /**
   * @param history Silent samples before index 0 that the first outputs reach back to.
   * @param capacity Initial size (samples); grows as needed. Small: a live
   *   call holds one per call, and a chunk (20 ms, 320 samples at 16 kHz)
   *   plus the filter's reach is all it needs.
   */
  constructor(history: number, capacity: number) {
    this.buf = new Float64Array(Math.max(capacity, history));
    this.start = -history;
    this.length = history;
  }

  /** One past the last index held. */
  get end(): number {
    return this.start + this.length;
  }

  append(input: Float32Array): void {
    const need = this.length + input.length;
    if (need > this.buf.length) {
      const grown = new Float64Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    const buf = this.buf;
    const at = this.length;
    for (let i = 0; i < input.length; i++) buf[at + i] = input[i]!;
    this.length = need;
  }

  /** Forgets every sample before absolute index `index`. */
  dropBefore(index: number): void {
    const drop = Math.min(index - this.start, this.length);
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.length);
    this.length -= drop;
    this.start += drop;
  }
}
