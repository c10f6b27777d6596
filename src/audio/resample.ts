/**
 * Streaming sample-rate conversion to the pipeline rate (8 kHz), for L16
 * gateways (16 kHz and others) and for WAV files at any rate. Exactly 2:1
 * (16 → 8 kHz, the wideband gateways) goes through the half-band
 * decimator (halfband.ts), a quarter of the cost; every other ratio here.
 *
 * A polyphase Kaiser-windowed-sinc filter: the output at input time t is
 * Σ x[j]·h(t − j), with h a low-pass at 0.925 × the lower Nyquist (3.7 kHz
 * when going to 8 kHz) spanning 32 zero crossings each side (β = 8, about
 * −80 dB stop band, transition ≈ 3.4–4.0 kHz going to 8 kHz). For a ratio
 * in/out = num/den in lowest terms there are `den` phases, computed once per
 * ratio and shared read-only by all calls. Per call, the resampler keeps only
 * the last few input samples and its phase, so chunk boundaries do not
 * change the output.
 */
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import { HalfbandDecimator } from './halfband.js';
import { InputHistory } from './input-history.js';
import { kaiser } from './kaiser.js';

/** Streaming converter from one rate to another. One per call and direction; never share. */
export interface Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /**
   * Converts the next input samples; returns the output samples they
   * completed (a new array; may be empty). Output lags input by the filter's
   * half length (≈ 4 ms), which `flush` releases at the end of a stream.
   */
  process(input: Float32Array): Float32Array;
  /** Pushes enough silence to release every output the input so far determines. */
  flush(): Float32Array;
}

const ZERO_CROSSINGS = 32;
const CUTOFF_SHARE = 0.925;
/** Above this many phases, positions are truncated to one of this many (error < 1/1024 sample). */
const MAX_PHASES = 1024;

interface PolyphaseTable {
  num: number;
  den: number;
  phases: number;
  taps: number;
  half: number;
  /** phases × taps, row p holds the weights for fractional position p / phases. */
  weights: Float64Array;
  /**
   * Integer ratios (den = 1: one phase, an output on every num-th input):
   * the weight at distance t = 0 … half − 1 from the output's input, which
   * the filter has on both sides (the windowed sinc is even; at −half the
   * window is 0), so an output takes half the multiplies.
   */
  folded: Float64Array | undefined;
}

const tables = new Map<string, PolyphaseTable>();

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}


function tableFor(inRate: number, outRate: number): PolyphaseTable {
  const key = `${inRate}/${outRate}`;
  const cached = tables.get(key);
  if (cached !== undefined) return cached;
  const g = gcd(inRate, outRate);
  const num = inRate / g;
  const den = outRate / g;
  const phases = Math.min(den, MAX_PHASES);
  // Cutoff as a fraction of the input rate.
  const fc = (CUTOFF_SHARE * Math.min(inRate, outRate)) / 2 / inRate;
  const half = Math.ceil(ZERO_CROSSINGS / (2 * fc));
  const taps = 2 * half;
  const weights = new Float64Array(phases * taps);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    for (let k = 0; k < taps; k++) {
      // Distance from the output instant to input sample (i - half + 1 + k).
      const t = half - 1 - k + frac;
      const r = t / half;
      const window = kaiser(r);
      const arg = 2 * fc * t;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      weights[p * taps + k] = 2 * fc * sinc * window;
    }
  }
  const folded = den === 1 ? Float64Array.from({ length: half }, (_, t) => weights[half - 1 - t]!) : undefined;
  const table: PolyphaseTable = { num, den, phases, taps, half, weights, folded };
  tables.set(key, table);
  return table;
}

class PolyphaseResampler implements Resampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly t: PolyphaseTable;
  /** Input samples, from the zero history before sample 0. */
  private readonly input: InputHistory;
  /** Next output's input position is `pos + phaseNum / den` (integer part, numerator). */
  private pos = 0;
  private phaseNum = 0;
  private flushed = false;

  constructor(inRate: number, outRate: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    this.t = tableFor(inRate, outRate);
    this.input = new InputHistory(this.t.half, 2 * this.t.taps + 1024);
  }

  process(input: Float32Array): Float32Array {
    if (this.flushed) throw new Error('resampler already flushed');
    this.input.append(input);
    return this.drain();
  }

  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.input.append(new Float32Array(this.t.half + 1));
    const out = this.drain(this.input.end - this.t.half - 1);
    this.flushed = true;
    return out;
  }

  /** Emits every output whose filter support has arrived (and, when flushing, lies before `limit`). */
  private drain(limit = Number.POSITIVE_INFINITY): Float32Array {
    const { num, den, phases, taps, half, weights } = this.t;
    const available = this.input.end; // one past the last input index held
    // Count outputs first so the result is allocated once.
    let count = 0;
    {
      let pos = this.pos;
      let ph = this.phaseNum;
      while (pos + half < available && pos < limit) {
        count++;
        ph += num;
        pos += Math.floor(ph / den);
        ph %= den;
      }
    }
    const out = new Float32Array(count);
    const buf = this.input.buf;
    const bufStart = this.input.start;
    const folded = this.t.folded;
    if (folded !== undefined) {
      // One phase: the output at input `pos` from the pairs of inputs at equal distances.
      let c = this.pos - bufStart;
      for (let n = 0; n < count; n++, c += num) {
        // Two accumulators, so that the adds of one output overlap.
        let a0 = folded[0]! * buf[c]!;
        let a1 = 0;
        let t = 1;
        for (; t + 1 < half; t += 2) {
          a0 += folded[t]! * (buf[c - t]! + buf[c + t]!);
          a1 += folded[t + 1]! * (buf[c - t - 1]! + buf[c + t + 1]!);
        }
        if (t < half) a0 += folded[t]! * (buf[c - t]! + buf[c + t]!);
        out[n] = a0 + a1;
      }
      this.pos += count * num;
      this.input.dropBefore(this.pos - half + 1);
      return out;
    }
    for (let n = 0; n < count; n++) {
      const p = phases === den ? this.phaseNum : Math.floor((this.phaseNum * phases) / den);
      const first = this.pos - half + 1 - bufStart;
      const row = p * taps;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += buf[first + k]! * weights[row + k]!;
      out[n] = acc;
      this.phaseNum += num;
      this.pos += Math.floor(this.phaseNum / den);
      this.phaseNum %= den;
    }
    // Drop input no longer needed by the next output's support.
    this.input.dropBefore(this.pos - half + 1);
    return out;
  }
}

class PassThrough implements Resampler {
  readonly inRate: number;
  readonly outRate: number;
  constructor(rate: number) {
    this.inRate = rate;
    this.outRate = rate;
  }
  process(input: Float32Array): Float32Array {
    return input;
  }
  flush(): Float32Array {
    return new Float32Array(0);
  }
}

/**
 * Creates a streaming resampler from `inRate` to `outRate` (default the
 * pipeline's 8 kHz). Equal rates pass samples through untouched (the same
 * array is returned).
 */
export function createResampler(inRate: number, outRate = PIPELINE_SAMPLE_RATE): Resampler {
  if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
    throw new RangeError(`sample rates must be positive integers (got ${inRate} → ${outRate})`);
  }
  if (inRate === outRate) return new PassThrough(inRate);
  // 16 → 8 kHz, the wideband gateways' rate: the half-band filter costs a quarter of the generic one.
  if (inRate === 2 * outRate) return new HalfbandDecimator(inRate);
  return new PolyphaseResampler(inRate, outRate);
}

/**
 * The outputs a fresh resampler from `inRate` to `outRate` has given after
 * `inputs` input samples (before `flush`), in closed form: for equal rates,
 * 2:1 (the half-band decimator) and other integer ratios (one phase);
 * undefined for fractional ratios, whose phases this does not model. A DSP
 * worker uses it to tell from wire bytes whether held audio would complete
 * a window.
 */
export function outputsAfter(inRate: number, outRate = PIPELINE_SAMPLE_RATE): ((inputs: number) => number) | undefined {
  if (inRate === outRate) return (inputs) => inputs;
  if (inRate === 2 * outRate) return (inputs) => HalfbandDecimator.outputsAfter(inputs);
  const t = tableFor(inRate, outRate);
  if (t.den !== 1) return undefined;
  // Output n sits on input n·num and waits for input n·num + half.
  return (inputs) => (inputs > t.half ? Math.floor((inputs - t.half - 1) / t.num) + 1 : 0);
}

/**
 * The generic polyphase resampler for any ratio, 2:1 included (where
 * `createResampler` takes the half-band decimator): for comparing the two
 * (scripts/resample-cost.ts, test/audio/resample.test.ts).
 */
export function createPolyphaseResampler(inRate: number, outRate = PIPELINE_SAMPLE_RATE): Resampler {
  if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0 || inRate === outRate) {
    throw new RangeError(`polyphase resampling needs two different positive integer rates (got ${inRate} → ${outRate})`);
  }
  return new PolyphaseResampler(inRate, outRate);
}

/** Converts a whole signal at once (a fresh resampler, flushed at the end). */
export function resampleAll(samples: Float32Array, inRate: number, outRate = PIPELINE_SAMPLE_RATE): Float32Array {
  if (inRate === outRate) return samples;
  const r = createResampler(inRate, outRate);
  const head = r.process(samples);
  const tail = r.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
