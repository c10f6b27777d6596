/**
 * Clips the offline tools (eval, train-features) could not read: gathered
 * from the streamed calls and reported once, by path and reason, so a bad
 * file is named instead of silently shrinking the figures.
 */
import type { CallWindows } from './call-runner.js';
import type { ManifestClip } from './manifest.js';

export interface UnreadableReport {
  clip: ManifestClip;
  reason: string;
}

/** Unreadable clips of all calls, each once (augmented passes repeat them), in manifest order. */
export function collectUnreadable(results: readonly CallWindows[], clips: readonly ManifestClip[]): UnreadableReport[] {
  const byIndex = new Map<number, string>();
  for (const r of results) for (const u of r.unreadable) if (!byIndex.has(u.index)) byIndex.set(u.index, u.reason);
  return [...byIndex]
    .sort((a, b) => a[0] - b[0])
    .map(([index, reason]) => ({ clip: clips[index]!, reason }));
}

/** Warning lines for stderr: a count, then the first `max` clips with their reasons. */
export function formatUnreadable(tool: string, list: readonly UnreadableReport[], max = 10): string {
  if (list.length === 0) return '';
  const lines = [`${tool}: ${list.length} clip(s) could not be read and are left out:`];
  for (const u of list.slice(0, max)) lines.push(`  ${u.clip.path}: ${u.reason}`);
  if (list.length > max) lines.push(`  ... and ${list.length - max} more`);
  return `${lines.join('\n')}\n`;
}
