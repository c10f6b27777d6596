/**
 * The call-level validation's picture (scripts/calibrate-policy.ts): every
 * setting of the grid as false-alarm calls (x) against calls detected in
 * time (y), the frontier (the most detected at each false-alarm count), the
 * targets' allowance, and the rows that matter marked: the defaults before
 * issue 8, the shipped defaults, the chosen setting and the nested figure.
 * Settings the choice may not take (a step response over the limit, a demo
 * that misbehaves) are grey, and the solid frontier is drawn over the
 * others; a dotted one over every setting shows what the conditions cost.
 * What a reader wants from the calibration at a glance: how much detection
 * each false alarm buys, and where the shipped point sits on that curve.
 */
import { detectedCalls, falseAlarmCalls, type ValidationCounts } from './call-validation.js';
import { escapeXml as esc } from '../shared/xml-escape.js';

/** One point to mark, with its label. */
export interface FrontierMark {
  label: string;
  counts: ValidationCounts;
  color: string;
}

export interface FrontierInput {
  /** Every grid setting's counts (summed over corpora). */
  grid: readonly ValidationCounts[];
  /** Per grid setting, whether the choice may take it; default all. */
  eligible?: readonly boolean[];
  /** What makes a setting ineligible, for the legend (e.g. "step response over 4.5 s"). */
  ineligibleWhy?: string;
  marks: readonly FrontierMark[];
  /** The targets' false-alarm allowance, calls (a vertical line). */
  allowance: number;
  /** Calls that must stay silent (the x axis ends here) and calls to detect in time (y). */
  silentCalls: number;
  detectableCalls: number;
  title: string;
}

const W = 720;
const H = 480;
const M = { l: 64, r: 24, t: 48, b: 56 };

/** The most calls detected at or below each false-alarm count: the staircase the grid reaches. */
export function frontier(grid: readonly ValidationCounts[]): { fa: number; detected: number }[] {
  const best = new Map<number, number>();
  for (const c of grid) {
    const fa = falseAlarmCalls(c);
    best.set(fa, Math.max(best.get(fa) ?? 0, detectedCalls(c)));
  }
  const out: { fa: number; detected: number }[] = [];
  let top = -1;
  for (const fa of [...best.keys()].sort((a, b) => a - b)) {
    const d = best.get(fa)!;
    if (d > top) {
      out.push({ fa, detected: d });
      top = d;
    }
  }
  return out;
}

export function renderFrontierSvg(input: FrontierInput): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  // Show the useful part: up to twice the widest marked point, at least a quarter of the calls.
  const xMax = Math.max(
    Math.ceil(input.silentCalls / 4),
    Math.min(input.silentCalls, 2 * Math.max(input.allowance, ...input.marks.map((m) => falseAlarmCalls(m.counts)))),
  );
  const yMax = input.detectableCalls;
  const x = (v: number): number => M.l + (Math.min(v, xMax) / xMax) * pw;
  const y = (v: number): number => M.t + (1 - v / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="13">${esc(input.title)}</text>`);
  parts.push(`<rect x="${x(0)}" y="${M.t}" width="${(x(input.allowance) - x(0)).toFixed(1)}" height="${ph}" fill="#e8f5e9"/>`);
  const xStep = xMax > 100 ? 20 : 10;
  for (let v = 0; v <= xMax; v += xStep) {
    parts.push(`<line x1="${x(v).toFixed(1)}" y1="${M.t}" x2="${x(v).toFixed(1)}" y2="${M.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x(v).toFixed(1)}" y="${M.t + ph + 15}" text-anchor="middle">${v}</text>`);
  }
  for (let v = 0; v <= yMax; v += 10) {
    parts.push(`<line x1="${M.l}" y1="${y(v).toFixed(1)}" x2="${M.l + pw}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  // The detection target: 70 % of the calls to detect.
  parts.push(`<line x1="${M.l}" y1="${y(0.7 * yMax).toFixed(1)}" x2="${M.l + pw}" y2="${y(0.7 * yMax).toFixed(1)}" stroke="#2ca02c" stroke-dasharray="5 4"/>`);
  parts.push(`<text x="${M.l + pw - 4}" y="${(y(0.7 * yMax) - 5).toFixed(1)}" text-anchor="end" fill="#2ca02c">detection target (70 %)</text>`);
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  parts.push(
    `<text x="${M.l + pw / 2}" y="${H - 14}" text-anchor="middle">false-alarm calls of ${input.silentCalls} (neutral, excited, low prompted + prompted before the anger); shaded: within the targets' ${input.allowance.toFixed(1)}</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle">calls detected in time of ${yMax} (calm→angry ≤ 6 s + angry-first ≤ 10 s)</text>`,
  );
  // Many settings land on one point: one dot per point and kind, its area growing with their number.
  const eligible = (i: number): boolean => input.eligible?.[i] ?? true;
  const points = new Map<string, { fa: number; d: number; n: number; ok: boolean }>();
  input.grid.forEach((c, i) => {
    const fa = falseAlarmCalls(c);
    const d = detectedCalls(c);
    if (fa > xMax) return;
    const ok = eligible(i);
    const k = `${fa}:${d}:${ok}`;
    const p = points.get(k);
    if (p) p.n++;
    else points.set(k, { fa, d, n: 1, ok });
  });
  // Ineligible first, so eligible dots sit on top.
  for (const p of [...points.values()].sort((a, b) => Number(a.ok) - Number(b.ok))) {
    const r = Math.min(7, 1.8 + Math.sqrt(p.n) / 2);
    const fill = p.ok ? '#1f77b4' : '#9e9e9e';
    const why = p.ok ? '' : ` (${input.ineligibleWhy ?? 'not eligible'})`;
    parts.push(`<circle cx="${x(p.fa).toFixed(1)}" cy="${y(p.d).toFixed(1)}" r="${r.toFixed(1)}" fill="${fill}" fill-opacity="0.3"><title>${p.n} setting(s): ${p.fa} false alarms, ${p.d} in time${esc(why)}</title></circle>`);
  }
  const staircase = (grid: readonly ValidationCounts[], attrs: string): void => {
    const steps = frontier(grid).filter((s) => s.fa <= xMax);
    if (steps.length === 0) return;
    let d = `M${x(steps[0]!.fa).toFixed(1)},${y(steps[0]!.detected).toFixed(1)}`;
    for (let i = 1; i < steps.length; i++) d += ` H${x(steps[i]!.fa).toFixed(1)} V${y(steps[i]!.detected).toFixed(1)}`;
    d += ` H${x(xMax).toFixed(1)}`;
    parts.push(`<path d="${d}" fill="none" ${attrs}/>`);
  };
  const someIneligible = input.grid.some((_, i) => !eligible(i));
  if (someIneligible) staircase(input.grid, 'stroke="#9e9e9e" stroke-width="1" stroke-dasharray="2 3"');
  staircase(
    input.grid.filter((_, i) => eligible(i)),
    'stroke="#1f77b4" stroke-width="1.5"',
  );
  input.marks.forEach((m, i) => {
    const fa = falseAlarmCalls(m.counts);
    const det = detectedCalls(m.counts);
    const cx = x(fa);
    const cy = y(det);
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="6" fill="none" stroke="${m.color}" stroke-width="2.5"/>`);
    // Labels in a legend box, so marks close together stay readable.
    const ly = M.t + 16 + i * 16;
    parts.push(`<circle cx="${M.l + 14}" cy="${ly - 4}" r="5" fill="none" stroke="${m.color}" stroke-width="2.5"/>`);
    parts.push(`<text x="${M.l + 26}" y="${ly}" fill="${m.color}">${esc(`${m.label}: ${fa} false alarms, ${det} in time${fa > xMax ? ' (off the chart)' : ''}`)}</text>`);
  });
  if (someIneligible) {
    const ly = M.t + 16 + input.marks.length * 16;
    parts.push(`<circle cx="${M.l + 14}" cy="${ly - 4}" r="4" fill="#9e9e9e" fill-opacity="0.5"/>`);
    parts.push(`<text x="${M.l + 26}" y="${ly}" fill="#757575">${esc(`grey, dotted frontier: ${input.ineligibleWhy ?? 'settings the choice may not take'}`)}</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
