import { describe, expect, it } from 'vitest';
import { PostCallTracker, withFeedback } from '../../src/calls/post-call-summary.js';
import { handoverEvent, priorityEvent, promptEvent, recoveredEvent } from '../queue/helpers.js';

const facts = (audioMs: number) => ({
  callId: 'call-42',
  streamId: 'MZ1',
  agentId: 'a1',
  source: 'twilio',
  language: 'en-US',
  startedAt: new Date('2025-03-01T10:00:00Z'),
  endedAt: new Date('2025-03-01T10:02:00Z'),
  endReason: 'hangup' as const,
  audioMs,
});

describe('PostCallTracker', () => {
  it('counts time at each tier from the start of the call, escalations, recoveries and prompts', () => {
    const t = new PostCallTracker();
    for (const a of [0.1, 0.2, 0.9, 0.5]) t.observeAgitation(a);
    // 60 s of silence, then anger: tier 2 at 60 s, tier 3 at 70 s, back to 1 at 100 s, tier 4 at 110 s.
    t.observeEvent(priorityEvent({ seq: 1, tier: 2, previousTier: 1, audioMs: 60_000 }));
    t.observeEvent(promptEvent({ seq: 2, tier: 2, audioMs: 60_000 }), 'call-42_MZ1_2_prompt');
    t.observeEvent(priorityEvent({ seq: 3, tier: 3, previousTier: 2, audioMs: 70_000 }));
    t.observeEvent(recoveredEvent({ seq: 4, tier: 1, previousTier: 3, audioMs: 100_000 }));
    t.observeEvent(handoverEvent({ seq: 5, tier: 4, previousTier: 1, audioMs: 110_000 }));
    expect(t.recordFeedback('call-42_MZ1_2_prompt', 'used')).toBe(true);
    expect(t.recordFeedback('other', 'used')).toBe(false);
    const s = t.build(facts(120_000));
    expect(s.msAtTier).toEqual({ 1: 70_000, 2: 10_000, 3: 30_000, 4: 10_000 });
    expect(s).toMatchObject({ finalTier: 4, maxTier: 4, escalations: 3, handovers: 1, recoveryMs: [40_000], promptsSent: 1, promptsUsed: 1, promptsDismissed: 0, scoredWindows: 4 });
    expect(s.peakAgitation).toBe(0.9);
    expect(s.meanAgitation).toBeCloseTo(0.425, 10);
    expect(t.lastEventSeq).toBe(5);
    expect(s.prompts[0]).toMatchObject({ promptId: 'call-42_MZ1_2_prompt', scriptId: 'en.t2.anger.1', feedback: 'used' });
    // A later ack replaces the earlier one and the counts follow.
    const later = withFeedback(s, new Map([['call-42_MZ1_2_prompt', 'dismissed' as const]]));
    expect([later.promptsUsed, later.promptsDismissed]).toEqual([0, 1]);
  });

  it('summarises a silent call: all time at tier 1, no mean agitation', () => {
    const s = new PostCallTracker().build(facts(5000));
    expect(s).toMatchObject({ msAtTier: { 1: 5000, 2: 0, 3: 0, 4: 0 }, meanAgitation: null, peakAgitation: 0, maxTier: 1, recoveryMs: [] });
  });
});
