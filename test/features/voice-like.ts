/** Synthetic speech-like signals for the extractor tests. */
import { harmonicComplex, mix, whiteNoise } from '../../src/audio/synth.js';

export interface VoiceLikeOptions {
  durationS: number;
  /** Mean F0 (Hz). Default 140. */
  f0Hz?: number;
  /** Syllables per second (raised-cosine amplitude modulation). Default 4. */
  syllableRate?: number;
  /** Peak amplitude. Default 0.2. */
  amplitude?: number;
  /** Background noise RMS. Default 0.0005 (≈ −66 dBFS). */
  noiseRms?: number;
  seed?: number;
  /** Harmonic tilt (lower = more vocal effort). Default 1. */
  tilt?: number;
}

/**
 * A harmonic complex with slow intonation (±2 semitones at 0.4 Hz) and a
 * syllable-rate envelope whose dips fall 26 dB below its peaks, over faint
 * noise: voiced "syllables" at a known rate.
 */
export function voiceLike(o: VoiceLikeOptions): Float32Array {
  const f0 = o.f0Hz ?? 140;
  const rate = o.syllableRate ?? 4;
  const voice = harmonicComplex({
    durationS: o.durationS,
    f0Hz: (t) => f0 * Math.pow(2, (2 * Math.sin(2 * Math.PI * 0.4 * t)) / 12),
    amplitude: o.amplitude ?? 0.2,
    tilt: o.tilt ?? 1,
    envelope: (t) => 0.05 + 0.95 * Math.pow(0.5 - 0.5 * Math.cos(2 * Math.PI * rate * t), 2),
  });
  return mix(voice, whiteNoise(o.durationS, o.noiseRms ?? 0.0005, o.seed ?? 7));
}
