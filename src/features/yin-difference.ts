/**
 * YIN's difference function with centred segments, computed through one
 * FFT cross-correlation instead of W·τmax multiply-adds.
 *
 * The tracker compares, for every lag τ = 1..τmax+1, the segments
 * [a, a+W) and [a+τ, a+τ+W) with a(τ) = (τmax+1−τ) >> 1, so every lag
 * measures the frame centre (see pitch-yin.ts):
 *
 *   d(τ) = Σ_{i=a}^{a+W−1} (x_i − x_{i+τ})² = E(a) + E(a+τ) − 2·c(τ),
 *   c(τ) = Σ_{i=a}^{a+W−1} x_i·x_{i+τ},
 *
 * E from running sums of squares. Because the segment start a moves with τ,
 * c is not one plain autocorrelation; it is the cross-correlation of the
 * fixed segment [R, R+W) with the buffer (one complex FFT of the buffer and
 * the segment packed together, one half-size inverse FFT), corrected at both ends by
 * the |a − R| products that the moving segment gains or loses. With R the
 * middle of a's range that is on average a quarter of a's range per lag
 * (≈17 products instead of 240 at 8 kHz). Exact up to float rounding
 * (double throughout; golden test: aperiodicity within 1e-5).
 */
import FFT from 'fft.js';

/** A packed-double JS array: fft.js runs fastest on these (faster than on typed arrays). */
function doubles(n: number): number[] {
  const a = Array.from({ length: n }, () => 0.5);
  a.fill(0);
  return a;
}

/**
 * Working buffers and FFT tables of one (W, τmax), shared by every tracker
 * with those settings on this thread. Why: they are ~55 KB per tracker, and a
 * server has one tracker per live call; `compute` is synchronous and keeps
 * nothing in them between calls (it writes every element it reads, and the
 * zero padding, the same for equal settings, is never written), so calls on
 * one thread can use the same ones. Worker threads each have their own.
 */
interface Scratch {
  fft: FFT;
  halfFft: FFT;
  x: number[];
  cum: number[];
  z: number[];
  spec: number[];
  half: number[];
  corr: number[];
  pRe: number[];
  pIm: number[];
  twiddle: number[];
}
const SCRATCH = new Map<string, Scratch>();

function sharedScratch(W: number, tauMax: number, span: number, size: number): Scratch {
  const key = `${W}/${tauMax}`;
  let s = SCRATCH.get(key);
  if (s === undefined) {
    s = {
      fft: new FFT(size),
      halfFft: new FFT(size / 2),
      x: doubles(size),
      cum: doubles(span + 1),
      z: doubles(2 * size),
      spec: doubles(2 * size),
      half: doubles(size),
      corr: doubles(size),
      pRe: doubles(size / 2 + 1),
      pIm: doubles(size / 2 + 1),
      twiddle: doubles(size),
    };
    for (let k = 0; k < size / 2; k++) {
      s.twiddle[2 * k] = Math.cos((2 * Math.PI * k) / size);
      s.twiddle[2 * k + 1] = Math.sin((2 * Math.PI * k) / size);
    }
    SCRATCH.set(key, s);
  }
  return s;
}

export class YinDifference {
  private readonly W: number;
  private readonly tauMax: number;
  /** Samples read from the input: W + τmax + 1. */
  private readonly span: number;
  private readonly size: number;
  /** Start of the fixed correlation segment (middle of a's range). */
  private readonly R: number;
  private readonly fft: FFT;
  /**
   * The buffer, zero-padded to `size` (for the end corrections, which may
   * read past `span`). Packed-double JS arrays here and below: V8 reads them
   * faster than typed arrays in these short loops (≈10 % of this function).
   */
  private readonly x: number[];
  /** Running sum of squares: cum[n] = Σ_{i<n} x_i². */
  private readonly cum: number[];
  /** Complex input (buffer + i·segment) and its spectrum. */
  private readonly z: number[];
  private readonly spec: number[];
  /** The product spectrum folded to half length (see `compute`), and its inverse: the correlation itself. */
  private readonly half: number[];
  private readonly corr: number[];
  private readonly halfFft: FFT;
  /** The product spectrum P = X·conj(S), bins 0..size/2. */
  private readonly pRe: number[];
  private readonly pIm: number[];
  /** e^{+2πik/size}, k < size/2, interleaved. */
  private readonly twiddle: number[];

  constructor(integrationSamples: number, tauMax: number) {
    this.W = integrationSamples;
    this.tauMax = tauMax;
    this.span = integrationSamples + tauMax + 1;
    const aMax = tauMax >> 1;
    this.R = (aMax + 1) >> 1;
    // The correlation reads up to R + W − 1 + τmax + 1; it must not wrap around.
    let size = 4;
    while (size < Math.max(this.span, this.R + this.W + tauMax + 1)) size <<= 1;
    this.size = size;
    // Shared with every tracker of the same settings on this thread (see Scratch).
    const s = sharedScratch(this.W, tauMax, this.span, size);
    this.fft = s.fft;
    this.x = s.x;
    this.cum = s.cum;
    this.z = s.z;
    this.spec = s.spec;
    this.halfFft = s.halfFft;
    this.half = s.half;
    this.corr = s.corr;
    this.pRe = s.pRe;
    this.pIm = s.pIm;
    this.twiddle = s.twiddle;
  }

  /** Writes d(τ) for τ = 1..τmax+1 into `diff` (diff[0] = 0), from `span` samples of `input` at `offset`. */
  compute(input: Float32Array | Float64Array, offset: number, diff: Float64Array): void {
    const { W, tauMax, span, size, R, x, cum, z, spec, half, corr, twiddle } = this;
    let acc = 0;
    cum[0] = 0;
    // FFT input: real part the buffer, imaginary part the segment [R, R+W)
    // moved to 0. The zero padding beyond (span, W) is never written.
    for (let i = 0; i < span; i++) {
      const v = input[offset + i]!;
      x[i] = v;
      z[2 * i] = v;
      acc += v * v;
      cum[i + 1] = acc;
    }
    for (let i = 0; i < W; i++) z[2 * i + 1] = x[R + i]!;
    this.fft.transform(spec, z);
    // The correlation r_m = Σ_j s_j·x_{j+m} is real, so its spectrum
    // P = X·conj(S) is Hermitian and one half-size inverse FFT gives it:
    // with M = size/2, E_k = (P_k + P_{k+M})/2, O_k = (P_k − P_{k+M})/2·e^{2πik/size},
    // IFFT_M(E + i·O) = r_0 + i·r_1, r_2 + i·r_3, …  (P_{k+M} = conj P_{M−k}).
    // X and S come from Z = X + i·S: X_k = (Z_k + conj Z_{−k})/2, S_k = (Z_k − conj Z_{−k})/2i.
    const M = size >> 1;
    const mask = size - 1;
    const pRe = this.pRe;
    const pIm = this.pIm;
    for (let k = 0; k <= M; k++) {
      const m = (size - k) & mask;
      const zr = spec[2 * k]!;
      const zi = spec[2 * k + 1]!;
      const wr = spec[2 * m]!;
      const wi = spec[2 * m + 1]!;
      const xr = 0.5 * (zr + wr);
      const xi = 0.5 * (zi - wi);
      const sr = 0.5 * (zi + wi);
      const si = -0.5 * (zr - wr);
      pRe[k] = xr * sr + xi * si;
      pIm[k] = xi * sr - xr * si;
    }
    for (let k = 0; k < M; k++) {
      const pr = pRe[k]!;
      const pi = pIm[k]!;
      // P_{k+M} = conj P_{M−k}.
      const qr = pRe[M - k]!;
      const qi = -pIm[M - k]!;
      const er = 0.5 * (pr + qr);
      const ei = 0.5 * (pi + qi);
      const dr = 0.5 * (pr - qr);
      const di = 0.5 * (pi - qi);
      const tr = twiddle[2 * k]!;
      const ti = twiddle[2 * k + 1]!;
      const or = dr * tr - di * ti;
      const oi = dr * ti + di * tr;
      half[2 * k] = er - oi;
      half[2 * k + 1] = ei + or;
    }
    // corr[R+τ] = Σ_{j<W} x_{R+j}·x_{R+j+τ}: the fixed segment's cross term.
    this.halfFft.inverseTransform(corr, half);
    diff[0] = 0;
    const last = tauMax + 1;
    for (let tau = 1; tau <= last; tau++) {
      const a = (last - tau) >> 1;
      let c = corr[R + tau]!;
      // Four lags, two pairs whose segment starts are a and a − 1 (both
      // before R, or both after it): one loop for the range they share,
      // plus the one product by which the ranges differ, summed at its place
      // in each lag's ascending order. Four independent addition chains.
      if (tau + 3 <= last && (last - tau - 1) >> 1 === a && (last - tau - 2) >> 1 === a - 1 && (last - tau - 3) >> 1 === a - 1 && (a < R || a - 1 > R)) {
        const t1 = tau + 1;
        const t2 = tau + 2;
        const t3 = tau + 3;
        let c1 = corr[R + t1]!;
        let c2 = corr[R + t2]!;
        let c3 = corr[R + t3]!;
        if (a < R) {
          // Lags t2, t3 start one sample earlier: their first product.
          const u0 = x[a - 1]!;
          const w0 = x[a - 1 + W]!;
          c2 += u0 * x[a - 1 + t2]! - w0 * x[a - 1 + W + t2]!;
          c3 += u0 * x[a - 1 + t3]! - w0 * x[a - 1 + W + t3]!;
          for (let i = a; i < R; i++) {
            const u = x[i]!;
            const w = x[i + W]!;
            c += u * x[i + tau]! - w * x[i + W + tau]!;
            c1 += u * x[i + t1]! - w * x[i + W + t1]!;
            c2 += u * x[i + t2]! - w * x[i + W + t2]!;
            c3 += u * x[i + t3]! - w * x[i + W + t3]!;
          }
        } else {
          for (let i = R; i < a - 1; i++) {
            const u = x[i]!;
            const w = x[i + W]!;
            c += w * x[i + W + tau]! - u * x[i + tau]!;
            c1 += w * x[i + W + t1]! - u * x[i + t1]!;
            c2 += w * x[i + W + t2]! - u * x[i + t2]!;
            c3 += w * x[i + W + t3]! - u * x[i + t3]!;
          }
          // Lags tau, t1 end one sample later: their last product.
          const u0 = x[a - 1]!;
          const w0 = x[a - 1 + W]!;
          c += w0 * x[a - 1 + W + tau]! - u0 * x[a - 1 + tau]!;
          c1 += w0 * x[a - 1 + W + t1]! - u0 * x[a - 1 + t1]!;
        }
        const e = cum[a + W]! - cum[a]!;
        const d0 = e + (cum[a + tau + W]! - cum[a + tau]!) - 2 * c;
        diff[tau] = d0 > 0 ? d0 : 0;
        const d1 = e + (cum[a + t1 + W]! - cum[a + t1]!) - 2 * c1;
        diff[t1] = d1 > 0 ? d1 : 0;
        const b = a - 1;
        const f = cum[b + W]! - cum[b]!;
        const d2 = f + (cum[b + t2 + W]! - cum[b + t2]!) - 2 * c2;
        diff[t2] = d2 > 0 ? d2 : 0;
        const d3 = f + (cum[b + t3 + W]! - cum[b + t3]!) - 2 * c3;
        diff[t3] = d3 > 0 ? d3 : 0;
        tau = t3;
        continue;
      }
      // Lags τ and τ+1 share a segment start (a halves with τ): their end
      // corrections run in one loop, reading x[i] and x[i+W] once, each lag
      // still summed in its own accumulator in ascending i (bit-identical
      // to separate loops; the two addition chains overlap).
      if (tau < last && (last - tau - 1) >> 1 === a) {
        const t1 = tau + 1;
        let c1 = corr[R + t1]!;
        if (a < R) {
          for (let i = a; i < R; i++) {
            const u = x[i]!;
            const w = x[i + W]!;
            c += u * x[i + tau]! - w * x[i + W + tau]!;
            c1 += u * x[i + t1]! - w * x[i + W + t1]!;
          }
        } else {
          for (let i = R; i < a; i++) {
            const u = x[i]!;
            const w = x[i + W]!;
            c += w * x[i + W + tau]! - u * x[i + tau]!;
            c1 += w * x[i + W + t1]! - u * x[i + t1]!;
          }
        }
        const e = cum[a + W]! - cum[a]!;
        const d0 = e + (cum[a + tau + W]! - cum[a + tau]!) - 2 * c;
        diff[tau] = d0 > 0 ? d0 : 0;
        const d1 = e + (cum[a + t1 + W]! - cum[a + t1]!) - 2 * c1;
        diff[t1] = d1 > 0 ? d1 : 0;
        tau = t1;
        continue;
      }
      if (a < R) {
        // The moving segment starts earlier: add [a, R), drop [a+W, R+W).
        for (let i = a; i < R; i++) c += x[i]! * x[i + tau]! - x[i + W]! * x[i + W + tau]!;
      } else {
        for (let i = R; i < a; i++) c += x[i + W]! * x[i + W + tau]! - x[i]! * x[i + tau]!;
      }
      const d = cum[a + W]! - cum[a]! + (cum[a + tau + W]! - cum[a + tau]!) - 2 * c;
      diff[tau] = d > 0 ? d : 0;
    }
  }
}
