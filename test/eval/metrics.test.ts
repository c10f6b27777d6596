import { describe, expect, it } from 'vitest';
import {
  addToConfusion,
  argmax,
  confusionsFor,
  emptyConfusion,
  formatConfusion,
  predictionFor,
  truthFor,
  uar,
  type ClipPrediction,
} from '../../src/eval/metrics.js';

function clip(label: string, arousal: string, emotion: number[], angerVsRest: number, arousalValue: number): ClipPrediction {
  return { label, arousal, emotion, angerVsRest, arousalValue };
}

describe('uar', () => {
  it('is the mean of per-class recalls, not accuracy', () => {
    const c = emptyConfusion(['a', 'b']);
    // 90 of class a, all right; 10 of class b, 1 right → accuracy 0.91, UAR 0.55.
    for (let i = 0; i < 90; i++) addToConfusion(c, 0, 0);
    addToConfusion(c, 1, 1);
    for (let i = 0; i < 9; i++) addToConfusion(c, 1, 0);
    expect(uar(c)).toBeCloseTo(0.55, 10);
  });

  it('leaves out classes with no true samples and is null when empty', () => {
    const c = emptyConfusion(['a', 'b', 'c']);
    expect(uar(c)).toBeNull();
    addToConfusion(c, 0, 0);
    addToConfusion(c, 2, 0);
    addToConfusion(c, 2, 2);
    expect(uar(c)).toBeCloseTo((1 + 0.5) / 2, 10);
  });

  it('rejects out-of-range classes', () => {
    expect(() => addToConfusion(emptyConfusion(['a']), 0, 1)).toThrow(RangeError);
  });
});

describe('tasks', () => {
  it('maps labels to task truths: unknown labels count for anger and arousal only', () => {
    expect(truthFor('anger', { label: 'anger', arousal: 'high' })).toBe(1);
    expect(truthFor('anger', { label: 'fear', arousal: 'high' })).toBe(0);
    expect(truthFor('anger', { label: '', arousal: 'high' })).toBe(-1);
    expect(truthFor('emotion4', { label: 'fear', arousal: 'high' })).toBe(-1);
    expect(truthFor('emotion4', { label: 'sadness', arousal: 'low' })).toBe(3);
    expect(truthFor('arousal', { label: '', arousal: 'mid' })).toBe(1);
    expect(truthFor('arousal', { label: 'anger', arousal: '' })).toBe(-1);
  });

  it('predicts anger at ≥ 0.5, emotion by argmax and arousal by thirds', () => {
    const c = clip('anger', 'high', [0.1, 0.2, 0.6, 0.1], 0.5, 0.34);
    expect(predictionFor('anger', c)).toBe(1);
    expect(predictionFor('emotion4', c)).toBe(2);
    expect(predictionFor('arousal', c)).toBe(1);
    expect(predictionFor('arousal', { ...c, arousalValue: 0.2 })).toBe(0);
    expect(predictionFor('arousal', { ...c, arousalValue: 0.9 })).toBe(2);
    expect(argmax([1, 3, 3])).toBe(1);
  });

  it('builds all three confusion matrices from clip predictions', () => {
    const clips = [
      clip('anger', 'high', [0, 1, 0, 0], 0.9, 0.9),
      clip('neutral', 'mid', [1, 0, 0, 0], 0.6, 0.5),
      clip('fear', 'high', [0, 0, 1, 0], 0.1, 0.8),
      clip('', 'low', [1, 0, 0, 0], 0.9, 0.1),
    ];
    const c = confusionsFor(clips);
    expect(c.anger.matrix).toEqual([
      [1, 1],
      [0, 1],
    ]);
    expect(uar(c.anger)).toBeCloseTo(0.75, 10);
    expect(c.emotion4.matrix.flat().reduce((a, b) => a + b, 0)).toBe(2);
    expect(uar(c.emotion4)).toBe(1);
    expect(c.arousal.matrix).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 2],
    ]);
    const text = formatConfusion('overall · anger', c.anger);
    expect(text).toContain('UAR 0.750');
    expect(text.split('\n')).toHaveLength(4);
  });
});
