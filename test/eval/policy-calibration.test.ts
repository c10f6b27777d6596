import { describe, expect, it } from 'vitest';
import type { EmotionScores } from '../../src/model/types.js';
import { evaluateOptionSet, type CalibCall } from '../../src/eval/policy-calibration.js';

function scores(agitation: number): EmotionScores {
  return { neutral: 0.25, anger: 0.25, happiness: 0.25, sadness: 0.25, arousal: 0.5, agitation };
}

/** A call of `seconds` with windows every 0.5 s; agitation from `level(ms)`. */
function call(kind: CalibCall['kind'], seconds: number, level: (ms: number) => number, onsetMs: number | null = null): CalibCall {
  const windows = [];
  for (let ms = 2000; ms <= seconds * 1000; ms += 500) windows.push({ audioMs: ms, scores: scores(level(ms)) });
  return { corpus: 'c', speaker: `s-${kind}`, kind, model: 'test', onsetMs, durationMs: seconds * 1000, windows };
}

describe('evaluateOptionSet', () => {
  const options = { enterThresholds: { 2: 0.7, 3: 0.85, 4: 0.95 }, exitThresholds: { 2: 0.55, 3: 0.7, 4: 0.8 } };

  it('counts detection from onset, lead-in prompts, and happy-call prompts apart from the calm budget', () => {
    const calls = [
      call('calm', 40, () => 0.2),
      call('calm-then-angry', 45, (ms) => (ms < 25_000 ? 0.2 : 0.95), 25_000),
      call('angry', 20, () => 0.95, 0),
      call('happy', 40, () => 0.9),
    ];
    const r = evaluateOptionSet('t', options, calls);
    expect(r).toMatchObject({ calmCalls: 1, calmWithPrompt: 0, angryCalls: 1, detected: 1, angryFirstCalls: 1, angryFirstDetected: 1 });
    expect(r.within4s).toBe(1);
    expect(r.medianDetectedLatencyS!).toBeGreaterThan(0);
    expect(r.medianDetectedLatencyS!).toBeLessThanOrEqual(4);
    // The happy caller was prompted: reported, but not part of the calm-speech rate.
    expect(r).toMatchObject({ happyCalls: 1, happyWithPrompt: 1, calmSpeechAlarmRate: 0 });
  });

  it('counts a prompt before onset as a lead-in false alarm, and a never-flagged call as infinite latency', () => {
    const calls = [
      // Agitated throughout, with tiers still rising after onset: a lead-in prompt and a detection.
      call('calm-then-angry', 45, (ms) => (ms < 25_000 ? 0.8 : 0.97), 25_000),
      call('calm-then-angry', 45, () => 0.1, 25_000),
    ];
    const r = evaluateOptionSet('t', options, calls);
    expect(r.leadInWithPrompt).toBe(1);
    expect(r.calmSpeechAlarmRate).toBeCloseTo(0.5, 9);
    expect(r.detected).toBe(1);
    // Half the calls never flagged: the median latency is not a number of seconds.
    expect(r.medianLatencyS).toBeNull();
    expect(r.medianDetectedLatencyS).not.toBeNull();
  });
});
