import { describe, expect, it } from 'vitest';
import type { ScoredWindow } from '../../src/model/types.js';
import type { PolicyEvent } from '../../src/policy/types.js';
import { renderTimelineSvg } from '../../src/report/score-timeline-svg.js';

const scores = (agitation: number) => ({ neutral: 1 - agitation, anger: agitation, happiness: 0, sadness: 0, arousal: agitation, agitation });

describe('renderTimelineSvg', () => {
  const windows: ScoredWindow[] = [0, 1, 2, 3].map((i) => ({ startMs: i * 500, endMs: 2000 + i * 500, scores: scores(i / 4) }));
  const events: PolicyEvent[] = [
    { type: 'priority', callId: 'c', seq: 1, audioMs: 3000, tier: 2, previousTier: 1, reason: 'r', score: 0.6, priority: 2, previousPriority: 1, customerTier: null, msAtTier: { 1: 3000, 2: 0, 3: 0, 4: 0 }, cause: 'agitation', supervisorAlert: false, seniorAssist: false },
    { type: 'prompt', callId: 'c', seq: 2, audioMs: 3000, tier: 2, reason: 'r', emotion: 'anger', situation: 'anger', score: 0.6, scriptId: 's', text: 't', language: 'en' },
  ];

  it('draws a line per score, the tier band after the change, a prompt marker and an escaped title', () => {
    const svg = renderTimelineSvg(windows, events, { title: 'call <1> & co', widthPx: 1000 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('call &lt;1&gt; &amp; co');
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    // The agitation line ends at the last window (3500 ms = the right edge), at 0.75.
    const plotW = 1000 - 48 - 150;
    const yAt075 = 36 + 0.25 * (360 - 36 - 40);
    expect(svg).toContain(`${(48 + plotW).toFixed(1)},${yAt075.toFixed(1)}`);
    // Tier 2 shading starts at the priority change (3000 of 3500 ms).
    expect(svg).toContain(`<rect x="${(48 + (3000 / 3500) * plotW).toFixed(1)}" y="36"`);
    expect(svg).toContain('>prompt</text>');
  });

  it('renders an empty call without failing', () => {
    expect(renderTimelineSvg([], [], { title: 'empty' })).toContain('</svg>');
  });
});
