import { describe, expect, it } from 'vitest';
import { fixtureStartS } from '../../src/bench/load-run.js';
import { frameForAudioMs, framesDue, isAngryCall, staggerOffsets } from '../../src/bench/pacing.js';

describe('frame pacing', () => {
  it('frame f is due at start + 20 f ms; never more than the call has', () => {
    expect(framesDue(1000, 999, 100)).toBe(0);
    expect(framesDue(1000, 1000, 100)).toBe(1);
    expect(framesDue(1000, 1019.9, 100)).toBe(1);
    expect(framesDue(1000, 1020, 100)).toBe(2);
    expect(framesDue(1000, 1000 + 60_000, 100)).toBe(100);
  });

  it('a window ending at audio ms t was completed by frame ceil(t/20) − 1', () => {
    expect(frameForAudioMs(20)).toBe(0);
    expect(frameForAudioMs(21)).toBe(1);
    expect(frameForAudioMs(26_000)).toBe(1299);
    expect(frameForAudioMs(0)).toBe(0);
  });

  it('spreads call starts evenly over the ramp', () => {
    expect(staggerOffsets(4, 1000)).toEqual([0, 250, 500, 750]);
    expect(staggerOffsets(1, 1000)).toEqual([0]);
  });

  it('makes the asked share of calls angry, spread out', () => {
    const angry = (n: number, share: number): number => Array.from({ length: n }, (_, i) => isAngryCall(i, share)).filter(Boolean).length;
    expect(angry(100, 0.5)).toBe(50);
    expect(angry(100, 0.3)).toBe(30);
    expect(angry(10, 0)).toBe(0);
    expect(angry(10, 1)).toBe(10);
    expect(Array.from({ length: 4 }, (_, i) => isAngryCall(i, 0.5))).toEqual([false, true, false, true]);
  });
});

describe('fixture start for short calls', () => {
  const angry = { name: 'a', angry: true, mulaw: new Uint8Array(0), promptByS: 27 };
  it('a call too short to reach the expected prompt starts later in the angry fixture', () => {
    expect(fixtureStartS(angry, 30)).toBe(0);
    expect(fixtureStartS(angry, 10)).toBe(19);
    expect(fixtureStartS({ name: 'c', angry: false, mulaw: new Uint8Array(0) }, 10)).toBe(0);
  });
});
