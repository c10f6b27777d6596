/**
 * The call-outcomes report as a picture: one row per group (tier reached,
 * the agent's answer to prompts), one panel per measure (calls, CSAT, CES,
 * NPS answer, recovery time), horizontal bars on each measure's own scale,
 * the value and its n printed at the bar. Same plain style as the score
 * timeline (src/report/score-timeline-svg.ts).
 */
import { FEEDBACK_GROUP_LABELS, FEEDBACK_GROUPS, type CallOutcomes, type GroupStats } from './call-outcomes.js';
import { escapeXml as esc } from '../shared/xml-escape.js';


interface Panel {
  title: string;
  /** Bar length is value / max of the scale. */
  max: (rows: readonly GroupStats[]) => number;
  value: (g: GroupStats) => number | null;
  label: (g: GroupStats) => string;
  colour: string;
}

const PANELS: readonly Panel[] = [
  { title: 'calls', max: (rows) => Math.max(1, ...rows.map((r) => r.calls)), value: (g) => g.calls, label: (g) => String(g.calls), colour: '#7f7f7f' },
  { title: 'CSAT (1–5, higher better)', max: () => 5, value: (g) => g.csat.mean, label: (g) => (g.csat.mean === null ? '–' : `${g.csat.mean.toFixed(2)} (n ${g.csat.n})`), colour: '#2ca02c' },
  { title: 'CES (1–7, lower better)', max: () => 7, value: (g) => g.ces.mean, label: (g) => (g.ces.mean === null ? '–' : `${g.ces.mean.toFixed(2)} (n ${g.ces.n})`), colour: '#ff7f0e' },
  { title: 'NPS answer (0–10)', max: () => 10, value: (g) => g.npsAnswer.mean, label: (g) => (g.npsAnswer.mean === null ? '–' : `${g.npsAnswer.mean.toFixed(1)} (NPS ${g.nps?.toFixed(0)})`), colour: '#1f77b4' },
  {
    title: 'mean recovery (s)',
    max: (rows) => Math.max(1, ...rows.map((r) => (r.recoveryMs.mean ?? 0) / 1000)),
    value: (g) => (g.recoveryMs.mean === null ? null : g.recoveryMs.mean / 1000),
    label: (g) => (g.recoveryMs.mean === null ? '–' : `${(g.recoveryMs.mean / 1000).toFixed(1)} (n ${g.recoveryMs.n})`),
    colour: '#d62728',
  },
];

export function renderCallOutcomesSvg(o: CallOutcomes, options: { title?: string } = {}): string {
  const rows: { label: string; stats: GroupStats; section?: string }[] = [
    { label: 'all calls', stats: o.total },
    ...([1, 2, 3, 4] as const).map((t, i) => ({ label: `tier ${t}`, stats: o.byMaxTier[t], ...(i === 0 ? { section: 'highest tier reached' } : {}) })),
    ...FEEDBACK_GROUPS.map((g, i) => ({ label: FEEDBACK_GROUP_LABELS[g], stats: o.byFeedback[g], ...(i === 0 ? { section: "agent's answer to prompts" } : {}) })),
  ];
  const labelW = 200;
  const panelW = 170;
  const gap = 16;
  const rowH = 24;
  const top = 64;
  const sections = rows.filter((r) => r.section).length;
  const width = labelW + PANELS.length * (panelW + gap) + 10;
  const height = top + rows.length * rowH + sections * 20 + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(options.title ?? `Call outcomes${o.since ? ` since ${o.since.slice(0, 10)}` : ''}: ${o.total.calls} calls`)}</text>`,
  ];
  PANELS.forEach((p, i) => {
    const x0 = labelW + i * (panelW + gap);
    parts.push(`<text x="${x0}" y="${top - 12}" font-weight="bold">${esc(p.title)}</text>`);
  });
  let y = top;
  for (const row of rows) {
    if (row.section) {
      y += 6;
      parts.push(`<text x="10" y="${y + 8}" font-style="italic" fill="#555">${esc(row.section)}</text>`);
      y += 14;
    }
    parts.push(`<text x="18" y="${y + 16}">${esc(row.label)}</text>`);
    PANELS.forEach((p, i) => {
      const x0 = labelW + i * (panelW + gap);
      const v = p.value(row.stats);
      const barMax = panelW - 70;
      const w = v === null ? 0 : Math.max(0, Math.min(1, v / p.max(rows.map((r) => r.stats)))) * barMax;
      parts.push(`<rect x="${x0}" y="${y + 5}" width="${barMax}" height="14" fill="#f2f2f2"/>`);
      if (w > 0) parts.push(`<rect x="${x0}" y="${y + 5}" width="${w.toFixed(1)}" height="14" fill="${p.colour}"/>`);
      parts.push(`<text x="${x0 + barMax + 4}" y="${y + 16}" font-size="11">${esc(p.label(row.stats))}</text>`);
    });
    y += rowH;
  }
  parts.push('</svg>');
  return parts.join('\n');
}
