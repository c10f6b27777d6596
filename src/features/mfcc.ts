/**
 * Mel-frequency cepstral coefficients over the telephone band.
 *
 * Why not Meyda's `mfcc`: it takes log(1 + mel energy) of an unnormalised
 * spectrum, which is nearly linear for quiet bands, so its coefficients
 * depend on recording level (a corpus fingerprint here), and it allocates
 * ~27 arrays per frame. This is the textbook version: triangular filters
 * equally spaced in mel over 300–3400 Hz, natural log of the filter energy
 * with a −120 dB floor, orthonormal DCT-II. Tables are built once and shared.
 */
import { TELEPHONE_BAND_HZ } from '../audio/telephone-band.js';

const MEL_FILTERS = 20;

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (Math.pow(10, mel / 2595) - 1);

export interface MelBank {
  filters: number;
  /** First bin of each filter. */
  start: Int32Array;
  /** Number of bins of each filter. */
  length: Int32Array;
  /** Weights, filter after filter (offsets = running sum of `length`). */
  weights: Float64Array;
  offset: Int32Array;
}

/** Triangular mel filter bank over `lowHz..highHz` for a spectrum of `bins` bins spaced `binHz`. */
export function melBank(bins: number, binHz: number, filters = MEL_FILTERS, lowHz = TELEPHONE_BAND_HZ.low, highHz = TELEPHONE_BAND_HZ.high): MelBank {
  const lo = hzToMel(lowHz);
  const hi = hzToMel(highHz);
  const edges = Array.from({ length: filters + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (filters + 1)));
  const start = new Int32Array(filters);
  const length = new Int32Array(filters);
  const offset = new Int32Array(filters);
  const all: number[] = [];
  for (let m = 0; m < filters; m++) {
    const left = edges[m]!;
    const centre = edges[m + 1]!;
    const right = edges[m + 2]!;
    const first = Math.max(0, Math.ceil(left / binHz));
    const last = Math.min(bins - 1, Math.floor(right / binHz));
    start[m] = first;
    offset[m] = all.length;
    for (let k = first; k <= last; k++) {
      const hz = k * binHz;
      const w = hz <= centre ? (hz - left) / (centre - left) : (right - hz) / (right - centre);
      all.push(Math.max(0, w));
    }
    length[m] = last - first + 1;
  }
  return { filters, start, length, weights: Float64Array.from(all), offset };
}

/** Orthonormal DCT-II matrix, `count` rows × `size` columns. */
function dctMatrix(count: number, size: number): Float64Array {
  const m = new Float64Array(count * size);
  for (let n = 0; n < count; n++) {
    const scale = n === 0 ? Math.sqrt(1 / size) : Math.sqrt(2 / size);
    for (let k = 0; k < size; k++) m[n * size + k] = scale * Math.cos((Math.PI * n * (k + 0.5)) / size);
  }
  return m;
}

/** Mel banks and DCT matrices by layout (`bins/binHz/count`); never written after they are built. */
const TABLES = new Map<string, { bank: MelBank; dct: Float64Array }>();

/** MFCC computer for one spectrum layout; holds only scratch space. */
export class MfccComputer {
  private readonly bank: MelBank;
  private readonly dct: Float64Array;
  private readonly logMel: Float64Array;
  readonly count: number;

  constructor(bins: number, binHz: number, count: number) {
    // The filter bank and DCT are constants of the layout: built once per thread and shared (one computer per live call).
    const key = `${bins}/${binHz}/${count}`;
    let tables = TABLES.get(key);
    if (tables === undefined) {
      const bank = melBank(bins, binHz);
      tables = { bank, dct: dctMatrix(count, bank.filters) };
      TABLES.set(key, tables);
    }
    this.bank = tables.bank;
    this.count = count;
    this.dct = tables.dct;
    this.logMel = new Float64Array(this.bank.filters);
  }

  /** Writes `count` coefficients of the power spectrum `power` into `out`. */
  compute(power: Float64Array, out: Float64Array): void {
    const { filters, start, length, weights, offset } = this.bank;
    for (let m = 0; m < filters; m++) {
      let e = 0;
      const s = start[m]!;
      const o = offset[m]!;
      const len = length[m]!;
      for (let j = 0; j < len; j++) e += weights[o + j]! * power[s + j]!;
      this.logMel[m] = Math.log(e + 1e-12);
    }
    // DCT four rows per pass: each coefficient still sums over m in
    // ascending order (bit-identical), in four independent addition chains.
    const dct = this.dct;
    const logMel = this.logMel;
    let n = 0;
    for (; n + 4 <= this.count; n += 4) {
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      const r0 = n * filters;
      const r1 = r0 + filters;
      const r2 = r1 + filters;
      const r3 = r2 + filters;
      for (let m = 0; m < filters; m++) {
        const v = logMel[m]!;
        c0 += dct[r0 + m]! * v;
        c1 += dct[r1 + m]! * v;
        c2 += dct[r2 + m]! * v;
        c3 += dct[r3 + m]! * v;
      }
      out[n] = c0;
      out[n + 1] = c1;
      out[n + 2] = c2;
      out[n + 3] = c3;
    }
    for (; n < this.count; n++) {
      let c = 0;
      const row = n * filters;
      for (let m = 0; m < filters; m++) c += dct[row + m]! * logMel[m]!;
      out[n] = c;
    }
  }
}
