/**
 * Confusion matrices as one SVG picture: one row of panels per task, one
 * column per scope (overall, then each corpus). Cells are shaded by
 * row-normalised recall and show the count.
 */
import { uar, type Confusion } from './metrics.js';
import { escapeXml as esc } from '../shared/xml-escape.js';

export interface ConfusionPanel {
  /** Panel title, e.g. "nemo · anger". */
  title: string;
  confusion: Confusion;
}

const CELL = 34;
const LABEL_W = 74;
const HEAD_H = 58;
const GAP = 26;


/** Row-normalised blue ramp: white (0) → dark blue (1). */
function shade(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const r = Math.round(255 - t * (255 - 8));
  const g = Math.round(255 - t * (255 - 69));
  const b = Math.round(255 - t * (255 - 148));
  return `rgb(${r},${g},${b})`;
}

function panelSize(c: Confusion): { w: number; h: number } {
  const n = c.classes.length;
  return { w: LABEL_W + n * CELL, h: HEAD_H + n * CELL + 8 };
}

function panel(p: ConfusionPanel, x0: number, y0: number): string {
  const c = p.confusion;
  const n = c.classes.length;
  const u = uar(c);
  const parts: string[] = [];
  parts.push(
    `<text x="${x0}" y="${y0 + 13}" font-weight="bold">${esc(p.title)}</text>`,
    `<text x="${x0}" y="${y0 + 27}" fill="#555">UAR ${u === null ? '–' : u.toFixed(3)}</text>`,
  );
  const gx = x0 + LABEL_W;
  const gy = y0 + HEAD_H;
  c.classes.forEach((name, j) => {
    const short = name.length > 5 ? name.slice(0, 5) : name;
    parts.push(
      `<text x="${gx + j * CELL + CELL / 2}" y="${gy - 6}" text-anchor="middle" font-size="10">${esc(short)}</text>`,
    );
  });
  c.matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    parts.push(
      `<text x="${gx - 4}" y="${gy + i * CELL + CELL / 2 + 4}" text-anchor="end" font-size="10">${esc(c.classes[i]!)}</text>`,
    );
    row.forEach((v, j) => {
      const frac = total > 0 ? v / total : 0;
      const x = gx + j * CELL;
      const y = gy + i * CELL;
      parts.push(
        `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${shade(frac)}" stroke="#ccc"/>`,
        `<text x="${x + CELL / 2}" y="${y + CELL / 2 + 4}" text-anchor="middle" font-size="10" fill="${frac > 0.55 ? '#fff' : '#000'}">${v}</text>`,
      );
    });
  });
  parts.push(
    `<text x="${gx + (n * CELL) / 2}" y="${y0 + 40}" text-anchor="middle" font-size="9" fill="#777">predicted →</text>`,
  );
  return parts.join('\n');
}

/** Lays out `rows` of panels (each inner array is one row) as an SVG document. */
export function renderConfusionSvg(title: string, rows: readonly (readonly ConfusionPanel[])[]): string {
  let y = 40;
  let width = 0;
  const body: string[] = [];
  for (const row of rows) {
    let x = 16;
    let rowH = 0;
    for (const p of row) {
      const { w, h } = panelSize(p.confusion);
      body.push(panel(p, x, y));
      x += w + GAP;
      rowH = Math.max(rowH, h);
    }
    width = Math.max(width, x);
    y += rowH + GAP;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(width, 400)}" height="${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
