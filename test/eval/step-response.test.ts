import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ReplaySettings } from '../../src/eval/call-validation.js';
import { tiersFrom } from '../../src/eval/call-validation.js';
import { MAX_STEP_RESPONSE_MS, stepResponseMs } from '../../src/eval/step-response.js';
import { DEFAULT_AGITATION_TRACKER } from '../../src/model/agitation-tracker.js';
import { DEFAULT_POLICY_OPTIONS } from '../../src/policy/options.js';

const PRIOR = { calmLogit: -1.44 };

function settings(tau: number, enter2: number, dwell: number, absoluteOffset: number): ReplaySettings {
  return {
    tracker: { relative: false, absoluteOffset },
    policy: { smoothingTimeConstantMs: tau, ...tiersFrom(enter2), enterDwellMs: dwell, maxLift: 0, maxDrop: 0 },
  };
}

describe('stepResponseMs', () => {
  it('counts window fill, smoothing and dwell: slower smoothing answers later', () => {
    const slow = stepResponseMs(settings(3000, 0.75, 1000, 0.5), PRIOR);
    const fast = stepResponseMs(settings(1000, 0.75, 1500, 1), PRIOR);
    // The sixth round's defaults: 6.5 s even for a perfect head at 0.95 (over the 6-s target).
    expect(slow).toBe(6500);
    expect(fast).toBe(4000);
    // At least the half-window fill (1 s) plus the dwell.
    expect(fast).toBeGreaterThanOrEqual(1000 + 1500);
  });

  it('answers sooner to clearer anger, and never to a level under the threshold', () => {
    const s = settings(1000, 0.75, 1500, 1);
    const at = (level: number) => stepResponseMs(s, PRIOR, { level });
    expect(at(0.99)).toBeLessThanOrEqual(at(0.95));
    expect(at(0.95)).toBeLessThanOrEqual(at(0.9));
    // 0.85 lowered by 1 log-odds is 0.68 < 0.75: the tracker and threshold never flag it.
    expect(at(0.85)).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports a chain that the calm level alone trips as −Infinity, not as fast', () => {
    const twitchy = settings(500, 0.4, 500, -1);
    expect(stepResponseMs(twitchy, PRIOR, { calmLevel: 0.5 })).toBe(Number.NEGATIVE_INFINITY);
  });

  it('holds the shipped defaults, with the shipped model\'s calm prior, to the limit', () => {
    const card = JSON.parse(readFileSync(new URL('../../models/emotion.json', import.meta.url), 'utf8')) as { agitationTracker: { calmLogit: number } };
    const shipped: ReplaySettings = { policy: DEFAULT_POLICY_OPTIONS, tracker: DEFAULT_AGITATION_TRACKER };
    const ms = stepResponseMs(shipped, card.agitationTracker);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(MAX_STEP_RESPONSE_MS);
  });

  it('rejects levels outside 0..1', () => {
    expect(() => stepResponseMs(settings(1000, 0.75, 1000, 0), PRIOR, { level: 1.5 })).toThrow(RangeError);
  });
});
