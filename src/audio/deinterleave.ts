/**
 * Splits interleaved two-channel audio bytes (L16 stereo, AudioHook stereo)
 * into one byte stream per channel. Stateful: a message may end part-way
 * through a sample frame (some gateways chunk by bytes, not by frames); the
 * partial frame is carried into the next message, so channel bytes never
 * shift. One per call; never share.
 */
export class StereoSplitter {
  private readonly frameBytes: number;
  private readonly carry: Uint8Array;
  private carryLen = 0;

  /** @param bytesPerSample 2 for L16, 1 for G.711. */
  constructor(readonly bytesPerSample: number) {
    this.frameBytes = 2 * bytesPerSample;
    this.carry = new Uint8Array(this.frameBytes);
  }

  /** Bytes held back for the next call (an incomplete frame). */
  get pendingBytes(): number {
    return this.carryLen;
  }

  /** Returns [left, right] bytes of every whole frame completed so far (both may be empty). */
  push(data: Uint8Array): [Uint8Array, Uint8Array] {
    const total = this.carryLen + data.length;
    const frames = Math.floor(total / this.frameBytes);
    const bps = this.bytesPerSample;
    const left = new Uint8Array(frames * bps);
    const right = new Uint8Array(frames * bps);
    // Byte k of the joined stream (carry then data).
    const at = (k: number): number => (k < this.carryLen ? this.carry[k]! : data[k - this.carryLen]!);
    for (let f = 0; f < frames; f++) {
      const base = f * this.frameBytes;
      for (let b = 0; b < bps; b++) {
        left[f * bps + b] = at(base + b);
        right[f * bps + b] = at(base + bps + b);
      }
    }
    const used = frames * this.frameBytes;
    const rest = total - used;
    const next = new Uint8Array(rest);
    for (let k = 0; k < rest; k++) next[k] = at(used + k);
    this.carry.set(next);
    this.carryLen = rest;
    return [left, right];
  }
}
