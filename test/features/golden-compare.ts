/**
 * Comparison of a fresh run against a golden record (see golden-run.ts):
 * the list of what differs beyond tolerance, and the largest differences.
 */
import type { DecodedRecord } from './golden-run.js';

/** Feature values may differ by float rounding: |Δ| ≤ VALUE_TOL · max(1, |golden|). */
export const VALUE_TOL = 1e-4;
/** F0 (Hz) of a voiced frame. */
export const F0_TOL_HZ = 1e-3;
export const APERIODICITY_TOL = 1e-5;
export const ENERGY_TOL_DB = 1e-4;

export interface GoldenDiff {
  /** Human-readable mismatches (empty = equivalent); at most 20 listed. */
  problems: string[];
  /** Largest |Δ| / max(1, |golden|) over all window values. */
  maxValueDiff: number;
  maxF0DiffHz: number;
  maxAperiodicityDiff: number;
  maxEnergyDiffDb: number;
}

export function compareGolden(golden: DecodedRecord, got: DecodedRecord): GoldenDiff {
  const problems: string[] = [];
  const note = (s: string): void => {
    if (problems.length < 20) problems.push(`${golden.name}: ${s}`);
  };
  const d: GoldenDiff = { problems, maxValueDiff: 0, maxF0DiffHz: 0, maxAperiodicityDiff: 0, maxEnergyDiffDb: 0 };
  if (got.samples !== golden.samples) note(`samples ${got.samples} ≠ ${golden.samples}`);
  if (JSON.stringify(got.windowPositions) !== JSON.stringify(golden.windowPositions)) note('window positions differ');
  if (JSON.stringify(got.speechRatios) !== JSON.stringify(golden.speechRatios)) note('speech ratios differ');
  if (got.values.length !== golden.values.length || got.featureCount !== golden.featureCount) {
    note(`value count ${got.values.length} ≠ ${golden.values.length}`);
  } else {
    for (let i = 0; i < golden.values.length; i++) {
      const g = golden.values[i]!;
      const rel = Math.abs(got.values[i]! - g) / Math.max(1, Math.abs(g));
      if (!(rel <= VALUE_TOL)) note(`window ${Math.floor(i / golden.featureCount)} feature ${i % golden.featureCount}: ${got.values[i]} vs ${g}`);
      if (rel > d.maxValueDiff || Number.isNaN(rel)) d.maxValueDiff = Number.isNaN(rel) ? Infinity : rel;
    }
  }
  if (got.frameFlags.length !== golden.frameFlags.length) {
    note(`frames ${got.frameFlags.length} ≠ ${golden.frameFlags.length}`);
    return d;
  }
  for (let i = 0; i < golden.frameFlags.length; i++) {
    if (got.frameFlags[i] !== golden.frameFlags[i]) note(`frame ${i} flags ${got.frameFlags[i]} vs ${golden.frameFlags[i]}`);
    const f0 = Math.abs(got.f0Hz[i]! - golden.f0Hz[i]!);
    const ap = Math.abs(got.aperiodicity[i]! - golden.aperiodicity[i]!);
    const en = Math.abs(got.energyDb[i]! - golden.energyDb[i]!);
    if (!(f0 <= F0_TOL_HZ)) note(`frame ${i} F0 ${got.f0Hz[i]} vs ${golden.f0Hz[i]}`);
    if (!(ap <= APERIODICITY_TOL)) note(`frame ${i} aperiodicity ${got.aperiodicity[i]} vs ${golden.aperiodicity[i]}`);
    if (!(en <= ENERGY_TOL_DB)) note(`frame ${i} energy ${got.energyDb[i]} vs ${golden.energyDb[i]}`);
    d.maxF0DiffHz = Math.max(d.maxF0DiffHz, f0);
    d.maxAperiodicityDiff = Math.max(d.maxAperiodicityDiff, ap);
    d.maxEnergyDiffDb = Math.max(d.maxEnergyDiffDb, en);
  }
  return d;
}
