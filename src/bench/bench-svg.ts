/**
 * The bench's pictures, in the plain SVG style of src/report/*-svg.ts:
 * stacked panels sharing one x axis, one or more series per panel, an
 * optional dashed threshold. `--find-max` plots per N; a single run plots
 * per second of the run.
 */
import { escapeXml as esc } from '../shared/xml-escape.js';

export interface Series {
  name: string;
  colour: string;
  points: readonly (readonly [number, number])[];
  /** Dots only (no line), for scattered samples such as alert latencies. */
  dots?: boolean;
}

export interface Panel {
  title: string;
  series: readonly Series[];
  /** A dashed horizontal line (a target or bound) with its label. */
  threshold?: { value: number; label: string };
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export function renderPanelsSvg(options: { title: string; xLabel: string; panels: readonly Panel[] }): string {
  const width = 760;
  const left = 70;
  const right = 20;
  const panelH = 170;
  const gap = 46;
  const top = 40;
  const plotW = width - left - right;
  const allX = options.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMin = allX.length > 0 ? Math.min(...allX) : 0;
  const xMax = allX.length > 0 ? Math.max(...allX, xMin + 1e-9) : 1;
  const height = top + options.panels.length * (panelH + gap) + 10;
  const sx = (x: number): number => left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(options.title)}</text>`,
  ];
  options.panels.forEach((panel, pi) => {
    const y0 = top + pi * (panelH + gap) + 16;
    const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
    const yMax = Math.max(1e-9, ...ys, panel.threshold ? panel.threshold.value * 1.1 : 0) * 1.05;
    const sy = (y: number): number => y0 + panelH - (Math.max(0, y) / yMax) * panelH;
    parts.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)}</text>`);
    parts.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#ccc"/>`);
    for (const f of [0, 0.5, 1]) {
      const v = yMax * f;
      parts.push(`<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end" font-size="10" fill="#555">${fmt(v)}</text>`);
    }
    if (panel.threshold) {
      const ty = sy(panel.threshold.value).toFixed(1);
      parts.push(`<line x1="${left}" y1="${ty}" x2="${left + plotW}" y2="${ty}" stroke="#d62728" stroke-dasharray="5,4"/>`);
      parts.push(`<text x="${left + plotW - 4}" y="${Number(ty) - 4}" text-anchor="end" font-size="10" fill="#d62728">${esc(panel.threshold.label)}</text>`);
    }
    if (ys.length === 0) parts.push(`<text x="${left + plotW / 2}" y="${y0 + panelH / 2}" text-anchor="middle" fill="#999">n/a (not measured in this run)</text>`);
    panel.series.forEach((s, si) => {
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      if (s.dots) {
        for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${s.colour}" fill-opacity="0.6"/>`);
      } else if (pts.length > 0) {
        parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.8" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
        for (const [x, y] of pts.length <= 20 ? pts : []) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.colour}"/>`);
      }
      parts.push(`<rect x="${left + 8 + si * 190}" y="${y0 + 8}" width="10" height="10" fill="${s.colour}"/>`);
      parts.push(`<text x="${left + 22 + si * 190}" y="${y0 + 17}" font-size="11">${esc(s.name)}</text>`);
    });
    const xAxisY = y0 + panelH + 14;
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const v = xMin + (xMax - xMin) * f;
      parts.push(`<text x="${sx(v).toFixed(1)}" y="${xAxisY}" text-anchor="middle" font-size="10" fill="#555">${fmt(v)}</text>`);
    }
    if (pi === options.panels.length - 1) parts.push(`<text x="${left + plotW / 2}" y="${xAxisY + 16}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
