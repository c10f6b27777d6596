/**
 * The flags `eval` and `train-features` share: which manifest, and how its
 * clips are assembled into calls. One parser so both read them the same way.
 */

/** node:util parseArgs option specs for the shared flags. */
export const CALL_ASSEMBLY_OPTIONS = {
  manifest: { type: 'string' },
  root: { type: 'string' },
  seed: { type: 'string', default: '1' },
  pause: { type: 'string', default: '0.6' },
  jobs: { type: 'string' },
} as const;

export interface CallAssemblyArgs {
  manifest: string;
  /** Folder the manifest's paths are relative to; undefined = the manifest's folder. */
  root: string | undefined;
  seed: number;
  pauseS: number;
  /** Worker threads; undefined = the CPU count. */
  jobs: number | undefined;
}

/** Validates the shared flags; returns the problem as text when one is bad. */
export function readCallAssemblyArgs(values: {
  manifest?: string | undefined;
  root?: string | undefined;
  seed?: string | undefined;
  pause?: string | undefined;
  jobs?: string | undefined;
}): CallAssemblyArgs | string {
  if (!values.manifest) return '--manifest is required';
  const seed = Number(values.seed ?? '1');
  const pauseS = Number(values.pause ?? '0.6');
  const jobs = values.jobs !== undefined ? Number(values.jobs) : undefined;
  if (!Number.isInteger(seed) || seed < 0) return `--seed must be a whole number ≥ 0, got '${values.seed}'`;
  if (!Number.isFinite(pauseS) || pauseS < 0) return `--pause must be a number of seconds ≥ 0, got '${values.pause}'`;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) return `--jobs must be a whole number ≥ 1, got '${values.jobs}'`;
  return { manifest: values.manifest, root: values.root, seed, pauseS, jobs };
}
