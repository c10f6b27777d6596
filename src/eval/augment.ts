/**
 * Phone-line augmentation for training calls: level changes, line noise and
 * packet loss (20 ms frames zeroed, as a jitter buffer's silence concealment
 * would leave them). Deterministic from a seed.
 */

export { createRng, hashString, shuffle } from '../shared/random.js';

/** Standard normal deviate (Box–Muller). */
export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** How one augmented call sounds; drawn once per call so the call stays consistent. */
export interface LineCondition {
  /** Gain applied to every clip of the call, dB. */
  callGainDb: number;
  /** Further random gain per clip, ± this many dB (uniform). */
  clipGainJitterDb: number;
  /** Line noise level, dBFS RMS (white, low-passed a little). */
  noiseDbfs: number;
  /** Probability that a 20 ms frame is lost (zeroed). */
  lossRate: number;
}

/** Draws a line condition: gain −12..+6 dB, noise −65..−40 dBFS, loss 0..4 %. */
export function drawLineCondition(rng: () => number): LineCondition {
  return {
    callGainDb: -12 + 18 * rng(),
    clipGainJitterDb: 2,
    noiseDbfs: -65 + 25 * rng(),
    lossRate: rng() < 0.5 ? 0 : 0.04 * rng(),
  };
}

const FRAME = 160; // 20 ms at 8 kHz

/**
 * Adds low-level line noise to `out` in place (a one-pole low-pass softens
 * white noise into something closer to a line hiss).
 */
export function addLineNoise(out: Float32Array, noiseDbfs: number, rng: () => number): void {
  const rms = 10 ** (noiseDbfs / 20);
  // One-pole low-pass with a = 0.5 halves the variance of white noise's
  // output by 1/(1-a^2) ≈ 0.75; scale up to keep the stated RMS.
  const a = 0.5;
  const scale = rms / Math.sqrt(1 / (1 - a * a));
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    y = a * y + gaussian(rng);
    out[i] = out[i]! + scale * y;
  }
}

/** Applies a line condition to one clip's 8 kHz samples, in place. */
export function applyLineCondition(samples: Float32Array, cond: LineCondition, rng: () => number): void {
  const gainDb = cond.callGainDb + cond.clipGainJitterDb * (2 * rng() - 1);
  const g = 10 ** (gainDb / 20);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]! * g;
    samples[i] = v > 1 ? 1 : v < -1 ? -1 : v;
  }
  addLineNoise(samples, cond.noiseDbfs, rng);
  if (cond.lossRate > 0) {
    for (let s = 0; s < samples.length; s += FRAME) {
      if (rng() < cond.lossRate) samples.fill(0, s, Math.min(samples.length, s + FRAME));
    }
  }
}
