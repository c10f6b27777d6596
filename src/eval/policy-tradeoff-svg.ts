/**
 * The policy calibration's picture: for every option set, the share of calm
 * speech segments (calm calls and calm lead-ins) that got a prompt (x)
 * against the share of calm→angry calls flagged within 4 s of anger onset
 * (y); the pre-calibration defaults and the chosen point marked.
 */
import type { CalibResult } from './policy-calibration.js';

const W = 640;
const H = 440;
const M = { l: 60, r: 20, t: 40, b: 50 };
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderTradeoffSvg(
  results: readonly CalibResult[],
  /** The reference point (the defaults before calibration). */
  current: CalibResult,
  chosen: CalibResult | undefined,
  maxCalmRate: number,
): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const x = (v: number): number => M.l + v * pw;
  const y = (v: number): number => M.t + (1 - v) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">Escalation policy: false alarms vs detection (LOCO models, ${current.calmCalls} speakers; dot area ~ number of option sets)</text>`);
  parts.push(`<rect x="${x(0)}" y="${M.t}" width="${x(maxCalmRate) - x(0)}" height="${ph}" fill="#e8f5e9"/>`);
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(`<line x1="${x(v)}" y1="${M.t}" x2="${x(v)}" y2="${M.t + ph}" stroke="#eee"/>`);
    parts.push(`<line x1="${M.l}" y1="${y(v)}" x2="${M.l + pw}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${x(v)}" y="${M.t + ph + 15}" text-anchor="middle">${i * 10}%</text>`);
    parts.push(`<text x="${M.l - 6}" y="${y(v) + 4}" text-anchor="end">${i * 10}%</text>`);
  }
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${M.l + pw / 2}" y="${H - 12}" text-anchor="middle">calm speech with a prompt: calm calls + calm lead-ins (shaded: ≤ the budget)</text>`);
  parts.push(`<text transform="translate(16 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle">calm→angry calls flagged ≤ 4 s after onset</text>`);
  // Many option sets land on the same point (29 calls per axis): one dot
  // per point, its area growing with the number of sets, keeps the file small.
  const points = new Map<string, { r: CalibResult; n: number }>();
  for (const r of results) {
    const k = `${r.calmSpeechAlarmRate}:${r.within4sRate}`;
    const p = points.get(k);
    if (p) p.n++;
    else points.set(k, { r, n: 1 });
  }
  for (const { r, n } of points.values()) {
    const radius = Math.min(9, 2.5 + Math.sqrt(n) / 3);
    parts.push(`<circle cx="${x(r.calmSpeechAlarmRate).toFixed(1)}" cy="${y(r.within4sRate).toFixed(1)}" r="${radius.toFixed(1)}" fill="#1f77b4" fill-opacity="0.35"><title>${n} option set(s), e.g. ${esc(r.label)}</title></circle>`);
  }
  const mark = (r: CalibResult, color: string, text: string): void => {
    const cx = x(r.calmSpeechAlarmRate);
    const cy = y(r.within4sRate);
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="6" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    const anchor = cx > W - 200 ? 'end' : 'start';
    parts.push(`<text x="${(cx + (anchor === 'end' ? -10 : 10)).toFixed(1)}" y="${(cy - 8).toFixed(1)}" fill="${color}" text-anchor="${anchor}">${esc(text)}</text>`);
  };
  mark(current, '#d62728', `before calibration (${Math.round(100 * current.calmSpeechAlarmRate)}%, ${Math.round(100 * current.within4sRate)}%)`);
  if (chosen) mark(chosen, '#2ca02c', `chosen (${Math.round(100 * chosen.calmSpeechAlarmRate)}%, ${Math.round(100 * chosen.within4sRate)}%)`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
