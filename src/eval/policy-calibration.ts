/**
 * Replays scored simulated calls through the real escalation policy and
 * measures the trade-off that matters for the product: prompts on calm calls
 * against how fast anger is flagged. Used by scripts/calibrate-policy.ts.
 */
import type { EmotionScores } from '../model/types.js';
import { createEscalationPolicy } from '../policy/create-escalation-policy.js';
import { DEFAULT_POLICY_OPTIONS, type PolicyOptions } from '../policy/options.js';

/** A scored simulated call, as cached by the calibration script. */
export interface CalibCall {
  corpus: string;
  speaker: string;
  /** `happy`: happiness clips only, a caller who is not upset (a prompt is a false alarm, reported apart). */
  kind: 'calm' | 'calm-then-angry' | 'angry' | 'happy';
  /** Version of the model that scored it. */
  model: string;
  /** Start of the first anger clip, ms of audio; null for a calm call. */
  onsetMs: number | null;
  durationMs: number;
  windows: { audioMs: number; scores: EmotionScores }[];
}

/** The measured trade-off of one option set. */
export interface CalibResult {
  label: string;
  options: Partial<PolicyOptions>;
  calmCalls: number;
  /** Calm-only calls that got at least one prompt. */
  calmWithPrompt: number;
  calmWithPromptRate: number;
  /** Prompts per hour of calm-call audio. */
  promptsPerCalmHour: number;
  /** Calm→angry calls with a prompt in the calm lead-in (a false alarm too). */
  leadInWithPrompt: number;
  /**
   * Share of all calm speech segments (calm calls and calm lead-ins) with a
   * prompt: twice the sample of `calmWithPromptRate`, so less noisy.
   */
  calmSpeechAlarmRate: number;
  angryCalls: number;
  /** Calm→angry calls with a prompt or escalation after anger onset. */
  detected: number;
  /** Over all calm→angry calls, never-flagged ones as +∞ (null when that is the answer). */
  medianLatencyS: number | null;
  p90LatencyS: number | null;
  /** Median latency over the calls that were flagged, s. */
  medianDetectedLatencyS: number | null;
  within4s: number;
  within4sRate: number;
  angryFirstCalls: number;
  angryFirstDetected: number;
  angryFirstMedianS: number | null;
  /** Median latency over the angry-from-the-start calls that were flagged, s. */
  angryFirstMedianDetectedS: number | null;
  angryFirstWithin4s: number;
  /** Happy-only calls, and those that got at least one prompt (not part of calmSpeechAlarmRate). */
  happyCalls: number;
  happyWithPrompt: number;
  /** Whether the demo fixtures behave with these options; undefined when not checked. */
  demoOk?: boolean;
}

function quantile(v: readonly number[], q: number): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * Runs every call through a fresh policy built from `options` and returns the
 * trade-off. An undetected calm→angry call counts as latency +∞ (it sorts
 * last in the median and p90 rather than being left out).
 */
export function evaluateOptionSet(label: string, options: Partial<PolicyOptions>, calls: readonly CalibCall[]): CalibResult {
  const factory = createEscalationPolicy(options);
  let calmCalls = 0;
  let calmWithPrompt = 0;
  let calmPrompts = 0;
  let calmMs = 0;
  let leadInWithPrompt = 0;
  const latencies: number[] = [];
  const angryFirst: number[] = [];
  let angryCalls = 0;
  let angryFirstCalls = 0;
  let happyCalls = 0;
  let happyWithPrompt = 0;
  for (const call of calls) {
    const policy = factory({ callId: `${call.speaker}-${call.kind}`, language: 'en' });
    let prompts = 0;
    let leadIn = false;
    let detectedAtMs: number | undefined;
    for (const w of call.windows) {
      for (const e of policy.observe(w.scores, w.audioMs)) {
        const isAlert = e.type === 'prompt' || (e.type === 'priority' && e.tier > e.previousTier);
        if (e.type === 'prompt') prompts++;
        if (call.onsetMs === null) continue;
        if (e.audioMs <= call.onsetMs) {
          if (e.type === 'prompt') leadIn = true;
        } else if (isAlert && detectedAtMs === undefined) detectedAtMs = e.audioMs;
      }
    }
    const latencyS = detectedAtMs === undefined || call.onsetMs === null ? Infinity : (detectedAtMs - call.onsetMs) / 1000;
    if (call.kind === 'calm') {
      calmCalls++;
      calmMs += call.durationMs;
      calmPrompts += prompts;
      if (prompts > 0) calmWithPrompt++;
    } else if (call.kind === 'calm-then-angry') {
      angryCalls++;
      if (leadIn) leadInWithPrompt++;
      latencies.push(latencyS);
    } else if (call.kind === 'happy') {
      happyCalls++;
      if (prompts > 0) happyWithPrompt++;
    } else {
      angryFirstCalls++;
      angryFirst.push(latencyS);
    }
  }
  const finite = (v: number[]) => v.filter(Number.isFinite);
  const q = (v: number[], p: number): number | null => {
    const x = quantile(v, p);
    return x === null || !Number.isFinite(x) ? null : x;
  };
  const within4s = latencies.filter((x) => x <= 4).length;
  return {
    label,
    options,
    calmCalls,
    calmWithPrompt,
    calmWithPromptRate: calmCalls ? calmWithPrompt / calmCalls : 0,
    promptsPerCalmHour: calmMs ? calmPrompts / (calmMs / 3_600_000) : 0,
    leadInWithPrompt,
    calmSpeechAlarmRate: calmCalls + angryCalls ? (calmWithPrompt + leadInWithPrompt) / (calmCalls + angryCalls) : 0,
    angryCalls,
    detected: finite(latencies).length,
    medianLatencyS: q(latencies, 0.5),
    p90LatencyS: q(latencies, 0.9),
    medianDetectedLatencyS: q(finite(latencies), 0.5),
    within4s,
    within4sRate: angryCalls ? within4s / angryCalls : 0,
    angryFirstCalls,
    angryFirstDetected: finite(angryFirst).length,
    angryFirstMedianS: q(angryFirst, 0.5),
    angryFirstMedianDetectedS: q(finite(angryFirst), 0.5),
    angryFirstWithin4s: angryFirst.filter((x) => x <= 4).length,
    happyCalls,
    happyWithPrompt,
  };
}

/** Tier thresholds from the tier-2 enter level: tiers 3/4 keep the default spacing. */
export function thresholdsFrom(enter2: number, band = 0.15): Pick<PolicyOptions, 'enterThresholds' | 'exitThresholds'> {
  const d = DEFAULT_POLICY_OPTIONS.enterThresholds;
  const e3 = Math.min(0.98, enter2 + (d[3] - d[2]));
  const e4 = Math.min(0.99, Math.max(e3 + 0.01, enter2 + (d[4] - d[2])));
  return {
    enterThresholds: { 2: enter2, 3: e3, 4: e4 },
    exitThresholds: { 2: enter2 - band, 3: e3 - band, 4: e4 - band },
  };
}

export interface GridPoint {
  label: string;
  options: Partial<PolicyOptions>;
}

/** The option sets the calibration explores. */
export function policyGrid(): GridPoint[] {
  const out: GridPoint[] = [];
  // Thresholds relative to the caller's own running level: none (fixed, as
  // before), the old lift-only rule, or following the baseline both ways.
  // On an exact tie the earlier set wins: the lift-only rule (the
  // pre-calibration setting) comes first.
  const adapt: { name: string; o: Partial<PolicyOptions> }[] = [
    { name: 'lift', o: { liftStartLevel: 0.3, liftGain: 0.5, maxLift: 0.1, maxDrop: 0, stableStd: 0.06 } },
    { name: 'fixed', o: { maxLift: 0, maxDrop: 0 } },
  ];
  for (const start of [0.35, 0.4, 0.45])
    for (const [lift, drop] of [[0.1, 0.1], [0.1, 0.2], [0.15, 0.15], [0.2, 0.2]] as const)
      for (const [btau, warm] of [[10_000, 5000], [15_000, 10_000], [30_000, 10_000], [30_000, 20_000]] as const)
        for (const std of [0.06, 0.15, 1])
          adapt.push({
            name: `rel s${start} +${lift}/-${drop} b${btau / 1000}/w${warm / 1000} sd${std}`,
            o: {
              liftStartLevel: start,
              liftGain: 1,
              maxLift: lift,
              maxDrop: drop,
              baselineTimeConstantMs: btau,
              baselineWarmupMs: warm,
              stableStd: std,
            },
          });
  for (const tau of [1000, 2000, 3000]) {
    for (const enter2 of [0.55, 0.6, 0.65, 0.7, 0.75]) {
      for (const dwell of [500, 1000, 1500, 2500]) {
        for (const a of adapt) {
          out.push({
            label: `tau ${tau} enter ${enter2.toFixed(2)} dwell ${dwell} ${a.name}`,
            options: { smoothingTimeConstantMs: tau, ...thresholdsFrom(enter2, 0.25), enterDwellMs: dwell, ...a.o },
          });
        }
      }
    }
  }
  return out;
}
