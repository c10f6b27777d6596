/**
 * Do the prompts help? Kept post-call summaries grouped by the highest tier
 * each call reached and by what the agent did with its prompts, with the
 * count of calls, mean survey scores (CSAT 1-5, CES 1-7, NPS 0-10 plus the
 * NPS itself: % promoters − % detractors) and mean recovery time, and per
 * script: how often it was sent, used and dismissed.
 */
import type { KeptCall, SurveyScores } from '../calls/summary-store.js';
import type { Tier } from '../policy/types.js';

/** A mean over the calls that have the value; null when none has. */
export interface Mean {
  mean: number | null;
  /** Values averaged. */
  n: number;
}

export interface GroupStats {
  calls: number;
  csat: Mean;
  ces: Mean;
  npsAnswer: Mean;
  /** % promoters (9-10) − % detractors (0-6) among NPS answers, −100..100; null without answers. */
  nps: number | null;
  /** Mean recovery time over the group's recovered escalation episodes, ms. */
  recoveryMs: Mean;
}

/** How the agent answered a call's prompts. */
export type FeedbackGroup = 'used' | 'dismissed' | 'no-feedback' | 'no-prompts';
export const FEEDBACK_GROUPS: readonly FeedbackGroup[] = ['used', 'dismissed', 'no-feedback', 'no-prompts'];
export const FEEDBACK_GROUP_LABELS: Readonly<Record<FeedbackGroup, string>> = {
  used: 'a prompt used',
  dismissed: 'prompts dismissed, none used',
  'no-feedback': 'prompts without feedback',
  'no-prompts': 'no prompt sent',
};

export interface ScriptStats {
  scriptId: string;
  sent: number;
  used: number;
  dismissed: number;
  /** Mean CSAT of the calls in which the agent used this script. */
  csatWhenUsed: Mean;
}

export interface CallOutcomes {
  /** Calls ended at or after this time (ISO-8601), or null for all kept. */
  since: string | null;
  total: GroupStats;
  /** By the highest tier the call reached. */
  byMaxTier: Record<Tier, GroupStats>;
  /** By the agent's answers to the call's prompts. */
  byFeedback: Record<FeedbackGroup, GroupStats>;
  /** Per script sent, most sent first. */
  byScript: ScriptStats[];
}

function mean(values: readonly number[]): Mean {
  return { mean: values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length, n: values.length };
}

function surveyValues(calls: readonly KeptCall[], key: keyof SurveyScores): number[] {
  return calls.map((c) => c.survey?.[key]).filter((v): v is number => typeof v === 'number');
}

export function groupStats(calls: readonly KeptCall[]): GroupStats {
  const nps = surveyValues(calls, 'nps');
  return {
    calls: calls.length,
    csat: mean(surveyValues(calls, 'csat')),
    ces: mean(surveyValues(calls, 'ces')),
    npsAnswer: mean(nps),
    nps: nps.length === 0 ? null : (100 * (nps.filter((v) => v >= 9).length - nps.filter((v) => v <= 6).length)) / nps.length,
    recoveryMs: mean(calls.flatMap((c) => c.summary.recoveryMs)),
  };
}

export function feedbackGroup(call: KeptCall): FeedbackGroup {
  const s = call.summary;
  if (s.promptsSent === 0) return 'no-prompts';
  if (s.promptsUsed > 0) return 'used';
  if (s.promptsDismissed > 0) return 'dismissed';
  return 'no-feedback';
}

export function computeCallOutcomes(calls: readonly KeptCall[], since: Date | null = null): CallOutcomes {
  const byTier = (t: Tier) => calls.filter((c) => c.summary.maxTier === t);
  const scripts = new Map<string, { sent: number; used: number; dismissed: number; csat: number[] }>();
  for (const c of calls) {
    const usedHere = new Set<string>();
    for (const p of c.summary.prompts) {
      const s = scripts.get(p.scriptId) ?? { sent: 0, used: 0, dismissed: 0, csat: [] };
      scripts.set(p.scriptId, s);
      s.sent += 1;
      if (p.feedback === 'used') {
        s.used += 1;
        usedHere.add(p.scriptId);
      } else if (p.feedback === 'dismissed') s.dismissed += 1;
    }
    const csat = c.survey?.csat;
    if (typeof csat === 'number') for (const id of usedHere) scripts.get(id)?.csat.push(csat);
  }
  return {
    since: since?.toISOString() ?? null,
    total: groupStats(calls),
    byMaxTier: { 1: groupStats(byTier(1)), 2: groupStats(byTier(2)), 3: groupStats(byTier(3)), 4: groupStats(byTier(4)) },
    byFeedback: Object.fromEntries(FEEDBACK_GROUPS.map((g) => [g, groupStats(calls.filter((c) => feedbackGroup(c) === g))])) as Record<FeedbackGroup, GroupStats>,
    byScript: [...scripts.entries()]
      .map(([scriptId, s]) => ({ scriptId, sent: s.sent, used: s.used, dismissed: s.dismissed, csatWhenUsed: mean(s.csat) }))
      .sort((a, b) => b.sent - a.sent || a.scriptId.localeCompare(b.scriptId)),
  };
}

const fmt = (m: Mean, digits = 2): string => (m.mean === null ? '–' : `${m.mean.toFixed(digits)} (${m.n})`);
const fmtS = (m: Mean): string => (m.mean === null ? '–' : `${(m.mean / 1000).toFixed(1)} s (${m.n})`);

/** Plain-text tables of the outcomes. */
export function formatCallOutcomes(o: CallOutcomes): string {
  const header = `${'group'.padEnd(32)}${'calls'.padStart(6)}  ${'CSAT 1-5'.padEnd(11)}${'CES 1-7'.padEnd(11)}${'NPS'.padEnd(7)}recovery`;
  const row = (label: string, g: GroupStats) =>
    `${label.padEnd(32)}${String(g.calls).padStart(6)}  ${fmt(g.csat).padEnd(11)}${fmt(g.ces).padEnd(11)}${(g.nps === null ? '–' : g.nps.toFixed(0)).padEnd(7)}${fmtS(g.recoveryMs)}`;
  const lines = [
    `Call outcomes ${o.since ? `since ${o.since}` : '(all kept summaries)'} — means with (n) answers; NPS = % promoters − % detractors`,
    '',
    header,
    row('all calls', o.total),
    '',
    'by highest tier reached',
    ...([1, 2, 3, 4] as const).map((t) => row(`  tier ${t}`, o.byMaxTier[t])),
    '',
    "by the agent's answer to prompts",
    ...FEEDBACK_GROUPS.map((g) => row(`  ${FEEDBACK_GROUP_LABELS[g]}`, o.byFeedback[g])),
    '',
    `${'script'.padEnd(32)}${'sent'.padStart(6)}${'used'.padStart(6)}${'dismissed'.padStart(11)}  CSAT when used`,
    ...o.byScript.map((s) => `${s.scriptId.padEnd(32)}${String(s.sent).padStart(6)}${String(s.used).padStart(6)}${String(s.dismissed).padStart(11)}  ${fmt(s.csatWhenUsed)}`),
  ];
  if (o.byScript.length === 0) lines.push('(no prompts sent)');
  return `${lines.join('\n')}\n`;
}
