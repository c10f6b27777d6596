import type { ScoredWindow } from '../model/types.js';
import type { PolicyEvent, Tier } from '../policy/types.js';
import { TIER_NAMES } from '../policy/types.js';
import { escapeXml as esc } from '../shared/xml-escape.js';

/** Options for drawing a call's score timeline. */
export interface TimelineSvgOptions {
  title: string;
  /** Drawing width in px. Default 960. */
  widthPx?: number;
  /** Drawing height in px. Default 360. */
  heightPx?: number;
}

const SERIES = [
  { key: 'agitation', colour: '#d62728', label: 'agitation' },
  { key: 'anger', colour: '#ff7f0e', label: 'anger' },
  { key: 'arousal', colour: '#1f77b4', label: 'arousal' },
  { key: 'neutral', colour: '#7f7f7f', label: 'neutral' },
] as const;

const TIER_FILL: Readonly<Record<Tier, string>> = { 1: '#ffffff', 2: '#fff4cc', 3: '#ffd9b3', 4: '#ffb3b3' };


/**
 * Renders a call's score timeline as a standalone SVG: one line per score
 * over audio time, the background shaded by tier, prompts as markers. A
 * picture of a call reads faster than its JSON.
 */
export function renderTimelineSvg(
  windows: readonly ScoredWindow[],
  events: readonly PolicyEvent[],
  options: TimelineSvgOptions,
): string {
  const width = options.widthPx ?? 960;
  const height = options.heightPx ?? 360;
  const m = { left: 48, right: 150, top: 36, bottom: 40 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const lastMs = Math.max(1000, ...windows.map((w) => w.endMs), ...events.map((e) => e.audioMs));
  const x = (ms: number): number => m.left + (ms / lastMs) * plotW;
  const y = (v: number): number => m.top + (1 - Math.min(1, Math.max(0, v))) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${m.left}" y="20" font-size="14" font-weight="bold">${esc(options.title)}</text>`,
  );

  // Tier bands: the tier in force from each priority change to the next.
  const changes = events.filter((e) => e.type !== 'prompt');
  let fromMs = 0;
  let tier: Tier = 1;
  for (const change of [...changes, undefined]) {
    const toMs = change?.audioMs ?? lastMs;
    if (tier > 1) {
      parts.push(`<rect x="${x(fromMs).toFixed(1)}" y="${m.top}" width="${(x(toMs) - x(fromMs)).toFixed(1)}" height="${plotH}" fill="${TIER_FILL[tier]}"/>`);
    }
    if (change) {
      fromMs = change.audioMs;
      tier = change.tier;
    }
  }

  for (let v = 0; v <= 1.0001; v += 0.25) {
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  const stepS = lastMs > 120_000 ? 30 : lastMs > 30_000 ? 10 : 5;
  for (let s = 0; s * 1000 <= lastMs; s += stepS) {
    parts.push(`<text x="${x(s * 1000)}" y="${m.top + plotH + 16}" text-anchor="middle">${s}s</text>`);
  }
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle">caller audio time</text>`);

  SERIES.forEach((series, i) => {
    const points = windows.map((w) => `${x(w.endMs).toFixed(1)},${y(w.scores[series.key]).toFixed(1)}`);
    if (points.length > 0) {
      parts.push(`<polyline fill="none" stroke="${series.colour}" stroke-width="${series.key === 'agitation' ? 2.5 : 1.2}" points="${points.join(' ')}"/>`);
    }
    const ly = m.top + 14 + i * 18;
    parts.push(`<line x1="${m.left + plotW + 12}" x2="${m.left + plotW + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.colour}" stroke-width="2.5"/>`);
    parts.push(`<text x="${m.left + plotW + 36}" y="${ly}">${series.label}</text>`);
  });
  ([2, 3, 4] as const).forEach((t, i) => {
    const ly = m.top + 100 + i * 18;
    parts.push(`<rect x="${m.left + plotW + 12}" y="${ly - 11}" width="20" height="12" fill="${TIER_FILL[t]}" stroke="#ccc"/>`);
    parts.push(`<text x="${m.left + plotW + 36}" y="${ly}">tier ${t} ${TIER_NAMES[t]}</text>`);
  });

  for (const e of events) {
    if (e.type !== 'prompt') continue;
    const px = x(e.audioMs).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${m.top}" y2="${m.top + plotH}" stroke="#2ca02c" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${px}" y="${m.top - 4}" text-anchor="middle" fill="#2ca02c">prompt</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
