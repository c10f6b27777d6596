import { UndertoneError } from '../shared/errors.js';

/** Per-tier thresholds on smoothed agitation (0..1), for the tiers the policy can enter. */
export interface TierThresholds {
  2: number;
  3: number;
  4: number;
}

/**
 * Every knob of the escalation policy. All times are ms of caller AUDIO time
 * (the `audioMs` the policy is fed), never wall-clock, so a call replayed at
 * any speed gives the same events. Agitation values are 0..1.
 *
 * Resolve with {@link resolvePolicyOptions}; the result is frozen.
 */
export interface PolicyOptions {
  /**
   * Time constant of the exponential smoothing of agitation, ms of audio.
   * Per window `alpha = 1 - exp(-stepMs / tau)`: with 0.5-s hops and the
   * default, each new window moves the smoothed level ~15 % of the way.
   * Calibrated (docs/policy-calibration.md): 2–3 s catch a few more callers
   * angry from the start on our corpora, but they make the chain itself
   * slow: with 3 s even a head that jumps to 0.95 on the anger is flagged
   * 6.5 s after it starts, past the 6-s target on every caller. Since issue
   * 8's seventh round the calibration asks the chain to flag such a step
   * within 4.5 s (src/eval/step-response.ts); 1 s (with a 1.5-s dwell) is
   * its pick, at 4.0 s, and held out it detects as many calls as 3 s did.
   * @defaultValue 1000
   */
  readonly smoothingTimeConstantMs: number;
  /**
   * Most audio time one window is credited with, for smoothing and dwell
   * timers. Windows arrive every 500 ms while the caller speaks; a longer
   * step is a gap (silence, hold, agent talking). The part of a gap beyond
   * this is no evidence either way: the smoothed level holds and dwell
   * timers pause (they neither advance nor reset).
   * @defaultValue 1000
   */
  readonly maxStepMs: number;
  /**
   * Smoothed agitation at or above which a tier is entered (after
   * {@link enterDwellMs}), before the caller's own lift or drop (see
   * {@link liftStartLevel}). Must rise with the tier. Calibrated against
   * leave-one-corpus-out model output (docs/policy-calibration.md): at 0.55
   * (with 1-s smoothing) half the calm calls got a prompt; 0.65 keeps them
   * to ~10 %. Tiers 3 and 4 keep the 0.15 spacing.
   * @defaultValue `{ 2: 0.75, 3: 0.95, 4: 0.97 }` (the policy's input is the tracker's output: the head lowered 1 log-odds, so tier 2 asks a smoothed head of ≈ 0.89, tier 3 ≈ 0.98, tier 4 ≈ 0.99. Tiers 3 and 4 keep their sixth-round values on the tracker's scale, a little stricter on the head's (0.97 / 0.98 before): with 1-s smoothing the head's level is reached sooner, and at the head's old levels the demo's angry caller was handed to the special team 11.5 s after the first prompt. The validation measures only tier 2)
   */
  readonly enterThresholds: Readonly<TierThresholds>;
  /**
   * Smoothed agitation below which a tier is left (after
   * {@link exitDwellMs}). Each must be below the same tier's enter
   * threshold: the gap is the hysteresis band that stops flapping.
   * @defaultValue `{ 2: 0.60, 3: 0.80, 4: 0.82 }`
   */
  readonly exitThresholds: Readonly<TierThresholds>;
  /**
   * Audio time the smoothed level must stay at or above a tier's (effective)
   * enter threshold before the tier is entered, ms. Together with the 1-s
   * smoothing this takes three or more consistently high windows in a row,
   * so single high windows of calm speech do not get through.
   * @defaultValue 1500
   */
  readonly enterDwellMs: number;
  /**
   * Minimum audio time at a tier ≥ 2 before the call may escalate further,
   * ms. Gives the agent time to use the prompt, and keeps one burst of anger
   * from racing up the ladder with a prompt per rung; if the level is still
   * high afterwards the call jumps straight to the highest tier it
   * qualifies for. Does not delay the first escalation or de-escalation.
   * @defaultValue 5000
   */
  readonly minTierHoldMs: number;
  /**
   * Audio time the smoothed level must stay below the current tier's exit
   * threshold before the call de-escalates, ms. Longer than the enter dwell:
   * calm has to be shown, anger only has to be heard.
   * @defaultValue 8000
   */
  readonly exitDwellMs: number;
  /**
   * At most one prompt per tier per this much audio time, ms. While the call
   * stays at a tier and the caller is still at that tier's enter level, the
   * prompt is repeated (next script in rotation) once per cooldown.
   * @defaultValue 20000
   */
  readonly promptCooldownMs: number;
  /**
   * Escalations (upward tier changes) without recovering to tier 1 after
   * which the next escalation goes straight to tier 4 (handover).
   * @defaultValue 3
   */
  readonly handoverAfterEscalations: number;
  /**
   * When true, tier 4 is final: once handed over, the call stays at tier 4
   * (the special team owns it; it does not bounce back to the normal queue).
   * @defaultValue true
   */
  readonly handoverIsFinal: boolean;
  /**
   * Time constant of the caller's running baseline (a slow exponential
   * average of smoothed agitation and of its variance), ms of speech.
   * @defaultValue 30000
   */
  readonly baselineTimeConstantMs: number;
  /**
   * Speech evidence the baseline needs before it may raise thresholds, ms.
   * Until then thresholds are the fixed ones: a caller angry from the first
   * second escalates on the fixed thresholds.
   * @defaultValue 20000
   */
  readonly baselineWarmupMs: number;
  /**
   * The caller's baseline agitation at which enter thresholds are exactly
   * the configured ones: above it they rise (up to {@link maxLift}), below it
   * they fall (down to {@link maxDrop}). (Calm levels of unseen speakers with
   * the current model range 0.2–0.55, median ~0.4.)
   * @defaultValue 0.30
   */
  readonly liftStartLevel: number;
  /**
   * Threshold change per unit of baseline away from {@link liftStartLevel}.
   * 1 = thresholds follow the caller's calm level one-for-one (within the
   * ceiling and floor): a margin above the caller's own level.
   * @defaultValue 0.5
   */
  readonly liftGain: number;
  /**
   * The fixed ceiling: enter thresholds never rise more than this above their
   * configured value, so a really agitated caller always escalates.
   * 0 = thresholds never rise. Off by default: on the calibration calls the
   * old 0.10 lift cost one detected angry caller and gained no calm call
   * (docs/policy-calibration.md). Worth 0.10 again for long calls with
   * chronically tense callers, which those ~40-s calls cannot show.
   * @defaultValue 0
   */
  readonly maxLift: number;
  /**
   * The floor: enter thresholds never fall more than this below their
   * configured value for a caller whose baseline is below
   * {@link liftStartLevel} (and never to within 0.05 of the exit threshold).
   * A caller who sounds calm at 0.2 is flagged at a lower level than one
   * who sounds calm at 0.5. 0 = thresholds never fall. Off by default: with
   * the current model, caller-relative thresholds (lift and drop, every
   * setting tried) gained nothing measurable (docs/policy-calibration.md).
   * @defaultValue 0
   */
  readonly maxDrop: number;
  /**
   * Baseline standard deviation at or below which the caller counts as
   * stable (full lift or drop); it fades linearly to none at twice this.
   * @defaultValue 0.06
   */
  readonly stableStd: number;
}

/**
 * The defaults, documented on {@link PolicyOptions}. Issue 8 (seventh
 * round): smoothing 1 s, tier 2 at 0.75 (exit 0.60) on the head lowered
 * 1 log-odds (the AgitationTracker's `absoluteOffset`), dwell 1.5 s; tiers 3
 * and 4 at 0.95 / 0.97 (exits 0.15 below), which the validation does not
 * measure. Chosen by `npx tsx scripts/calibrate-policy.ts --loco-dir
 * models/training/.work/loco --require-demo --max-step-ms 4500`: the most
 * calls detected in time within the false-alarm calls the issue's targets
 * allow (each kind within its own share), among settings whose chain flags a
 * head stepping to 0.95 within 4.5 s of the onset (src/eval/step-response.ts)
 * and under which the demo behaves (docs/policy-calibration.md). Why so
 * conservative a tier 2: a contact centre switches off a monitor that
 * prompts calm callers; at these settings unseen speakers' calm calls are
 * prompted about as rarely as the targets ask, and the price (most anger in
 * our held-out corpora flagged later than 6 s, or never) is stated there.
 * Why the step requirement: without it the choice was 3-s smoothing, under
 * which even a perfect head is flagged 6.5 s after the anger starts.
 */
export const DEFAULT_POLICY_OPTIONS: PolicyOptions = Object.freeze({
  smoothingTimeConstantMs: 1000,
  maxStepMs: 1000,
  enterThresholds: Object.freeze({ 2: 0.75, 3: 0.95, 4: 0.97 }),
  exitThresholds: Object.freeze({ 2: 0.6, 3: 0.8, 4: 0.82 }),
  enterDwellMs: 1500,
  minTierHoldMs: 5000,
  exitDwellMs: 8000,
  promptCooldownMs: 20000,
  handoverAfterEscalations: 3,
  handoverIsFinal: true,
  baselineTimeConstantMs: 30000,
  baselineWarmupMs: 20000,
  liftStartLevel: 0.3,
  liftGain: 0.5,
  maxLift: 0,
  maxDrop: 0,
  stableStd: 0.06,
});

/** Policy options are invalid; `problems` lists every one found. */
export class PolicyOptionsError extends UndertoneError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('UT_ERR_POLICY_OPTIONS', `invalid policy options:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

const POSITIVE_MS: readonly (keyof PolicyOptions)[] = [
  'smoothingTimeConstantMs',
  'maxStepMs',
  'baselineTimeConstantMs',
];
const NON_NEGATIVE: readonly (keyof PolicyOptions)[] = [
  'enterDwellMs',
  'minTierHoldMs',
  'exitDwellMs',
  'promptCooldownMs',
  'baselineWarmupMs',
  'liftGain',
  'maxLift',
  'maxDrop',
  'stableStd',
];

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Merges `input` over the defaults, validates the result (listing every
 * problem at once) and freezes it.
 * @throws PolicyOptionsError when any value is out of range.
 */
export function resolvePolicyOptions(input: Partial<PolicyOptions> = {}): PolicyOptions {
  const o: PolicyOptions = {
    ...DEFAULT_POLICY_OPTIONS,
    ...input,
    enterThresholds: Object.freeze({ ...(input.enterThresholds ?? DEFAULT_POLICY_OPTIONS.enterThresholds) }),
    exitThresholds: Object.freeze({ ...(input.exitThresholds ?? DEFAULT_POLICY_OPTIONS.exitThresholds) }),
  };
  const problems: string[] = [];
  for (const k of POSITIVE_MS) {
    const v = o[k];
    if (!isFiniteNumber(v) || v <= 0) problems.push(`${k} must be a number > 0 (got ${String(v)})`);
  }
  for (const k of NON_NEGATIVE) {
    const v = o[k];
    if (!isFiniteNumber(v) || v < 0) problems.push(`${k} must be a number ≥ 0 (got ${String(v)})`);
  }
  if (!isFiniteNumber(o.liftStartLevel) || o.liftStartLevel < 0 || o.liftStartLevel > 1) {
    problems.push(`liftStartLevel must be in 0..1 (got ${String(o.liftStartLevel)})`);
  }
  if (!Number.isInteger(o.handoverAfterEscalations) || o.handoverAfterEscalations < 1) {
    problems.push(`handoverAfterEscalations must be an integer ≥ 1 (got ${String(o.handoverAfterEscalations)})`);
  }
  if (typeof o.handoverIsFinal !== 'boolean') problems.push('handoverIsFinal must be a boolean');
  for (const t of [2, 3, 4] as const) {
    const enter = o.enterThresholds[t];
    const exit = o.exitThresholds[t];
    if (!isFiniteNumber(enter) || enter <= 0 || enter > 1) {
      problems.push(`enterThresholds[${t}] must be in (0, 1] (got ${String(enter)})`);
    }
    if (!isFiniteNumber(exit) || exit < 0 || exit > 1) {
      problems.push(`exitThresholds[${t}] must be in 0..1 (got ${String(exit)})`);
    }
    if (isFiniteNumber(enter) && isFiniteNumber(exit) && exit >= enter) {
      problems.push(`exitThresholds[${t}] (${exit}) must be below enterThresholds[${t}] (${enter})`);
    }
  }
  if (!(o.enterThresholds[2] < o.enterThresholds[3] && o.enterThresholds[3] < o.enterThresholds[4])) {
    problems.push('enterThresholds must rise with the tier (2 < 3 < 4)');
  }
  if (!(o.exitThresholds[2] <= o.exitThresholds[3] && o.exitThresholds[3] <= o.exitThresholds[4])) {
    problems.push('exitThresholds must not fall with the tier (2 ≤ 3 ≤ 4)');
  }
  if (problems.length > 0) throw new PolicyOptionsError(problems);
  return Object.freeze(o);
}
