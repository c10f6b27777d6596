import type { PolicyOptions } from './options.js';
import type { Tier } from './types.js';

type EnterTier = Exclude<Tier, 1>;

/** A tier change the hysteresis has decided on, with what justified it. */
export interface TierDecision {
  direction: 'up' | 'down';
  from: Tier;
  to: Tier;
  /** Threshold that was crossed: the target's enter threshold (up) or the current tier's exit threshold (down). */
  threshold: number;
  /** How long the level stayed past it, ms of credited audio. */
  dwellMs: number;
}

const NOT_RUNNING = -1;
// Hoisted so a window allocates nothing here.
const ENTER_TIERS_UP: readonly EnterTier[] = [2, 3, 4];
const ENTER_TIERS_DOWN: readonly EnterTier[] = [4, 3, 2];
const LOWER_TIERS_DOWN: readonly (2 | 3)[] = [3, 2];

/**
 * Tier state with hysteresis on the smoothed agitation.
 *
 * Up: for each tier above the current one, a dwell timer runs while the
 * level is at or above that tier's (effective) enter threshold and resets the
 * moment it is not. When a timer reaches `enterDwellMs` the call moves to the
 * highest such tier (it may skip tiers: a caller who goes straight to 0.9 is
 * critical, not "operational first"). Above tier 1, further escalation waits
 * until the call has been at its tier for `minTierHoldMs`.
 *
 * Down: one timer runs while the level is below the current tier's exit
 * threshold, reset by any window at or above it. At `exitDwellMs` the call
 * moves to the highest lower tier whose exit threshold the level still
 * reaches, or to tier 1 (recovered).
 *
 * Timers count credited audio (see `creditedStepMs`): the first window past
 * a threshold starts its timer at 0, each further window adds its step. Gaps
 * (silence) pause timers; they neither advance nor reset them.
 */
export class TierHysteresis {
  private current: Tier = 1;
  // Indexed by tier (0 and 1 unused); NOT_RUNNING when the level is not past it.
  private readonly aboveMs = [NOT_RUNNING, NOT_RUNNING, NOT_RUNNING, NOT_RUNNING, NOT_RUNNING];
  private belowMs = NOT_RUNNING;
  private enteredAtMs = 0;

  constructor(private readonly options: PolicyOptions) {}

  get tier(): Tier {
    return this.current;
  }

  /**
   * Advances the timers by one window and returns the change it calls for,
   * without applying it (the policy may redirect it, e.g. to a handover).
   */
  step(
    audioMs: number,
    smoothed: number,
    stepMs: number,
    enterThreshold: (tier: EnterTier) => number,
    allowDown: boolean,
  ): TierDecision | null {
    const o = this.options;
    for (const t of ENTER_TIERS_UP) {
      const above = smoothed >= enterThreshold(t);
      const running = this.aboveMs[t] as number;
      this.aboveMs[t] = !above ? NOT_RUNNING : running === NOT_RUNNING ? 0 : running + stepMs;
    }
    const holding = this.current !== 1 && audioMs - this.enteredAtMs < o.minTierHoldMs;
    for (const t of ENTER_TIERS_DOWN) {
      if (t <= this.current || holding) break;
      const dwell = this.aboveMs[t] as number;
      if (dwell >= o.enterDwellMs) {
        return { direction: 'up', from: this.current, to: t, threshold: enterThreshold(t), dwellMs: dwell };
      }
    }

    if (this.current === 1 || !allowDown) {
      this.belowMs = NOT_RUNNING;
      return null;
    }
    const exit = o.exitThresholds[this.current as EnterTier];
    if (smoothed >= exit) {
      this.belowMs = NOT_RUNNING;
      return null;
    }
    this.belowMs = this.belowMs === NOT_RUNNING ? 0 : this.belowMs + stepMs;
    if (this.belowMs < o.exitDwellMs) return null;
    let to: Tier = 1;
    for (const t of LOWER_TIERS_DOWN) {
      if (t < this.current && smoothed >= o.exitThresholds[t]) {
        to = t;
        break;
      }
    }
    return { direction: 'down', from: this.current, to, threshold: exit, dwellMs: this.belowMs };
  }

  /** Commits a tier change; the exit timer starts afresh at the new tier. */
  moveTo(tier: Tier, audioMs: number): void {
    this.current = tier;
    this.enteredAtMs = audioMs;
    this.belowMs = NOT_RUNNING;
  }
}
