/**
 * Formants F1–F3, their bandwidths and the A1−A3 level difference of one
 * frame, from an order-10 autocorrelation LPC (the eGeMAPS voice-quality and
 * formant set, ported to the 8 kHz telephone band).
 *
 * The band-filtered frame is pre-emphasised (α = e^{−2π·50/fs}, as Praat
 * does), Hann-windowed, its autocorrelation lag-windowed (a 60 Hz Gaussian,
 * which keeps the recursion stable and the poles off the unit circle) and
 * solved by Levinson–Durbin. The roots of A(z) come from Durand–Kerner
 * iteration, started from the previous frame's roots (see `roots`), with
 * fixed start points as the fallback and an iteration cap: deterministic
 * for a given sequence of frames. Every
 * root in the upper half plane with 250 Hz < F < 3700 Hz and bandwidth
 * < 700 Hz is a formant candidate; the three lowest are F1, F2, F3.
 * A1−A3 is the LPC envelope level at F1 minus the one at F3: a spectral
 * tilt measure (eGeMAPS' H1−A3 needs H1, which the 300 Hz telephone
 * high-pass removes). All buffers are preallocated.
 */
import { FEATURE_CONFIG } from './feature-names.js';

/** LPC order: fs/1000 + 2 pole pairs' worth at 8 kHz. */
export const LPC_ORDER = 10;
const RATE = FEATURE_CONFIG.sampleRate;
const N = FEATURE_CONFIG.frameSamples;
const PRE_EMPHASIS = Math.exp((-2 * Math.PI * 50) / RATE);
const HANN = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)));
const LAG_WINDOW = Float64Array.from({ length: LPC_ORDER + 1 }, (_, k) => Math.exp(-0.5 * Math.pow((2 * Math.PI * 60 * k) / RATE, 2)));
const MIN_FORMANT_HZ = 250;
const MAX_FORMANT_HZ = 3700;
const MAX_BANDWIDTH_HZ = 700;
const MAX_ITER = 80;
/**
 * Iterations a warm start may take before the frame is solved again from the
 * fixed start points. From the previous frame's roots Durand–Kerner needs
 * ≈ 5 iterations, against ≈ 10 from the fixed points (voiced speech of the
 * demo fixture); a warm start that has not converged by then is a frame
 * whose roots moved far, and the cold start is the proven path for it.
 */
const WARM_MAX_ITER = 12;
/**
 * The warm start turns the previous roots by this angle (rad, ≈ 13 Hz at
 * 8 kHz) and pulls them in by WARM_SHRINK. Why: a real polynomial keeps a
 * conjugate-symmetric set of start points symmetric, and a real start
 * point real, for ever, so two real roots of one frame could never become
 * the next frame's complex pair; the turn breaks the symmetry, and the
 * shrink keeps start points off each other and off the unit circle.
 */
const WARM_TURN = 0.01;
const WARM_SHRINK = 0.999;
const WARM_COS = Math.cos(WARM_TURN) * WARM_SHRINK;
const WARM_SIN = Math.sin(WARM_TURN) * WARM_SHRINK;
/** Convergence: the largest root correction of an iteration (|Δre| + |Δim|). */
const CONVERGED_STEP = 1e-10;

/** One frame's formant results; NaN where a formant was not found. */
export interface FormantFrame {
  /** F1..F3 (Hz). */
  readonly freqHz: Float64Array;
  /** Bandwidths of F1..F3 (Hz). */
  readonly bwHz: Float64Array;
  /** LPC envelope level at F1 minus the level at F3 (dB). */
  a1a3Db: number;
}

/** A packed-double JS array of zeros. */
function doubles(n: number): number[] {
  const a = Array.from({ length: n }, () => 0.5);
  a.fill(0);
  return a;
}

export class LpcFormants {
  readonly out: FormantFrame = { freqHz: new Float64Array(3), bwHz: new Float64Array(3), a1a3Db: Number.NaN };
  // Packed-double JS arrays for the working buffers: V8 reads them faster
  // than typed arrays in these short loops.
  private readonly x = doubles(N);
  private readonly r = doubles(LPC_ORDER + 1);
  /** a[0] = 1, A(z) = Σ a[k] z^−k. */
  readonly a = doubles(LPC_ORDER + 1);
  private readonly tmp = doubles(LPC_ORDER + 1);
  private readonly zr = doubles(LPC_ORDER);
  private readonly zi = doubles(LPC_ORDER);
  /** Whether zr/zi hold the last frame's converged roots (the next frame's warm start). */
  private warm = false;
  private readonly candF = new Float64Array(LPC_ORDER);
  private readonly candB = new Float64Array(LPC_ORDER);

  /** Analyses the N samples of `frame` from `offset`; results in `out`. */
  analyze(frame: Float32Array | Float64Array, offset = 0): FormantFrame {
    const o = this.out;
    o.freqHz.fill(Number.NaN);
    o.bwHz.fill(Number.NaN);
    o.a1a3Db = Number.NaN;
    const x = this.x;
    let prev = 0;
    for (let i = 0; i < N; i++) {
      const s = frame[offset + i]!;
      x[i] = (s - PRE_EMPHASIS * prev) * HANN[i]!;
      prev = s;
    }
    const r = this.r;
    // Autocorrelation, four lags per pass: each lag still sums over i in
    // ascending order (bit-identical), but four independent accumulators
    // overlap instead of waiting on one chain of additions.
    let k = 0;
    for (; k + 3 <= LPC_ORDER; k += 4) {
      let r0 = 0;
      let r1 = 0;
      let r2 = 0;
      let r3 = 0;
      // i = k .. k+2: only the lags already in range.
      r0 += x[k]! * x[0]!;
      r0 += x[k + 1]! * x[1]!;
      r1 += x[k + 1]! * x[0]!;
      r0 += x[k + 2]! * x[2]!;
      r1 += x[k + 2]! * x[1]!;
      r2 += x[k + 2]! * x[0]!;
      for (let i = k + 3; i < N; i++) {
        const xi = x[i]!;
        r0 += xi * x[i - k]!;
        r1 += xi * x[i - k - 1]!;
        r2 += xi * x[i - k - 2]!;
        r3 += xi * x[i - k - 3]!;
      }
      r[k] = r0 * LAG_WINDOW[k]!;
      r[k + 1] = r1 * LAG_WINDOW[k + 1]!;
      r[k + 2] = r2 * LAG_WINDOW[k + 2]!;
      r[k + 3] = r3 * LAG_WINDOW[k + 3]!;
    }
    // The last three lags (order 10: 8, 9, 10) likewise, three accumulators.
    if (LPC_ORDER - k === 2) {
      let r0 = 0;
      let r1 = 0;
      let r2 = 0;
      r0 += x[k]! * x[0]!;
      r0 += x[k + 1]! * x[1]!;
      r1 += x[k + 1]! * x[0]!;
      for (let i = k + 2; i < N; i++) {
        const xi = x[i]!;
        r0 += xi * x[i - k]!;
        r1 += xi * x[i - k - 1]!;
        r2 += xi * x[i - k - 2]!;
      }
      r[k] = r0 * LAG_WINDOW[k]!;
      r[k + 1] = r1 * LAG_WINDOW[k + 1]!;
      r[k + 2] = r2 * LAG_WINDOW[k + 2]!;
      k += 3;
    }
    for (; k <= LPC_ORDER; k++) {
      let acc = 0;
      for (let i = k; i < N; i++) acc += x[i]! * x[i - k]!;
      r[k] = acc * LAG_WINDOW[k]!;
    }
    if (!(r[0]! > 1e-12)) return o;
    r[0] = r[0]! * (1 + 1e-6);
    if (!this.levinson()) return o;
    if (!this.solve()) return o;

    let n = 0;
    for (let i = 0; i < LPC_ORDER; i++) {
      const im = this.zi[i]!;
      if (im <= 0) continue;
      const re = this.zr[i]!;
      const mag = Math.hypot(re, im);
      const f = (Math.atan2(im, re) * RATE) / (2 * Math.PI);
      const bw = (-Math.log(mag) * RATE) / Math.PI;
      if (f <= MIN_FORMANT_HZ || f >= MAX_FORMANT_HZ || !(bw > 0) || bw >= MAX_BANDWIDTH_HZ) continue;
      // Insertion by frequency.
      let j = n - 1;
      while (j >= 0 && this.candF[j]! > f) {
        this.candF[j + 1] = this.candF[j]!;
        this.candB[j + 1] = this.candB[j]!;
        j--;
      }
      this.candF[j + 1] = f;
      this.candB[j + 1] = bw;
      n++;
    }
    for (let i = 0; i < 3 && i < n; i++) {
      o.freqHz[i] = this.candF[i]!;
      o.bwHz[i] = this.candB[i]!;
    }
    if (n >= 3) o.a1a3Db = this.envelopeDb(this.candF[0]!) - this.envelopeDb(this.candF[2]!);
    return o;
  }

  /** 10·log10(1 / |A(e^{jω})|²) at `hz`. */
  envelopeDb(hz: number): number {
    const w = (2 * Math.PI * hz) / RATE;
    let re = 0;
    let im = 0;
    for (let k = 0; k <= LPC_ORDER; k++) {
      re += this.a[k]! * Math.cos(w * k);
      im -= this.a[k]! * Math.sin(w * k);
    }
    return -10 * Math.log10(re * re + im * im + 1e-20);
  }

  /** Levinson–Durbin on `r` into `a`; false if the recursion breaks down. */
  private levinson(): boolean {
    const a = this.a;
    const t = this.tmp;
    const r = this.r;
    a.fill(0);
    a[0] = 1;
    let err = r[0]!;
    for (let i = 1; i <= LPC_ORDER; i++) {
      let acc = r[i]!;
      for (let j = 1; j < i; j++) acc += a[j]! * r[i - j]!;
      const k = -acc / err;
      if (!(Math.abs(k) < 1)) return false;
      for (let j = 0; j < i; j++) t[j] = a[j]!;
      for (let j = 1; j < i; j++) a[j] = t[j]! + k * t[i - j]!;
      a[i] = k;
      err *= 1 - k * k;
      if (!(err > 0)) return false;
    }
    return true;
  }

  /**
   * The roots of A(z) into zr/zi: from the previous frame's roots when it
   * had them, else (or when that does not converge within WARM_MAX_ITER)
   * from the fixed start points. Both converge to the same roots (to
   * CONVERGED_STEP), so the formants do not depend on which start was used
   * beyond rounding (golden test: within 1e-4 of the cold-start values).
   */
  private solve(): boolean {
    const zr = this.zr;
    const zi = this.zi;
    if (this.warm) {
      for (let i = 0; i < LPC_ORDER; i++) {
        const re = zr[i]!;
        const im = zi[i]!;
        zr[i] = re * WARM_COS - im * WARM_SIN;
        zi[i] = re * WARM_SIN + im * WARM_COS;
      }
      if (this.roots(WARM_MAX_ITER) === 1) return true;
    }
    // Standard start points (0.4 + 0.9i)^k, all distinct and off the axes.
    let sr = 1;
    let si = 0;
    for (let i = 0; i < LPC_ORDER; i++) {
      const nr = sr * 0.4 - si * 0.9;
      const ni = sr * 0.9 + si * 0.4;
      sr = nr;
      si = ni;
      zr[i] = sr;
      zi[i] = si;
    }
    const cold = this.roots(MAX_ITER);
    // Only converged roots make a good start; after anything else the next frame starts cold.
    this.warm = cold === 1;
    return cold !== -1;
  }

  /**
   * Durand–Kerner iteration of z^p + a1 z^{p−1} + … + ap from the start
   * points in zr/zi, at most `maxIter` iterations. Returns 1 when converged,
   * 0 when the cap was reached first (the roots are as far as they got),
   * −1 when the iteration broke down (coincident points, overflow).
   * The order-10 coefficients sit in locals and Horner's rule is unrolled,
   * and the product over the other roots runs in two loops (j < i, j > i)
   * instead of testing j = i: the same operations in the same order as the
   * plain loops, ≈ a third fewer instructions.
   */
  private roots(maxIter: number): -1 | 0 | 1 {
    const p = LPC_ORDER;
    const zr = this.zr;
    const zi = this.zi;
    const a = this.a;
    const a1 = a[1]!;
    const a2 = a[2]!;
    const a3 = a[3]!;
    const a4 = a[4]!;
    const a5 = a[5]!;
    const a6 = a[6]!;
    const a7 = a[7]!;
    const a8 = a[8]!;
    const a9 = a[9]!;
    const a10 = a[10]!;
    for (let it = 0; it < maxIter; it++) {
      let maxStep = 0;
      for (let i = 0; i < p; i++) {
        const xr = zr[i]!;
        const xi = zi[i]!;
        // Horner: value of the monic polynomial at z_i (v ← v·z + a_k, k = 1..10).
        // The first step from v = 1 written out as the loop computed it (0·x keeps the sign of zero).
        let vr = xr - 0 * xi + a1;
        let vi = xi + 0 * xr;
        let nr = vr * xr - vi * xi + a2;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a3;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a4;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a5;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a6;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a7;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a8;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a9;
        vi = vr * xi + vi * xr;
        vr = nr;
        nr = vr * xr - vi * xi + a10;
        vi = vr * xi + vi * xr;
        vr = nr;
        // Product of (z_i − z_j), j ≠ i, in ascending j.
        let dr = 1;
        let di = 0;
        for (let j = 0; j < i; j++) {
          const er = xr - zr[j]!;
          const ei = xi - zi[j]!;
          const mr = dr * er - di * ei;
          di = dr * ei + di * er;
          dr = mr;
        }
        for (let j = i + 1; j < p; j++) {
          const er = xr - zr[j]!;
          const ei = xi - zi[j]!;
          const mr = dr * er - di * ei;
          di = dr * ei + di * er;
          dr = mr;
        }
        const den = dr * dr + di * di;
        if (!(den > 1e-300)) return -1;
        const qr = (vr * dr + vi * di) / den;
        const qi = (vi * dr - vr * di) / den;
        zr[i] = xr - qr;
        zi[i] = xi - qi;
        const step = Math.abs(qr) + Math.abs(qi);
        if (step > maxStep) maxStep = step;
      }
      if (!Number.isFinite(maxStep)) return -1;
      if (maxStep < CONVERGED_STEP) return 1;
    }
    return 0;
  }
}
