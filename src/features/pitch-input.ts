/**
 * The two signals the pitch tracker reads, derived sample by sample from
 * the telephone-band signal: the signal low-passed at 1 kHz (what YIN
 * analyses) and its rectified, DC-blocked, low-passed envelope (what the
 * octave check reads: it beats at F0 even when the band holds no energy
 * at F0).
 */
import { LowPassFilter } from '../audio/telephone-band.js';
import { FEATURE_CONFIG } from './feature-names.js';

/** DC blocker pole: corner ≈ 6 Hz at 8 kHz, far below any F0. */
export const DC_POLE = 0.995;

export class PitchInput {
  /** Last low-passed sample. */
  lowPassed = 0;
  /** Last envelope sample. */
  envelope = 0;
  /** The low-pass of the signal and of the envelope (public for the fused loop of features/front-end.ts). */
  readonly lp: LowPassFilter;
  readonly envLp: LowPassFilter;
  /** DC blocker state: last rectified sample and last output. */
  dcPrev = 0;
  dcState = 0;

  constructor(cutoffHz: number = FEATURE_CONFIG.pitchLowPassHz, sampleRate: number = FEATURE_CONFIG.sampleRate) {
    this.lp = new LowPassFilter(cutoffHz, sampleRate);
    this.envLp = new LowPassFilter(cutoffHz, sampleRate);
  }

  /** Consumes one telephone-band sample; results in `lowPassed` and `envelope`. */
  step(y: number): void {
    this.lowPassed = this.lp.step(y);
    const r = Math.abs(y);
    this.dcState = r - this.dcPrev + DC_POLE * this.dcState;
    this.dcPrev = r;
    this.envelope = this.envLp.step(this.dcState);
  }

  /** See BiquadCascade.flushDenormals: call at fixed sample positions. */
  flushDenormals(): void {
    this.lp.flushDenormals();
    this.envLp.flushDenormals();
    if (Math.abs(this.dcState) < 1e-30) this.dcState = 0;
  }

  /** Convenience for tests and tools: both signals of a whole block. */
  static of(band: Float32Array): { lowPassed: Float32Array; envelope: Float32Array } {
    const p = new PitchInput();
    const lowPassed = new Float32Array(band.length);
    const envelope = new Float32Array(band.length);
    for (let i = 0; i < band.length; i++) {
      p.step(band[i]!);
      lowPassed[i] = p.lowPassed;
      envelope[i] = p.envelope;
    }
    return { lowPassed, envelope };
  }
}
