/**
 * The per-sample front end of the feature stream in one fused loop: the
 * telephone band-pass (4 biquads), then the pitch tracker's inputs from the
 * band signal — its 1 kHz low-pass (2 biquads) and its rectified,
 * DC-blocked, low-passed envelope (2 biquads) — see telephone-band.ts and
 * pitch-input.ts.
 *
 * Why fused: one biquad is a chain of dependent multiply-adds, so a loop
 * running one section over a block waits on that chain at every sample. With
 * all eight sections' coefficients and state in locals, one loop over the
 * samples lets the CPU overlap the sections (and the two independent pitch
 * branches). Each sample goes through exactly the same arithmetic, in the same
 * order, as `TelephoneBandFilter.step` followed by `PitchInput.step`, so the
 * output is bit-identical; state lives in those objects between blocks.
 */
import { TelephoneBandFilter } from '../audio/telephone-band.js';
import { DC_POLE, PitchInput } from './pitch-input.js';

export class FeatureFrontEnd {
  readonly band: TelephoneBandFilter;
  readonly pitch: PitchInput;

  constructor(sampleRate: number) {
    this.band = new TelephoneBandFilter(sampleRate);
    this.pitch = new PitchInput();
    if (this.band.sections !== 4 || this.pitch.lp.sections !== 2 || this.pitch.envLp.sections !== 2) {
      throw new Error('FeatureFrontEnd: unexpected filter orders');
    }
  }

  /**
   * Consumes `n` samples of `input` from `inOffset` (non-finite ones as 0,
   * since a NaN would poison the filter state for the rest of the call).
   * Band signal, low-passed signal and envelope go to `bandOut`, `lowOut`,
   * `envOut` at `outOffset + i`, and again at `outOffset + mirror + i`.
   */
  process(
    input: Float32Array,
    inOffset: number,
    n: number,
    bandOut: Float32Array,
    lowOut: Float32Array,
    envOut: Float32Array,
    outOffset: number,
    mirror: number,
  ): void {
    const bc = this.band.coef;
    const bz = this.band.state;
    const lc = this.pitch.lp.coef;
    const lz = this.pitch.lp.state;
    const ec = this.pitch.envLp.coef;
    const ez = this.pitch.envLp.state;
    // Coefficients b0, b1, b2, a1, a2 of each section, in locals.
    const b10 = bc[0]!;
    const b11 = bc[1]!;
    const b12 = bc[2]!;
    const a11 = bc[3]!;
    const a12 = bc[4]!;
    const b20 = bc[5]!;
    const b21 = bc[6]!;
    const b22 = bc[7]!;
    const a21 = bc[8]!;
    const a22 = bc[9]!;
    const b30 = bc[10]!;
    const b31 = bc[11]!;
    const b32 = bc[12]!;
    const a31 = bc[13]!;
    const a32 = bc[14]!;
    const b40 = bc[15]!;
    const b41 = bc[16]!;
    const b42 = bc[17]!;
    const a41 = bc[18]!;
    const a42 = bc[19]!;
    const l10 = lc[0]!;
    const l11 = lc[1]!;
    const l12 = lc[2]!;
    const la11 = lc[3]!;
    const la12 = lc[4]!;
    const l20 = lc[5]!;
    const l21 = lc[6]!;
    const l22 = lc[7]!;
    const la21 = lc[8]!;
    const la22 = lc[9]!;
    const e10 = ec[0]!;
    const e11 = ec[1]!;
    const e12 = ec[2]!;
    const ea11 = ec[3]!;
    const ea12 = ec[4]!;
    const e20 = ec[5]!;
    const e21 = ec[6]!;
    const e22 = ec[7]!;
    const ea21 = ec[8]!;
    const ea22 = ec[9]!;
    let s1a = bz[0]!;
    let s1b = bz[1]!;
    let s2a = bz[2]!;
    let s2b = bz[3]!;
    let s3a = bz[4]!;
    let s3b = bz[5]!;
    let s4a = bz[6]!;
    let s4b = bz[7]!;
    let p1a = lz[0]!;
    let p1b = lz[1]!;
    let p2a = lz[2]!;
    let p2b = lz[3]!;
    let q1a = ez[0]!;
    let q1b = ez[1]!;
    let q2a = ez[2]!;
    let q2b = ez[3]!;
    let dcPrev = this.pitch.dcPrev;
    let dc = this.pitch.dcState;
    // Read once, not per sample: where this module is loaded as CommonJS (a DSP
    // worker under tsx), an imported binding is a getter call through the
    // exporting module's exports (≈ 4 % of a DSP thread, per V8's profiler).
    const dcPole = DC_POLE;
    for (let i = 0; i < n; i++) {
      const raw = input[inOffset + i]!;
      let v = Number.isFinite(raw) ? raw : 0;
      // Telephone band: y = b0·v + z0; z0 = b1·v − a1·y + z1; z1 = b2·v − a2·y (per section).
      let y = b10 * v + s1a;
      s1a = b11 * v - a11 * y + s1b;
      s1b = b12 * v - a12 * y;
      v = y;
      y = b20 * v + s2a;
      s2a = b21 * v - a21 * y + s2b;
      s2b = b22 * v - a22 * y;
      v = y;
      y = b30 * v + s3a;
      s3a = b31 * v - a31 * y + s3b;
      s3b = b32 * v - a32 * y;
      v = y;
      y = b40 * v + s4a;
      s4a = b41 * v - a41 * y + s4b;
      s4b = b42 * v - a42 * y;
      const band = y;
      // Pitch input: 1 kHz low-pass of the band signal …
      let u = band;
      let w = l10 * u + p1a;
      p1a = l11 * u - la11 * w + p1b;
      p1b = l12 * u - la12 * w;
      u = w;
      w = l20 * u + p2a;
      p2a = l21 * u - la21 * w + p2b;
      p2b = l22 * u - la22 * w;
      const low = w;
      // … and its envelope: rectify, DC-block, low-pass.
      const r = Math.abs(band);
      dc = r - dcPrev + dcPole * dc;
      dcPrev = r;
      u = dc;
      w = e10 * u + q1a;
      q1a = e11 * u - ea11 * w + q1b;
      q1b = e12 * u - ea12 * w;
      u = w;
      w = e20 * u + q2a;
      q2a = e21 * u - ea21 * w + q2b;
      q2b = e22 * u - ea22 * w;
      const p = outOffset + i;
      bandOut[p] = bandOut[p + mirror] = band;
      lowOut[p] = lowOut[p + mirror] = low;
      envOut[p] = envOut[p + mirror] = w;
    }
    bz[0] = s1a;
    bz[1] = s1b;
    bz[2] = s2a;
    bz[3] = s2b;
    bz[4] = s3a;
    bz[5] = s3b;
    bz[6] = s4a;
    bz[7] = s4b;
    lz[0] = p1a;
    lz[1] = p1b;
    lz[2] = p2a;
    lz[3] = p2b;
    ez[0] = q1a;
    ez[1] = q1b;
    ez[2] = q2a;
    ez[3] = q2b;
    this.pitch.dcPrev = dcPrev;
    this.pitch.dcState = dc;
  }

  /** See BiquadCascade.flushDenormals: call at fixed sample positions. */
  flushDenormals(): void {
    this.band.flushDenormals();
    this.pitch.flushDenormals();
  }
}
