/**
 * Typed access to Meyda's individual feature extractors.
 *
 * Meyda ships CommonJS at runtime with ESM-style typings, which under
 * NodeNext type the default import as the module namespace; the object we
 * get at runtime is Meyda itself. We call its extractors directly with our
 * own preallocated spectrum rather than `Meyda.extract`, which re-windows
 * and re-transforms the frame for every call and allocates a result object
 * per feature. Extractors are pure functions of their arguments, so one
 * Meyda serves every call; its global settings (bufferSize, sampleRate) are
 * never read on this path.
 */
import MeydaModule from 'meyda';

/** Arguments the extractors read (a subset of what `Meyda.extract` passes). */
export interface MeydaExtractorArgs {
  signal?: Float32Array;
  ampSpectrum?: Float32Array;
  barkScale?: Float32Array;
  sampleRate?: number;
  bufferSize?: number;
  numberOfBarkBands?: number;
}

interface MeydaRuntime {
  featureExtractors: {
    rms(args: MeydaExtractorArgs): number;
    zcr(args: MeydaExtractorArgs): number;
    spectralCentroid(args: MeydaExtractorArgs): number;
    spectralSpread(args: MeydaExtractorArgs): number;
    spectralFlatness(args: MeydaExtractorArgs): number;
    spectralSlope(args: MeydaExtractorArgs): number;
    spectralRolloff(args: MeydaExtractorArgs): number;
    loudness(args: MeydaExtractorArgs): { specific: Float32Array; total: number };
  };
  bufferSize: number;
  sampleRate: number;
  numberOfMFCCCoefficients: number;
  windowingFunction: string;
  extract(features: string | string[], signal: Float32Array): Record<string, unknown> | null;
}

/** Meyda as it is at runtime. */
export const meyda = MeydaModule as unknown as MeydaRuntime;

/** Meyda's extractors, typed. */
export const meydaExtractors = meyda.featureExtractors;

/** Meyda's Bark scale (same formula as its `createBarkScale`), for the loudness extractor. */
export function barkScale(length: number, sampleRate: number, bufferSize: number): Float32Array {
  const scale = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const hz = (i * sampleRate) / bufferSize;
    scale[i] = 13 * Math.atan(hz / 1315.8) + 3.5 * Math.atan(Math.pow(hz / 7518, 2));
  }
  return scale;
}
