/**
 * Streaming 2:1 decimation with a half-band FIR: 16 kHz L16 gateways
 * (Vonage, jambonz, FreeSWITCH wideband) to the pipeline's 8 kHz.
 *
 * Why not the generic polyphase filter (resample.ts): it cuts at 3.7 kHz
 * with 140 taps per output, ≈ 1 ms of CPU per call-second — as much as the
 * whole feature stream — for a 16 kHz call. A half-band filter cuts at a
 * quarter of the input rate (4 kHz), where the windowed sinc is zero at
 * every even tap but the centre: with the same 32 zero crossings a side
 * and the same Kaiser window (β = 8, ≈ −80 dB), an output needs 32
 * coefficients, each applied to the sum of two mirrored inputs, and the
 * centre tap (½). The transition band (≈ 3.7–4.3 kHz) sits above the
 * features' telephone band (300–3400 Hz): what folds back (inputs between
 * 4 and 4.3 kHz) lands between 3.7 and 4 kHz, outside it. Output n sits on
 * input 2n (no delay); chunking does not change the output.
 */
import { InputHistory } from './input-history.js';
import { kaiser } from './kaiser.js';
import type { Resampler } from './resample.js';

/** Zero crossings of the sinc on each side, as in the generic filter (and the same Kaiser window). */
const ZERO_CROSSINGS = 32;
/** Half length of the window, input samples: the sinc of a half-band filter crosses zero every 2. */
const HALF = 2 * ZERO_CROSSINGS;
/** Non-zero taps on each side of the centre: odd offsets 1, 3, …, HALF − 1. */
const SIDE_TAPS = HALF / 2;

/** COEF[j]: the weight of inputs 2n − (2j + 1) and 2n + (2j + 1) in output n. */
const COEF = (() => {
  const c = new Float64Array(SIDE_TAPS);
  for (let j = 0; j < SIDE_TAPS; j++) {
    const t = 2 * j + 1;
    const r = t / HALF;
    const window = kaiser(r);
    // ½ · sinc(t / 2): the cutoff at a quarter of the input rate.
    c[j] = (0.5 * Math.sin((Math.PI * t) / 2)) / ((Math.PI * t) / 2) * window;
  }
  return c;
})();
const CENTRE = 0.5;

export class HalfbandDecimator implements Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Input samples, from the zero history before sample 0 that output 0 reaches back to. */
  private readonly input = new InputHistory(HALF - 1, 2 * HALF + 1024);
  /** The next output's centre: input index 2n. */
  private pos = 0;
  private flushed = false;

  /**
   * Outputs a stream of `inputs` samples has given so far (before `flush`):
   * output n waits for input 2n + HALF − 1. A function of the input count
   * alone, so a DSP worker can tell from wire bytes whether held audio
   * would complete a window (src/dsp/dsp-worker.ts).
   */
  static outputsAfter(inputs: number): number {
    return inputs >= HALF ? Math.floor((inputs - HALF) / 2) + 1 : 0;
  }

  constructor(inRate: number) {
    if (inRate % 2 !== 0) throw new RangeError(`half-band decimation needs an even input rate, got ${inRate}`);
    this.inRate = inRate;
    this.outRate = inRate / 2;
  }

  process(input: Float32Array): Float32Array {
    if (this.flushed) throw new Error('resampler already flushed');
    this.input.append(input);
    return this.drain(Number.POSITIVE_INFINITY);
  }

  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    const end = this.input.end;
    this.input.append(new Float32Array(HALF));
    const out = this.drain(end);
    this.flushed = true;
    return out;
  }

  /** Every output whose support has arrived (and, when flushing, whose centre lies before `limit`). */
  private drain(limit: number): Float32Array {
    const available = this.input.end;
    // Output at centre p needs inputs up to p + HALF − 1.
    const last = Math.min(available - HALF, limit - 1);
    const count = last >= this.pos ? Math.floor((last - this.pos) / 2) + 1 : 0;
    const out = new Float32Array(count);
    const buf = this.input.buf;
    let c = this.pos - this.input.start;
    for (let n = 0; n < count; n++, c += 2) {
      // Two accumulators (even and odd j): the adds of one output overlap
      // instead of waiting on one chain.
      let a0 = CENTRE * buf[c]!;
      let a1 = 0;
      for (let j = 0, d = 1; j < SIDE_TAPS; j += 2, d += 4) {
        a0 += COEF[j]! * (buf[c - d]! + buf[c + d]!);
        a1 += COEF[j + 1]! * (buf[c - d - 2]! + buf[c + d + 2]!);
      }
      out[n] = a0 + a1;
    }
    this.pos += 2 * count;
    // Keep what the next output's support reaches back to.
    this.input.dropBefore(this.pos - (HALF - 1));
    return out;
  }
}
