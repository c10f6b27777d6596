/**
 * A call's scored windows for the API (`GET /v1/calls/:callId` timeline),
 * kept as one Float64Array of numbers instead of one object pair (window +
 * scores) per window.
 *
 * Why: at 2 windows/s a 10-minute call holds 1,200 windows. As objects that
 * is ~250 bytes each on the V8 heap (two objects, boxed doubles): ~300 KB
 * per call, more than the whole 256 KB budget of a live call. Here a window
 * is 10 doubles (80 bytes, ~96 KB at the cap), and the array grows by
 * doubling, so a short call holds only what it has scored.
 *
 * Values are stored as float64: what `windows()` returns equals what was
 * recorded. Optional score fields (`angerVsRest`, `absoluteAgitation`)
 * absent on a window are stored as NaN and come back absent — the same
 * convention as the DSP worker protocol (a present NaN comes back absent).
 */
import type { EmotionScores, ScoredWindow } from '../model/types.js';

/** Numbers per window: startMs, endMs, then the scores in this order. */
const SCORE_KEYS = ['neutral', 'anger', 'happiness', 'sadness', 'arousal', 'agitation', 'angerVsRest', 'absoluteAgitation'] as const;
const STRIDE = 2 + SCORE_KEYS.length;
/** First allocation, windows (8 s of speech). */
const INITIAL_WINDOWS = 16;

export class ScoreTimeline {
  private data = new Float64Array(0);
  /** Slots allocated, windows (≤ `max`). */
  private capacity = 0;
  /** Slot of the oldest kept window. */
  private head = 0;
  private count = 0;
  private droppedCount = 0;

  /** @param max Windows kept; older ones are dropped (counted in `dropped`). */
  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`ScoreTimeline: max must be a whole number ≥ 0, got ${max}`);
  }

  /** Windows kept. */
  get length(): number {
    return this.count;
  }

  /** Older windows no longer kept. */
  get dropped(): number {
    return this.droppedCount;
  }

  push(window: ScoredWindow): void {
    if (this.max === 0) {
      this.droppedCount += 1;
      return;
    }
    let slot: number;
    if (this.count < this.max) {
      if (this.count === this.capacity) this.grow();
      // Until the timeline is full nothing wraps: head stays 0.
      slot = this.count;
      this.count += 1;
    } else {
      slot = this.head;
      this.head = (this.head + 1) % this.max;
      this.droppedCount += 1;
    }
    const d = this.data;
    const o = slot * STRIDE;
    d[o] = window.startMs;
    d[o + 1] = window.endMs;
    const s = window.scores;
    for (let k = 0; k < SCORE_KEYS.length; k++) d[o + 2 + k] = s[SCORE_KEYS[k]!] ?? Number.NaN;
  }

  /** The kept windows, oldest first, as fresh objects. */
  windows(): ScoredWindow[] {
    const out = new Array<ScoredWindow>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i);
    return out;
  }

  /** The newest window, or undefined when none is kept. */
  last(): ScoredWindow | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  /** The i-th kept window (0 = oldest). */
  private at(i: number): ScoredWindow {
    const d = this.data;
    const o = ((this.head + i) % this.capacity) * STRIDE;
    const scores: EmotionScores = {
      neutral: d[o + 2]!,
      anger: d[o + 3]!,
      happiness: d[o + 4]!,
      sadness: d[o + 5]!,
      arousal: d[o + 6]!,
      agitation: d[o + 7]!,
    };
    const angerVsRest = d[o + 8]!;
    if (!Number.isNaN(angerVsRest)) scores.angerVsRest = angerVsRest;
    const absolute = d[o + 9]!;
    if (!Number.isNaN(absolute)) scores.absoluteAgitation = absolute;
    return { startMs: d[o]!, endMs: d[o + 1]!, scores };
  }

  private grow(): void {
    const capacity = Math.min(this.max, Math.max(INITIAL_WINDOWS, this.capacity * 2));
    const data = new Float64Array(capacity * STRIDE);
    data.set(this.data);
    this.data = data;
    this.capacity = capacity;
  }
}
