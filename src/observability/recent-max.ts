/**
 * The largest value seen in each of the last N wall-clock seconds, in a ring
 * of N slots: constant memory, no allocation per observation (it runs once
 * per scored window of every call). Feeds `undertone_audio_lag_max_seconds`
 * and the overload guard's "has every recent second been late?" test.
 *
 * A second with no observation counts as 0: nothing scored, nothing late.
 */
export class RecentMax {
  /** Per slot: the largest value of its second. */
  private readonly maxima: Float64Array;
  /** Per slot: which second (floor(ms / 1000)) the slot holds; -1 = never used. */
  private readonly seconds: Float64Array;

  /** @param windowS how many seconds are kept (default 10). */
  constructor(readonly windowS = 10) {
    if (!Number.isInteger(windowS) || windowS < 1) throw new RangeError(`windowS must be a whole number ≥ 1, got ${windowS}`);
    this.maxima = new Float64Array(windowS);
    this.seconds = new Float64Array(windowS).fill(-1);
  }

  /** Records `value` at wall time `nowMs` (e.g. `performance.now()`). */
  observe(value: number, nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % this.windowS;
    if (this.seconds[slot] !== second) {
      // The slot held a second that has left the window: start it afresh.
      this.seconds[slot] = second;
      this.maxima[slot] = value;
    } else if (value > this.maxima[slot]!) {
      this.maxima[slot] = value;
    }
  }

  /** The largest value of the second `secondsAgo` before the one holding `nowMs` (0 = the current, partial second); 0 when none. */
  secondMax(nowMs: number, secondsAgo: number): number {
    const second = Math.floor(nowMs / 1000) - secondsAgo;
    if (secondsAgo < 0 || secondsAgo >= this.windowS || second < 0) return 0;
    const slot = second % this.windowS;
    return this.seconds[slot] === second ? this.maxima[slot]! : 0;
  }

  /** The largest value over the last `overS` seconds up to `nowMs`, the current partial second included; 0 when none. */
  max(nowMs: number, overS = this.windowS): number {
    let out = 0;
    const n = Math.min(overS, this.windowS);
    for (let ago = 0; ago < n; ago++) {
      const v = this.secondMax(nowMs, ago);
      if (v > out) out = v;
    }
    return out;
  }
}
