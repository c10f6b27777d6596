/**
 * The Kaiser window shared by the resamplers' windowed-sinc filters
 * (resample.ts, halfband.ts): β = 8 gives about −80 dB in the stop band.
 */

export const KAISER_BETA = 8;

/** Modified Bessel function of the first kind, order 0 (series; converges fast for β ≤ 20). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/** The Kaiser window at r ∈ [−1, 1] (its centre at 0), 0 outside. */
export function kaiser(r: number): number {
  return Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / besselI0(KAISER_BETA);
}
