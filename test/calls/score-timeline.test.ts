/**
 * ScoreTimeline (the call's scored windows as numbers) against the array of
 * objects it replaced: push, then drop the oldest past `max`.
 */
import { describe, expect, it } from 'vitest';
import { ScoreTimeline } from '../../src/calls/score-timeline.js';
import type { ScoredWindow } from '../../src/model/types.js';
import { createRng } from '../../src/shared/random.js';

function randomWindow(rand: () => number, i: number): ScoredWindow {
  const w: ScoredWindow = {
    startMs: i * 500,
    endMs: i * 500 + 2000 + Math.floor(rand() * 3),
    scores: { neutral: rand(), anger: rand(), happiness: rand(), sadness: rand(), arousal: rand(), agitation: rand() },
  };
  // Optional fields present, absent or mixed, as the model and tracker give them.
  if (rand() < 0.7) w.scores.angerVsRest = rand();
  if (rand() < 0.5) w.scores.absoluteAgitation = rand() / 3;
  return w;
}

/** The previous storage: an array of objects, oldest shifted out past `max`. */
function reference(windows: readonly ScoredWindow[], max: number): { kept: ScoredWindow[]; dropped: number } {
  const kept: ScoredWindow[] = [];
  let dropped = 0;
  for (const w of windows) {
    kept.push(w);
    if (kept.length > max) {
      kept.shift();
      dropped++;
    }
  }
  return { kept, dropped };
}

describe('ScoreTimeline', () => {
  it.each([0, 1, 5, 16, 17, 100, 1200])('keeps what the array of objects kept (max %i), at every step', (max) => {
    const rand = createRng(max + 1);
    const windows = Array.from({ length: 2 * max + 37 }, (_, i) => randomWindow(rand, i));
    const t = new ScoreTimeline(max);
    for (let n = 1; n <= windows.length; n++) {
      t.push(windows[n - 1]!);
      // Checked at every step below 40 and then sparsely (growth, the first wrap, later wraps).
      if (n < 40 || n % 97 === 0 || n === windows.length) {
        const ref = reference(windows.slice(0, n), max);
        expect(t.windows()).toEqual(ref.kept);
        expect(t.length).toBe(ref.kept.length);
        expect(t.dropped).toBe(ref.dropped);
        expect(t.last()).toEqual(ref.kept.at(-1));
      }
    }
  });

  it('returns exactly the recorded doubles, and absent optional fields stay absent', () => {
    const t = new ScoreTimeline(4);
    const w: ScoredWindow = { startMs: 0, endMs: 2000, scores: { neutral: 0.1 + 0.2, anger: 1 / 3, happiness: Math.PI / 10, sadness: 1e-17, arousal: 0.999999999999, agitation: 0.123456789012345 } };
    t.push(w);
    const [back] = t.windows();
    expect(back).toEqual(w);
    expect(Object.keys(back!.scores)).not.toContain('angerVsRest');
    expect(back!.scores.neutral).toBe(0.1 + 0.2);
    expect(back!.scores.agitation).toBe(0.123456789012345);
  });

  it('hands out fresh objects: changing one does not change the timeline', () => {
    const t = new ScoreTimeline(3);
    t.push(randomWindow(createRng(7), 0));
    const first = t.windows()[0]!;
    first.scores.anger = 42;
    first.endMs = -1;
    expect(t.windows()[0]!.scores.anger).not.toBe(42);
    expect(t.windows()[0]!.endMs).not.toBe(-1);
  });

  it('refuses a negative or fractional bound', () => {
    expect(() => new ScoreTimeline(-1)).toThrow(RangeError);
    expect(() => new ScoreTimeline(2.5)).toThrow(RangeError);
  });
});
