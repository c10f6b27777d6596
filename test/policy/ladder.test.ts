import { describe, expect, it } from 'vitest';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import type { PolicyCallInfo } from '../../src/policy/escalation-policy.js';
import { resolveLadderOptions, type LadderOptionsInput } from '../../src/policy/ladder-options.js';
import type { PolicyOptions } from '../../src/policy/options.js';
import type { HandoverEvent, PolicyEvent, PriorityEvent, PromptEvent, RecoveredEvent } from '../../src/policy/types.js';
import { feed, noise, scores, summary, windows } from './feed.js';

/** Pinned mechanism values, independent of the calibrated defaults. */
const OPTS: Partial<PolicyOptions> = {
  smoothingTimeConstantMs: 1000,
  enterThresholds: { 2: 0.55, 3: 0.7, 4: 0.85 },
  exitThresholds: { 2: 0.4, 3: 0.55, 4: 0.7 },
  enterDwellMs: 1500,
  minTierHoldMs: 5000,
  exitDwellMs: 8000,
  promptCooldownMs: 20_000,
  maxLift: 0,
  maxDrop: 0,
};

function policy(call: Partial<PolicyCallInfo> = {}, ladder: LadderOptionsInput = {}, opts: Partial<PolicyOptions> = {}) {
  const problems: string[] = [];
  const l = resolveLadderOptions(ladder, problems);
  expect(problems).toEqual([]);
  return createEscalationPolicy({ ...OPTS, ...opts }, { ladder: l })({ callId: 'c1', language: 'en-US', agentId: 'agent-1', ...call });
}

const of = <T extends PolicyEvent['type']>(events: readonly PolicyEvent[], type: T) =>
  events.filter((e) => e.type === type) as Extract<PolicyEvent, { type: T }>[];

describe('time at tier counts from the start of the call (review defect)', () => {
  it('credits 60 s of silence before the first scored window to tier 1', () => {
    const p = policy();
    // The caller says nothing for 60 s (no scored windows), then is critical at once.
    const events = feed(p, windows(60_000, 64_000, () => 0.95));
    const handover = of(events, 'handover')[0] as HandoverEvent;
    expect(handover.audioMs).toBe(61_500);
    expect(handover.context.msAtTier).toEqual({ 1: 61_500, 2: 0, 3: 0, 4: 0 });
    expect(handover.reason).toMatch(/time at tier 1 61\.5 s$/);
    expect(p.msAtTier(70_000)).toEqual({ 1: 61_500, 2: 0, 3: 0, 4: 8500 });
  });

  it('sums to the audio position on every tier-change event', () => {
    const p = policy();
    const events = feed(p, [
      ...windows(5000, 15_000, () => 0.62),
      ...windows(15_500, 30_000, () => 0.78),
      ...windows(30_500, 60_000, () => 0.1),
    ]);
    const changes = events.filter((e): e is PriorityEvent | RecoveredEvent | HandoverEvent => e.type !== 'prompt');
    expect(changes.length).toBeGreaterThanOrEqual(3);
    for (const e of changes) {
      const t = e.msAtTier;
      expect(t[1] + t[2] + t[3] + t[4]).toBe(e.audioMs);
    }
  });
});

describe('the ladder', () => {
  it('tier 3 raises priority with a supervisor alert and a senior-assist suggestion', () => {
    const events = feed(policy(), [...windows(2000, 10_000, () => 0.62), ...windows(10_500, 20_000, () => 0.78)]);
    const raises = of(events, 'priority');
    expect(raises.map((e) => [e.previousTier, e.tier, e.supervisorAlert, e.seniorAssist])).toEqual([
      [1, 2, false, false],
      [2, 3, true, true],
    ]);
    expect(raises[1]?.reason).toMatch(/^tier 2 → 3: agitation 0\.\d\d above 0\.70 for \d\.\d s; priority raised, supervisor alerted, senior-agent assist suggested$/);
    expect(of(events, 'prompt').map((e) => e.tier)).toEqual([2, 3]);
  });

  it('waits the minimum dwell at a tier before escalating further', () => {
    const events = feed(policy(), windows(2000, 20_000, (t) => (t < 4000 ? 0.6 : 0.8)));
    const raises = of(events, 'priority');
    expect(raises[0]?.tier).toBe(2);
    expect((raises[1]?.audioMs ?? 0) - (raises[0]?.audioMs ?? 0)).toBeGreaterThanOrEqual(5000);
  });

  it('hands over on the third escalation episode without recovery, with prompts tried and a timeline', () => {
    const events = feed(policy(), [
      ...windows(2000, 10_000, () => 0.62), // 1st: → 2
      ...windows(10_500, 20_000, () => 0.78), // 2nd: → 3
      ...windows(20_500, 40_000, () => 0.47), // steps down to 2 (not recovered to 1)
      ...windows(40_500, 50_000, () => 0.78), // 3rd → handover
    ]);
    expect(summary(events.filter((e) => e.type !== 'prompt'))).toEqual([
      'priority 1→2 @3500',
      expect.stringMatching(/^priority 2→3 @/),
      expect.stringMatching(/^recovered 3→2 @/),
      expect.stringMatching(/^handover 2→4 @/),
    ]);
    const h = of(events, 'handover')[0] as HandoverEvent;
    expect(h).toMatchObject({ target: 'special-team', queue: 'special-care', tier: 4, priority: 4 });
    expect(h.context.trigger).toBe('repeated-escalations');
    expect(h.context.escalationCount).toBe(3);
    expect(h.context.promptsTried.map((p) => `${p.tier}:${p.scriptId}`)).toEqual(['2:en-US.anger.t2.1', '3:en-US.anger.t3.1']);
    const tl = h.context.timeline;
    expect(tl[0]).toMatchObject({ startMs: 0, endMs: 5000, tier: 2 });
    expect(tl.at(-1)?.endMs).toBeGreaterThanOrEqual(h.audioMs);
    expect(Math.max(...tl.map((b) => b.peakAgitation))).toBeCloseTo(h.context.peakAgitation, 3);
    expect(h.context.meanAgitation).toBeGreaterThan(0.4);
    expect(h.context.meanAgitation).toBeLessThan(h.context.peakAgitation);
  });

  it('recovers after the calm time, records recovery time, and restores priority', () => {
    const p = policy();
    const events = feed(p, [...windows(2000, 10_000, () => 0.62), ...windows(10_500, 40_000, () => 0.1)]);
    const rec = of(events, 'recovered')[0] as RecoveredEvent;
    expect(rec).toMatchObject({ previousTier: 2, tier: 1, previousPriority: 2, priority: 1, calmForMs: 8000 });
    expect(rec.recoveryMs).toBe(rec.audioMs - 3500);
    expect(rec.episodeMs).toBe(rec.recoveryMs);
    expect(p.tier).toBe(1);
  });

  it('does not flap on noisy scores hovering around the tier-2 thresholds', () => {
    const rnd = noise(11);
    const events = feed(policy(), windows(2000, 600_000, () => 0.5 + 0.12 * rnd()));
    const changes = events.filter((e) => e.type !== 'prompt');
    // Ten minutes of noise straddling 0.55: at most one entry, never a bounce.
    expect(changes.length).toBeLessThanOrEqual(1);
  });
});

describe('prompt limits', () => {
  it('sends at most maxPerMinute prompts in any 60 s however the call moves', () => {
    // Short dwell and cooldown so the call moves up and down fast.
    const knobs = { exitDwellMs: 1000, promptCooldownMs: 1000, handoverAfterEscalations: 99 };
    const emotions = ['anger', 'sadness', 'neutral'] as const; // → anger, anxiety, frustration scripts
    const input = [];
    for (let t = 2000, i = 0; t < 180_000; t += 10_000, i++) {
      const emotion = emotions[i % 3];
      input.push(...windows(t, t + 4500, () => 0.62).map((w) => ({ ...w, emotion })), ...windows(t + 5000, t + 9500, () => 0.05));
    }
    const inMinute = (prompts: PromptEvent[]) =>
      Math.max(...prompts.map((a) => prompts.filter((b) => b.audioMs >= a.audioMs && b.audioMs < a.audioMs + 60_000).length));
    const capped = of(feed(policy({}, { maxPromptsPerMinute: 2 }, knobs), input), 'prompt');
    const uncapped = of(feed(policy({}, { maxPromptsPerMinute: 100 }, knobs), input), 'prompt');
    expect(inMinute(uncapped)).toBeGreaterThan(2);
    expect(capped.length).toBeGreaterThan(3);
    expect(inMinute(capped)).toBe(2);
  });

  it('never repeats a script within a call', () => {
    const p = policy({}, { maxPromptsPerMinute: 10 }, { exitDwellMs: 1000, promptCooldownMs: 1000, handoverAfterEscalations: 99 });
    const input = [];
    for (let t = 2000; t < 300_000; t += 10_000) {
      input.push(...windows(t, t + 4500, () => 0.62), ...windows(t + 5000, t + 9500, () => 0.05));
    }
    const ids = of(feed(p, input), 'prompt').map((e) => e.scriptId);
    expect(ids.length).toBe(new Set(ids).size);
    expect(ids.length).toBe(3); // the three anger scripts of tier 2, then silence rather than repeats
  });

  it('fills {customerName} from the call metadata', () => {
    const events = feed(policy({ metadata: { customerName: 'Ms Rivera' } }), windows(2000, 5000, () => 0.62));
    expect((of(events, 'prompt')[0] as PromptEvent).text).toMatch(/^Ms Rivera, I can hear/);
  });

  it('takes the language from metadata when the start event has none', () => {
    const events = feed(policy({ language: undefined, metadata: { language: 'zh-CN' } }), windows(2000, 5000, () => 0.62));
    expect(of(events, 'prompt')[0]?.language).toBe('zh-CN');
  });

  it('falls back to the configured default language', () => {
    const p = policy({ language: 'fr-FR' }, { playbooks: { defaultLanguage: 'zh-CN' } });
    expect(of(feed(p, windows(2000, 5000, () => 0.62)), 'prompt')[0]?.language).toBe('zh-CN');
  });
});

describe('silence and the agent', () => {
  it('never escalates on gaps: the dwell pauses and the level holds while nobody speaks', () => {
    const p = policy();
    // 1 s above the bar, then 10 minutes with no caller windows (silence or the agent talking), then calm.
    const events = feed(p, [...windows(2000, 3000, () => 0.62), ...windows(603_000, 640_000, () => 0.1)]);
    expect(events).toEqual([]);
    expect(p.msAtTier(640_000)).toEqual({ 1: 640_000, 2: 0, 3: 0, 4: 0 });
  });
});

describe('customer value', () => {
  it('starts a vip call at a raised priority and escalates it at lower thresholds', () => {
    const vip = policy({ metadata: { customerTier: 'VIP' } });
    const start = vip.start();
    expect(start).toHaveLength(1);
    expect(start[0]).toMatchObject({ type: 'priority', cause: 'customer-value', tier: 1, priority: 2, previousPriority: 1, customerTier: 'vip', audioMs: 0, seq: 1 });
    expect(start[0]?.reason).toBe('customer tier vip: routing priority 2 from the start of the call; thresholds 0.05 lower');
    expect(vip.start()).toEqual([]);

    // 0.52 is below the standard 0.55 but above the vip 0.50.
    const level = () => 0.52;
    expect(feed(policy(), windows(2000, 30_000, level))).toEqual([]);
    const events = feed(vip, windows(2000, 30_000, level));
    const raise = of(events, 'priority')[0] as PriorityEvent;
    expect(raise).toMatchObject({ tier: 2, priority: 3, previousPriority: 2, customerTier: 'vip' });
    expect(raise.reason).toMatch(/above 0\.50 for 1\.5 s \(vip: thresholds 0\.05 lower\)/);
  });

  it('treats unknown customer tiers as standard', () => {
    expect(policy({ metadata: { customerTier: 'gold' } }).start()).toEqual([]);
    expect(feed(policy({ metadata: { customerTier: 'gold' } }), windows(2000, 30_000, () => 0.52))).toEqual([]);
  });

  it('follows the policy file: a tier with only a threshold offset raises no start priority', () => {
    const p = policy({ metadata: { customerTier: 'gold' } }, { customerTiers: { gold: { priorityBoost: 0, thresholdOffset: 0.1 } } });
    expect(p.start()).toEqual([]);
    expect(of(feed(p, windows(2000, 10_000, () => 0.47)), 'priority')[0]?.priority).toBe(2);
  });
});

describe('voicebot / IVR calls', () => {
  it('hands an agitated caller to a human queue at once, with context and no prompt', () => {
    const p = policy({ agentId: undefined, metadata: { botSession: 'true' } });
    expect(p.botSession).toBe(true);
    const events = feed(p, windows(2000, 8000, () => 0.62));
    expect(events.map((e) => e.type)).toEqual(['handover']);
    const h = events[0] as HandoverEvent;
    expect(h).toMatchObject({ target: 'human-queue', queue: 'human-agents', tier: 2, previousTier: 1, audioMs: 3500 });
    expect(h.context.trigger).toBe('bot-agitation');
    expect(h.reason).toMatch(/^handover to human-agents: caller agitated while with the voicebot: agitation 0\.\d\d above 0\.55 for 1\.5 s; peak/);
    // Once an agent takes the call, the ordinary ladder (with prompts) applies.
    p.setAgent('agent-7');
    expect(p.botSession).toBe(false);
    const later = feed(p, windows(8500, 30_000, () => 0.8));
    expect(later.some((e) => e.type === 'prompt')).toBe(true);
  });

  it('hands over on the third unresolved turn the gateway reports', () => {
    const p = policy({ agentId: undefined, metadata: { botSession: 'true' } });
    feed(p, windows(2000, 10_000, () => 0.2));
    expect(p.botTurn(false, 10_000)).toEqual([]);
    expect(p.botTurn(true, 15_000)).toEqual([]);
    expect(p.botTurn(false, 20_000)).toEqual([]);
    const events = p.botTurn(false, 25_000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'handover', target: 'human-queue', tier: 1, audioMs: 25_000 });
    const h = events[0] as HandoverEvent;
    expect(h.context).toMatchObject({ trigger: 'bot-unresolved-turns', unresolvedBotTurns: 3, msAtTier: { 1: 25_000, 2: 0, 3: 0, 4: 0 } });
    expect(h.reason).toMatch(/^handover to human-agents: 3 unresolved voicebot turns; /);
    // Handed over once only.
    expect(p.botTurn(false, 30_000)).toEqual([]);
  });

  it('ignores bot turns on calls with a human agent, and treats a missing agent as a bot only when configured', () => {
    const agentCall = policy();
    for (let i = 0; i < 5; i++) expect(agentCall.botTurn(false, 1000 * i)).toEqual([]);
    expect(policy({ agentId: undefined }).botSession).toBe(false);
    expect(policy({ agentId: undefined }, { bot: { missingAgentMeansBot: true } }).botSession).toBe(true);
    expect(policy({ agentId: undefined, metadata: { botSession: 'false' } }, { bot: { missingAgentMeansBot: true } }).botSession).toBe(false);
  });
});
