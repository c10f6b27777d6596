/**
 * Replays scored validation calls (validation-calls.ts) through the per-call
 * AgitationTracker and the REAL escalation policy, and counts what issue 8's
 * targets are stated in: prompts on neutral, excited and low calls; calm→angry
 * calls flagged within 6 s of the anger (and prompted before it); callers
 * angry from the first second flagged within 10 s and still at tier ≥ 2 at
 * 60 s. Counts are kept per corpus so that a choice can be made on some
 * corpora and judged on another (nested selection). Used by
 * scripts/calibrate-policy.ts.
 */
import {
  createAgitationTracker,
  type AgitationTrackerOptions,
  type AgitationTrackerSpec,
} from '../model/agitation-tracker.js';
import type { EmotionScores } from '../model/types.js';
import { createEscalationPolicy } from '../policy/create-escalation-policy.js';
import type { PolicyOptions } from '../policy/options.js';
import type { PolicyEvent } from '../policy/types.js';
import type { ValidationKind } from './validation-calls.js';

/** A scored validation call (what the calibration script caches). */
export interface ValidationCall {
  corpus: string;
  speaker: string;
  kind: ValidationKind;
  /** Start of the first anger clip, ms of audio; null without anger. */
  onsetMs: number | null;
  durationMs: number;
  /** The scoring model's tracker prior (card `agitationTracker`); absent = agitation used as scored. */
  tracker?: AgitationTrackerSpec;
  /** Caller-relative scores with the model's absolute agitation (no tracker applied). */
  windows: { audioMs: number; scores: EmotionScores }[];
}

/** Detection windows of the targets, ms. */
export const CALM_TO_ANGRY_WITHIN_MS = 6000;
export const ANGRY_FIRST_WITHIN_MS = 10_000;
export const HOLD_CHECK_MS = 60_000;

/** Counts of one corpus (or of several, summed). */
export interface ValidationCounts {
  neutral: number;
  neutralPrompted: number;
  excited: number;
  excitedPrompted: number;
  low: number;
  lowPrompted: number;
  calmToAngry: number;
  /** Flagged (prompt or escalation) within 6 s after the first anger clip starts. */
  calmToAngryWithin6s: number;
  /** Flagged at any time after onset. */
  calmToAngryDetected: number;
  /** Prompted before the anger started (a false alarm). */
  calmToAngryBeforeOnset: number;
  /** Latencies (s) of the flagged calm→angry calls. */
  calmToAngryLatencyS: number[];
  angry: number;
  angryWithin10s: number;
  /** At tier ≥ 2 at 60 s of audio: the norm has not absorbed the anger. */
  angryTier2At60s: number;
}

export function emptyCounts(): ValidationCounts {
  return {
    neutral: 0,
    neutralPrompted: 0,
    excited: 0,
    excitedPrompted: 0,
    low: 0,
    lowPrompted: 0,
    calmToAngry: 0,
    calmToAngryWithin6s: 0,
    calmToAngryDetected: 0,
    calmToAngryBeforeOnset: 0,
    calmToAngryLatencyS: [],
    angry: 0,
    angryWithin10s: 0,
    angryTier2At60s: 0,
  };
}

export function addCounts(a: ValidationCounts, b: ValidationCounts): ValidationCounts {
  const out = emptyCounts();
  for (const k of Object.keys(out) as (keyof ValidationCounts)[]) {
    if (k === 'calmToAngryLatencyS') out[k] = [...a[k], ...b[k]];
    else out[k] = a[k] + b[k];
  }
  return out;
}

/** What one replay is: the policy's options and the tracker's (the prior comes from each call's model). */
export interface ReplaySettings {
  policy: Partial<PolicyOptions>;
  /** Tracker overrides; `{ relative: false }` = the absolute head only. Ignored for calls without a tracker prior. */
  tracker: Partial<Omit<AgitationTrackerOptions, 'calmLogit'>>;
}

/** What the validation counts as flagging a call: a prompt, or a priority raised. */
export function isAlert(e: PolicyEvent): boolean {
  return e.type === 'prompt' || (e.type === 'priority' && e.tier > e.previousTier);
}

/** Runs each call through a fresh tracker and policy; returns the counts per corpus. */
export function replayCalls(calls: readonly ValidationCall[], settings: ReplaySettings): Map<string, ValidationCounts> {
  const factory = createEscalationPolicy(settings.policy);
  const out = new Map<string, ValidationCounts>();
  for (const call of calls) {
    let c = out.get(call.corpus);
    if (!c) out.set(call.corpus, (c = emptyCounts()));
    const tracker = createAgitationTracker(call.tracker, call.tracker ? settings.tracker : {});
    const policy = factory({ callId: `${call.speaker}-${call.kind}`, language: 'en' });
    let prompted = false;
    let beforeOnset = false;
    let flaggedAtMs: number | undefined;
    let tierAt60: number | undefined;
    for (const w of call.windows) {
      if (tierAt60 === undefined && w.audioMs > HOLD_CHECK_MS) tierAt60 = policy.tier;
      for (const e of policy.observe(tracker.apply(w.scores), w.audioMs)) {
        if (!isAlert(e)) continue;
        prompted = true;
        if (call.onsetMs === null) continue;
        if (e.audioMs <= call.onsetMs) beforeOnset = true;
        else if (flaggedAtMs === undefined) flaggedAtMs = e.audioMs;
      }
    }
    tierAt60 ??= policy.tier;
    const latencyMs = flaggedAtMs !== undefined && call.onsetMs !== null ? flaggedAtMs - call.onsetMs : undefined;
    switch (call.kind) {
      case 'neutral':
        c.neutral++;
        if (prompted) c.neutralPrompted++;
        break;
      case 'excited':
        c.excited++;
        if (prompted) c.excitedPrompted++;
        break;
      case 'low':
        c.low++;
        if (prompted) c.lowPrompted++;
        break;
      case 'calm-then-angry':
        c.calmToAngry++;
        if (beforeOnset) c.calmToAngryBeforeOnset++;
        if (latencyMs !== undefined) {
          c.calmToAngryDetected++;
          c.calmToAngryLatencyS.push(latencyMs / 1000);
          if (latencyMs <= CALM_TO_ANGRY_WITHIN_MS) c.calmToAngryWithin6s++;
        }
        break;
      case 'angry':
        c.angry++;
        if (latencyMs !== undefined && latencyMs <= ANGRY_FIRST_WITHIN_MS) c.angryWithin10s++;
        if (tierAt60 >= 2) c.angryTier2At60s++;
        break;
    }
  }
  return out;
}

/** A rate with the counts it is made of. */
export interface Rate {
  rate: number | null;
  n: number;
  of: number;
}

const rate = (n: number, of: number): Rate => ({ rate: of > 0 ? Math.round((n / of) * 1000) / 1000 : null, n, of });

/** The targets: false-alarm rates at most, detection rates at least. */
export const TARGETS = {
  neutral_prompted: { max: 0.05 },
  excited_prompted: { max: 0.1 },
  low_prompted: { max: 0.1 },
  calm_to_angry_before_onset: { max: 0.05 },
  calm_to_angry_within_6s: { min: 0.7 },
  angry_first_within_10s: { min: 0.7 },
} as const;

export interface ValidationRates {
  neutral_prompted: Rate;
  excited_prompted: Rate;
  low_prompted: Rate;
  calm_to_angry_within_6s: Rate;
  calm_to_angry_before_onset: Rate;
  calm_to_angry_detected: Rate;
  calm_to_angry_median_latency_s: number | null;
  angry_first_within_10s: Rate;
  angry_first_tier2_at_60s: Rate;
}

function median(v: readonly number[]): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return Math.round((s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 10) / 10;
}

export function ratesOf(c: ValidationCounts): ValidationRates {
  return {
    neutral_prompted: rate(c.neutralPrompted, c.neutral),
    excited_prompted: rate(c.excitedPrompted, c.excited),
    low_prompted: rate(c.lowPrompted, c.low),
    calm_to_angry_within_6s: rate(c.calmToAngryWithin6s, c.calmToAngry),
    calm_to_angry_before_onset: rate(c.calmToAngryBeforeOnset, c.calmToAngry),
    calm_to_angry_detected: rate(c.calmToAngryDetected, c.calmToAngry),
    calm_to_angry_median_latency_s: median(c.calmToAngryLatencyS),
    angry_first_within_10s: rate(c.angryWithin10s, c.angry),
    angry_first_tier2_at_60s: rate(c.angryTier2At60s, c.angry),
  };
}

/** Which targets the rates meet (null: no calls of that kind). */
export function targetsMet(r: ValidationRates): Record<keyof typeof TARGETS, boolean | null> {
  const out = {} as Record<keyof typeof TARGETS, boolean | null>;
  for (const [k, t] of Object.entries(TARGETS) as [keyof typeof TARGETS, { max?: number; min?: number }][]) {
    const v = r[k].rate;
    out[k] = v === null ? null : t.max !== undefined ? v <= t.max + 1e-9 : v >= t.min! - 1e-9;
  }
  return out;
}

/**
 * The choice criterion: detection (calm→angry within 6 s and angry-first
 * within 10 s, equally; holding at 60 s at a quarter of that) minus three
 * times every false-alarm rate's excess over its target. A set meeting every
 * false-alarm target is judged on detection alone.
 */
export function selectionScore(c: ValidationCounts): number {
  const r = ratesOf(c);
  const v = (x: Rate): number => x.rate ?? 0;
  const excess =
    Math.max(0, v(r.neutral_prompted) - TARGETS.neutral_prompted.max) +
    Math.max(0, v(r.excited_prompted) - TARGETS.excited_prompted.max) +
    Math.max(0, v(r.low_prompted) - TARGETS.low_prompted.max) +
    Math.max(0, v(r.calm_to_angry_before_onset) - TARGETS.calm_to_angry_before_onset.max);
  const detect = (v(r.calm_to_angry_within_6s) + v(r.angry_first_within_10s)) / 2 + 0.25 * v(r.angry_first_tier2_at_60s);
  return detect - 3 * excess;
}

/** Sums the counts of the given corpora (all when `corpora` is undefined). */
export function sumCounts(byCorpus: ReadonlyMap<string, ValidationCounts>, keep?: (corpus: string) => boolean): ValidationCounts {
  let out = emptyCounts();
  for (const [corpus, c] of byCorpus) if (!keep || keep(corpus)) out = addCounts(out, c);
  return out;
}

/** Calls with a false prompt: neutral, excited and low calls prompted, calm→angry calls prompted before the anger. */
export function falseAlarmCalls(c: ValidationCounts): number {
  return c.neutralPrompted + c.excitedPrompted + c.lowPrompted + c.calmToAngryBeforeOnset;
}

/** Calls detected in time: calm→angry within 6 s plus angry-from-the-start within 10 s. */
export function detectedCalls(c: ValidationCounts): number {
  return c.calmToAngryWithin6s + c.angryWithin10s;
}

/**
 * The false-alarm calls the targets allow on these calls: 5 % of
 * neutral calls, 10 % of excited and of low calls, 5 % of calm→angry calls
 * prompted before the anger (the budget of `--objective targets`).
 */
export function targetFalseAlarmBudget(c: ValidationCounts): number {
  return (
    TARGETS.neutral_prompted.max * c.neutral +
    TARGETS.excited_prompted.max * c.excited +
    TARGETS.low_prompted.max * c.low +
    TARGETS.calm_to_angry_before_onset.max * c.calmToAngry
  );
}

/**
 * Whether every kind of false alarm stays within its own target, rounded up
 * to whole calls (neutral 5 %, excited 10 %, low 10 %, prompted before the
 * anger 5 %: 3, 6, 6 and 3 of 53 calls each). The pooled allowance alone
 * would let one kind take another's share: excited calls, the very failure
 * issue 8 names ("excitement is taken for anger"), could then be prompted
 * more often so that neutral calls are prompted less.
 */
export function withinKindAllowances(c: ValidationCounts): boolean {
  const cap = (max: number, n: number): number => Math.ceil(max * n - 1e-9);
  return (
    c.neutralPrompted <= cap(TARGETS.neutral_prompted.max, c.neutral) &&
    c.excitedPrompted <= cap(TARGETS.excited_prompted.max, c.excited) &&
    c.lowPrompted <= cap(TARGETS.low_prompted.max, c.low) &&
    c.calmToAngryBeforeOnset <= cap(TARGETS.calm_to_angry_before_onset.max, c.calmToAngry)
  );
}

/**
 * The "no worse than before" choice: the most calls detected in time among
 * the settings with at most `budget` false-alarm calls (the reference's on the
 * same calls); ties go to fewer false alarms, then more angry callers held at
 * 60 s. Over budget, or with `perKind` any kind over its own allowance
 * ({@link withinKindAllowances}): −Infinity (never chosen while anything is within it).
 */
export function budgetScore(c: ValidationCounts, budget: number, perKind = false): number {
  const fa = falseAlarmCalls(c);
  if (fa > budget || (perKind && !withinKindAllowances(c))) return Number.NEGATIVE_INFINITY;
  return detectedCalls(c) * 1_000_000 - fa * 1000 + c.angryTier2At60s;
}

/**
 * Tier thresholds from tier 2's: tiers 3 and 4 at the pre-issue-8 spacing
 * (+0.13, +0.20, capped at 0.98 / 0.99), exits 0.15 below. Fixed, not taken
 * from the current defaults, so the calibration grid (scripts/calibrate-policy.ts)
 * does not move with them.
 */
export function tiersFrom(enter2: number): Pick<PolicyOptions, 'enterThresholds' | 'exitThresholds'> {
  const e3 = Math.min(0.98, enter2 + 0.13);
  const e4 = Math.min(0.99, Math.max(e3 + 0.01, enter2 + 0.2));
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    enterThresholds: { 2: r(enter2), 3: r(e3), 4: r(e4) },
    exitThresholds: { 2: r(enter2 - 0.15), 3: r(e3 - 0.15), 4: r(e4 - 0.15) },
  };
}
