/**
 * The largest value seen in each of the last N ticks (seconds, when its
 * owner calls `tick()` once a second), in a ring of N slots: constant memory
 * and no allocation per observation (it runs once per scored window of every
 * call; even reading a clock there would allocate, as `performance.now()`
 * returns a heap number). Feeds `undertone_audio_lag_max_seconds`.
 *
 * A tick with no observation counts as 0: nothing scored, nothing late.
 */
export class RecentMax {
  /** Largest value of each closed tick; `head` is the slot the next tick closes into. */
  private readonly ticks: Float64Array;
  private head = 0;
  /** Largest value of the tick in progress. */
  private current = 0;

  /** @param windowTicks how many closed ticks are kept besides the current one (default 10). */
  constructor(readonly windowTicks = 10) {
    if (!Number.isInteger(windowTicks) || windowTicks < 1) throw new RangeError(`windowTicks must be a whole number ≥ 1, got ${windowTicks}`);
    this.ticks = new Float64Array(windowTicks);
  }

  /** Records a value in the current tick. */
  observe(value: number): void {
    if (value > this.current) this.current = value;
  }

  /** Closes the current tick (call once a second); the oldest closed tick leaves the window. */
  tick(): void {
    this.ticks[this.head] = this.current;
    this.head = (this.head + 1) % this.windowTicks;
    this.current = 0;
  }

  /** The largest value over the current tick and the last `windowTicks − 1` closed ones (≈ the last `windowTicks` seconds); 0 when none. */
  max(): number {
    let out = this.current;
    // The newest windowTicks − 1 closed ticks: with the current one, windowTicks in all.
    for (let k = 1; k < this.windowTicks; k++) {
      const v = this.ticks[(this.head - k + this.windowTicks) % this.windowTicks]!;
      if (v > out) out = v;
    }
    return out;
  }
}
