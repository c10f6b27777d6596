/**
 * Telephone-band normalisation: a 4th-order Butterworth high-pass at 300 Hz
 * and a 4th-order Butterworth low-pass at 3400 Hz, as four streaming
 * biquads.
 *
 * Why: the model is trained on wideband speech resampled to 8 kHz (energy
 * from 50 Hz to 3.9 kHz) but serves real calls whose network already
 * removed what lies outside roughly 300–3400 Hz, and some VoIP legs do not.
 * Passing every signal through the same band first makes the features of a
 * corpus clip and of a live call comparable. Filter state is per call, so
 * chunk boundaries do not change the output.
 */

/** Lower and upper band edges (Hz) of the telephone band used for every feature. */
export const TELEPHONE_BAND_HZ = Object.freeze({ low: 300, high: 3400 });

/** Q values of the two sections of a 4th-order Butterworth filter. */
const BUTTERWORTH4_Q = [0.5411961001461969, 1.3065629648763766] as const;

export interface Section {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

function section(kind: 'low' | 'high', cutoffHz: number, q: number, sampleRate: number): Section {
  // RBJ audio EQ cookbook biquads, normalised by a0.
  const w0 = (2 * Math.PI * cutoffHz) / sampleRate;
  const cosW = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b1 = kind === 'low' ? 1 - cosW : -(1 + cosW);
  const b0 = kind === 'low' ? (1 - cosW) / 2 : (1 + cosW) / 2;
  return { b0: b0 / a0, b1: b1 / a0, b2: b0 / a0, a1: (-2 * cosW) / a0, a2: (1 - alpha) / a0 };
}

/** A streaming cascade of biquads (transposed direct form II); one per call and signal. */
export class BiquadCascade {
  /** b0, b1, b2, a1, a2 per section. Read by fused block loops (features/front-end.ts). */
  readonly coef: Float64Array;
  /** Two state words per section; fused block loops read and write it back. */
  readonly state: Float64Array;
  readonly sections: number;

  constructor(list: readonly Section[]) {
    this.sections = list.length;
    this.coef = new Float64Array(list.length * 5);
    list.forEach((s, i) => this.coef.set([s.b0, s.b1, s.b2, s.a1, s.a2], i * 5));
    this.state = new Float64Array(list.length * 2);
  }

  /** Filters one sample. */
  step(x: number): number {
    const c = this.coef;
    const z = this.state;
    let v = x;
    for (let s = 0; s < this.sections; s++) {
      const k = s * 5;
      const j = s * 2;
      const y = c[k]! * v + z[j]!;
      z[j] = c[k + 1]! * v - c[k + 3]! * y + z[j + 1]!;
      z[j + 1] = c[k + 2]! * v - c[k + 4]! * y;
      v = y;
    }
    return v;
  }

  /**
   * Zeroes state words that decayed to subnormal range (after digital
   * silence), where float arithmetic is many times slower. Call it at fixed
   * sample positions (not per push), so chunking cannot change the output.
   */
  flushDenormals(): void {
    const z = this.state;
    for (let i = 0; i < z.length; i++) if (Math.abs(z[i]!) < 1e-30) z[i] = 0;
  }

  /** Filters a block into `out` (may be the same array as `input`). */
  process(input: Float32Array, out: Float32Array = new Float32Array(input.length)): Float32Array {
    for (let i = 0; i < input.length; i++) out[i] = this.step(input[i]!);
    return out;
  }
}

/** Streaming telephone band-pass (300–3400 Hz, 4th-order Butterworth each side); one per call. */
export class TelephoneBandFilter extends BiquadCascade {
  constructor(sampleRate = 8000, lowHz: number = TELEPHONE_BAND_HZ.low, highHz: number = TELEPHONE_BAND_HZ.high) {
    super([
      section('high', lowHz, BUTTERWORTH4_Q[0], sampleRate),
      section('high', lowHz, BUTTERWORTH4_Q[1], sampleRate),
      section('low', highHz, BUTTERWORTH4_Q[0], sampleRate),
      section('low', highHz, BUTTERWORTH4_Q[1], sampleRate),
    ]);
  }
}

/** Streaming 4th-order Butterworth low-pass; one per call. */
export class LowPassFilter extends BiquadCascade {
  constructor(cutoffHz: number, sampleRate = 8000) {
    super([section('low', cutoffHz, BUTTERWORTH4_Q[0], sampleRate), section('low', cutoffHz, BUTTERWORTH4_Q[1], sampleRate)]);
  }
}
