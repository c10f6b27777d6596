/**
 * In-place radix-2 complex FFT on preallocated arrays. Twiddles and the
 * bit-reversal permutation are computed once per size and shared read-only.
 */

interface FftPlan {
  size: number;
  cos: Float64Array;
  sin: Float64Array;
  reverse: Uint32Array;
}

const plans = new Map<number, FftPlan>();

function planFor(size: number): FftPlan {
  const cached = plans.get(size);
  if (cached !== undefined) return cached;
  if (size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two (got ${size})`);
  const cos = new Float64Array(size / 2);
  const sin = new Float64Array(size / 2);
  for (let i = 0; i < size / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / size);
    sin[i] = -Math.sin((2 * Math.PI * i) / size);
  }
  const bits = Math.log2(size);
  const reverse = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    reverse[i] = r;
  }
  const plan = { size, cos, sin, reverse };
  plans.set(size, plan);
  return plan;
}

/** A forward/inverse FFT of one size over caller-owned `re`/`im` arrays. */
export class Fft {
  readonly size: number;
  private readonly plan: FftPlan;

  constructor(size: number) {
    this.plan = planFor(size);
    this.size = size;
  }

  /** Forward transform (e^{-i…}), in place. `inverse` computes the unscaled inverse. */
  transform(re: Float64Array, im: Float64Array, inverse = false): void {
    const { size, cos, sin, reverse } = this.plan;
    for (let i = 0; i < size; i++) {
      const j = reverse[i]!;
      if (j > i) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    const sign = inverse ? -1 : 1;
    for (let len = 2; len <= size; len <<= 1) {
      const halfLen = len >> 1;
      const step = size / len;
      for (let start = 0; start < size; start += len) {
        for (let k = 0; k < halfLen; k++) {
          const wr = cos[k * step]!;
          const wi = sign * sin[k * step]!;
          const a = start + k;
          const b = a + halfLen;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
      }
    }
  }
}
