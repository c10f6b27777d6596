import { describe, expect, it } from 'vitest';
import { emptyCounts, type ValidationCounts } from '../../src/eval/call-validation.js';
import { frontier, renderFrontierSvg } from '../../src/eval/validation-frontier-svg.js';

const counts = (fa: number, inTime: number): ValidationCounts => ({
  ...emptyCounts(),
  neutral: 53,
  excited: 53,
  low: 53,
  calmToAngry: 53,
  angry: 54,
  excitedPrompted: fa,
  angryWithin10s: inTime,
});

describe('the validation frontier picture', () => {
  it('keeps, per false-alarm count, the most calls detected, and only counts that detect more than any cheaper one', () => {
    const grid = [counts(3, 5), counts(3, 9), counts(5, 7), counts(8, 12), counts(12, 12), counts(20, 30)];
    expect(frontier(grid)).toEqual([
      { fa: 3, detected: 9 },
      { fa: 8, detected: 12 },
      { fa: 20, detected: 30 },
    ]);
  });

  it('draws one dot per distinct point, the frontier, the allowance and every mark with its figures', () => {
    const grid = [counts(3, 9), counts(3, 9), counts(8, 12), counts(20, 30)];
    const svg = renderFrontierSvg({
      title: 'T <&>',
      grid,
      marks: [{ label: 'shipped', counts: counts(8, 12), color: '#d62728' }],
      allowance: 15.9,
      silentCalls: 212,
      detectableCalls: 107,
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('T &lt;&amp;&gt;');
    // Three distinct grid points; the duplicate is one dot with a count.
    expect(svg.match(/<circle[^>]*fill="#1f77b4"/g)).toHaveLength(3);
    expect(svg).toContain('2 setting(s): 3 false alarms, 9 in time');
    expect(svg).toMatch(/<path d="M[\d.]+,[\d.]+ H/);
    expect(svg).toContain('shipped: 8 false alarms, 12 in time');
    expect(svg).toContain("within the targets' 15.9");
    // Every setting eligible: no grey dots, one frontier, no legend line for them.
    expect(svg).not.toContain('#9e9e9e');
  });

  it('greys the settings the choice may not take and draws the solid frontier over the others only', () => {
    const grid = [counts(3, 9), counts(3, 20), counts(8, 12)];
    const svg = renderFrontierSvg({
      title: 'T',
      grid,
      eligible: [true, false, true],
      ineligibleWhy: 'step response over 4.5 s',
      marks: [],
      allowance: 15.9,
      silentCalls: 212,
      detectableCalls: 107,
    });
    expect(svg.match(/<circle[^>]*fill="#9e9e9e" fill-opacity="0.3"/g)).toHaveLength(1);
    expect(svg).toContain('3 false alarms, 20 in time (step response over 4.5 s)');
    expect(svg.match(/<circle[^>]*fill="#1f77b4"/g)).toHaveLength(2);
    // Two staircases: the dotted one over all settings, the solid one over the eligible.
    const paths = svg.match(/<path d="[^"]*"[^>]*>/g) ?? [];
    expect(paths).toHaveLength(2);
    expect(paths[0]).toContain('stroke-dasharray');
    expect(paths[1]).not.toContain('stroke-dasharray');
    expect(svg).toContain('grey, dotted frontier: step response over 4.5 s');
  });
});
