import { describe, expect, it } from 'vitest';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import { resolveLadderOptions } from '../../src/policy/ladder-options.js';
import { DEFAULT_POLICY_OPTIONS, PolicyOptionsError, resolvePolicyOptions, type PolicyOptions } from '../../src/policy/options.js';
import type { HandoverEvent, PolicyEvent, PromptEvent, TierChangeEvent } from '../../src/policy/types.js';
import { feed, noise, scores, summary, windows } from './feed.js';

/**
 * The mechanism tests (hysteresis, dwell, handover, cooldown, gaps, lift)
 * pin their own option values, so they keep testing the mechanism whatever
 * the calibrated defaults are (docs/policy-calibration.md); the defaults'
 * own behaviour is tested in 'calibrated defaults' below.
 */
const MECHANISM: Partial<PolicyOptions> = {
  smoothingTimeConstantMs: 1000,
  enterThresholds: { 2: 0.55, 3: 0.7, 4: 0.85 },
  exitThresholds: { 2: 0.4, 3: 0.55, 4: 0.7 },
  enterDwellMs: 1500,
  liftStartLevel: 0.3,
  liftGain: 0.5,
  maxLift: 0.1,
  maxDrop: 0,
  stableStd: 0.06,
};
const OPTS = resolvePolicyOptions(MECHANISM);
const factory = createEscalationPolicy(MECHANISM);
const newPolicy = (language: string | undefined = 'en-US', callId = 'call-1') => factory({ callId, language });
const defaultPolicy = () => createEscalationPolicy()({ callId: 'call-d', language: 'en' });

/** Every tier change: priority (up), recovered (down), handover (to 4). */
const priorities = (events: readonly PolicyEvent[]) => events.filter((e): e is TierChangeEvent => e.type !== 'prompt');
const handovers = (events: readonly PolicyEvent[]) => events.filter((e): e is HandoverEvent => e.type === 'handover');
const prompts = (events: readonly PolicyEvent[]) => events.filter((e): e is PromptEvent => e.type === 'prompt');

describe('escalation policy: calm and steps', () => {
  it('emits nothing for a calm caller with noisy scores over five minutes', () => {
    const rnd = noise(7);
    const policy = newPolicy();
    const events = feed(policy, windows(2000, 300_000, () => 0.18 + 0.12 * rnd()));
    expect(events).toEqual([]);
    expect(policy.tier).toBe(1);
  });

  it('escalates a step to high agitation exactly one enter dwell after the smoothed level crosses', () => {
    const policy = newPolicy();
    const input = windows(2000, 30_000, (t) => (t < 10_000 ? 0.1 : 0.7));
    let crossedAt: number | undefined;
    const events: PolicyEvent[] = [];
    for (const w of input) {
      events.push(...policy.observe(scores(w.agitation), w.audioMs));
      if (crossedAt === undefined && policy.smoothedAgitation >= OPTS.enterThresholds[2]) {
        crossedAt = w.audioMs;
      }
    }
    expect(crossedAt).toBeDefined();
    const first = priorities(events)[0];
    expect(first).toMatchObject({ type: 'priority', previousTier: 1, tier: 2, seq: 1, callId: 'call-1' });
    expect(first?.audioMs).toBe((crossedAt as number) + OPTS.enterDwellMs);
    expect(first?.reason).toMatch(/^tier 1 → 2: agitation 0\.\d\d above 0\.55 for 1\.5 s; priority raised, calming prompt to the agent$/);
    const prompt = prompts(events)[0];
    expect(prompt).toMatchObject({ tier: 2, seq: 2, emotion: 'anger', situation: 'anger', language: 'en-US', audioMs: first?.audioMs });
    expect(prompt?.scriptId).toBe('en-US.anger.t2.1');
    expect(prompt?.reason).toMatch(/^tier 2 calming script for anger: agitation 0\.\d\d above 0\.55$/);
    // No customer name in the metadata: the placeholder and its comma are gone.
    expect(prompt?.text).toMatch(/^I can hear how frustrating/);
    expect(prompt?.text.length).toBeGreaterThan(40);
  });

  it('gives identical events whatever the pace the same windows arrive at', async () => {
    const rnd = noise(42);
    const input = windows(2000, 120_000, (t) => Math.min(1, Math.max(0, (t % 40_000 < 15_000 ? 0.8 : 0.15) + 0.1 * rnd())));
    const atOnce = feed(newPolicy(), input);

    // Fed one window at a time across event-loop turns and timers of varying length.
    const slow = newPolicy();
    const paced: PolicyEvent[] = [];
    for (const [i, w] of input.entries()) {
      await new Promise((resolve) => (i % 7 === 0 ? setTimeout(resolve, i % 3) : setImmediate(resolve)));
      paced.push(...slow.observe(scores(w.agitation), w.audioMs));
    }
    expect(atOnce.length).toBeGreaterThan(3);
    expect(paced).toEqual(atOnce);
  });

  it('numbers events per call from 1 without gaps', () => {
    const events = feed(newPolicy(), windows(2000, 200_000, (t) => (t % 60_000 < 20_000 ? 0.75 : 0.1)));
    expect(events.length).toBeGreaterThan(4);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });
});

describe('escalation policy: hysteresis', () => {
  it('does not flap when noisy scores hover around the enter threshold', () => {
    const rnd = noise(3);
    const policy = newPolicy();
    const input = [
      ...windows(2000, 8000, () => 0.62),
      ...windows(8500, 180_000, () => 0.55 + 0.15 * rnd()),
    ];
    let crossings = 0;
    let above = false;
    const events: PolicyEvent[] = [];
    for (const w of input) {
      events.push(...policy.observe(scores(w.agitation), w.audioMs));
      const nowAbove = policy.smoothedAgitation >= 0.55;
      if (nowAbove !== above) crossings++;
      above = nowAbove;
    }
    // A single threshold would have changed tier at every crossing.
    expect(crossings).toBeGreaterThan(20);
    expect(summary(priorities(events))).toEqual(['priority 1→2 @3500']);
    expect(policy.tier).toBe(2);
  });

  it('de-escalates only after the exit dwell below the exit threshold, and says recovered', () => {
    const policy = newPolicy();
    const events = feed(policy, windows(2000, 12_000, () => 0.62));
    expect(policy.tier).toBe(2);
    let belowSince: number | undefined;
    let recovered: TierChangeEvent | undefined;
    for (const w of windows(12_500, 40_000, () => 0.1)) {
      const out = policy.observe(scores(w.agitation), w.audioMs);
      if (belowSince === undefined && policy.smoothedAgitation < OPTS.exitThresholds[2]) {
        belowSince = w.audioMs;
      }
      recovered ??= priorities(out)[0];
      events.push(...out);
    }
    expect(recovered).toMatchObject({ type: 'recovered', previousTier: 2, tier: 1, calmForMs: OPTS.exitDwellMs });
    expect(recovered?.audioMs).toBe((belowSince as number) + OPTS.exitDwellMs);
    expect(recovered?.reason).toMatch(/^tier 2 → 1: agitation 0\.\d\d below 0\.40 for 8\.0 s; recovered to routine \d+\.\d s after reaching tier 2$/);
    expect(prompts(events.filter((e) => e.audioMs > 12_000))).toEqual([]);
  });

  it('restarts the exit dwell when the caller flares up during recovery', () => {
    const policy = newPolicy();
    feed(policy, windows(2000, 12_000, () => 0.62));
    // Calm for 6 s, a 1.5-s flare back above the exit threshold, calm again.
    const input = [
      ...windows(12_500, 18_000, () => 0.1),
      ...windows(18_500, 20_000, () => 0.7),
      ...windows(20_500, 40_000, () => 0.1),
    ];
    const events = feed(policy, input);
    const down = priorities(events).find((e) => e.tier === 1);
    expect(down).toBeDefined();
    // Without the restart it would have come ~8 s after 12.5 s.
    expect(down?.audioMs).toBeGreaterThan(28_000);
  });

  it('steps down to the tier the level still supports', () => {
    const policy = newPolicy();
    feed(policy, windows(2000, 12_000, () => 0.78));
    expect(policy.tier).toBe(3);
    const events = feed(policy, windows(12_500, 40_000, () => 0.47));
    expect(summary(priorities(events))).toEqual([`recovered 3→2 @${priorities(events)[0]?.audioMs}`]);
    expect(priorities(events)[0]?.reason).toMatch(/below 0\.55 for 8\.0 s; stepped down to tier 2 /);
    expect(policy.tier).toBe(2);
  });
});

describe('escalation policy: angry callers and handover', () => {
  it('escalates a caller angry from the first window one dwell later', () => {
    const policy = newPolicy();
    const events = feed(policy, windows(2000, 6000, () => 0.75));
    expect(summary(events)).toEqual(['priority 1→3 @3500', 'prompt t3 @3500']);
    expect(priorities(events)[0]?.reason).toBe('tier 1 → 3: agitation 0.75 above 0.70 for 1.5 s; priority raised, supervisor alerted, senior-agent assist suggested');
    expect(priorities(events)[0]).toMatchObject({ supervisorAlert: true, seniorAssist: true, priority: 3 });
  });

  it('hands a caller critical from the first window straight to the special team with context', () => {
    const policy = newPolicy();
    const events = feed(policy, windows(2000, 6000, () => 0.95));
    expect(summary(events)).toEqual(['handover 1→4 @3500', 'prompt t4 @3500']);
    const handover = handovers(events)[0];
    expect(handover?.reason).toMatch(/^handover to special-care: critical level: agitation 0\.95 above 0\.85 for 1\.5 s; peak 0\.95; 0 prompts tried; time at tier 1 3\.5 s$/);
    expect(handover).toMatchObject({ target: 'special-team', queue: 'special-care', priority: 4 });
    expect(handover?.context).toMatchObject({
      trigger: 'level',
      peakAgitation: 0.95,
      // From the start of the call (audioMs 0), not from the first scored window at 2 s.
      msAtTier: { 1: 3500, 2: 0, 3: 0, 4: 0 },
      escalationCount: 1,
      promptsTried: [],
    });
  });

  it('hands over after three escalations without recovery', () => {
    const policy = newPolicy();
    const input = [
      ...windows(2000, 10_000, () => 0.62), // → 2
      ...windows(10_500, 20_000, () => 0.76), // → 3
      ...windows(20_500, 40_000, () => 0.47), // → 2 (not recovered)
      ...windows(40_500, 50_000, () => 0.76), // 3rd escalation → 4
    ];
    const events = feed(policy, input);
    const changes = priorities(events);
    expect(changes.map((e) => `${e.previousTier}→${e.tier}`)).toEqual(['1→2', '2→3', '3→2', '2→4']);
    const handover = handovers(events)[0];
    // The threshold shown is the effective one (0.70 plus the caller's baseline lift, at most 0.10).
    expect(handover?.reason).toMatch(/^handover to special-care: 3rd escalation without recovery \(agitation 0\.\d\d above 0\.(7\d|80) for \d\.\d s\); peak 0\.\d\d; 2 prompts tried; /);
    expect(handover?.reason).toMatch(/time at tier 1 3\.5 s, tier 2 \d+\.\d s, tier 3 \d+\.\d s$/);
    expect(handover?.context.trigger).toBe('repeated-escalations');
    expect(handover?.context.escalationCount).toBe(3);
    expect(handover?.context.promptsTried.map((p) => p.tier)).toEqual([2, 3]);
    const ms = handover?.context.msAtTier;
    expect(ms && ms[1] + ms[2] + ms[3] + ms[4]).toBe(handover?.audioMs);
    expect(handover?.context.peakAgitation).toBeGreaterThan(0.74);
    expect(handover?.context.timeline.length).toBeGreaterThan(5);
    expect(prompts(events).at(-1)).toMatchObject({ tier: 4, audioMs: handover?.audioMs });
    // Tier 4 is final by default: calm afterwards does not bring the call back.
    expect(feed(policy, windows(50_500, 120_000, () => 0.05))).toEqual([]);
    expect(policy.tier).toBe(4);
  });

  it('resets the escalation count when the caller recovers to tier 1', () => {
    const policy = newPolicy();
    const cycle = (from: number) => [
      ...windows(from, from + 10_000, () => 0.62),
      ...windows(from + 10_500, from + 30_000, () => 0.1),
    ];
    const events = feed(policy, [...cycle(2000), ...cycle(32_500), ...cycle(63_000), ...cycle(93_500)]);
    expect(priorities(events).map((e) => `${e.previousTier}→${e.tier}`)).toEqual([
      '1→2', '2→1', '1→2', '2→1', '1→2', '2→1', '1→2', '2→1',
    ]);
  });

  it('lets tier 4 de-escalate when handoverIsFinal is false', () => {
    const policy = createEscalationPolicy({ ...MECHANISM, handoverIsFinal: false })({ callId: 'c', language: 'en' });
    feed(policy, windows(2000, 6000, () => 0.95));
    expect(policy.tier).toBe(4);
    const events = feed(policy, windows(6500, 40_000, () => 0.05));
    expect(priorities(events).map((e) => `${e.previousTier}→${e.tier}`)).toEqual(['4→1']);
  });
});

describe('escalation policy: prompts and cooldown', () => {
  it('stops repeating prompts to a caller who stays steadily just above the bar', () => {
    const policy = newPolicy();
    const events = feed(policy, windows(2000, 80_000, () => 0.62));
    // Entry prompt only: after the baseline warm-up the bar rises to 0.65.
    expect(prompts(events).map((e) => e.audioMs)).toEqual([3500]);
  });

  it('repeats the prompt at most once per cooldown while the caller stays at the tier level, rotating scripts', () => {
    const ladder = resolveLadderOptions({ maxPromptsPerMinute: 10 }, []);
    const policy = createEscalationPolicy(MECHANISM, { ladder })({ callId: 'c', language: 'en-US' });
    // 0.68 stays above tier 2's enter threshold even after the baseline lift (0.55 + 0.10).
    const events = feed(policy, windows(2000, 80_000, () => 0.68));
    const p = prompts(events);
    // Three anger scripts at tier 2: the fourth reminder would repeat one, so it is not sent.
    expect(p.map((e) => e.audioMs)).toEqual([3500, 23_500, 43_500]);
    expect(p.map((e) => e.scriptId)).toEqual(['en-US.anger.t2.1', 'en-US.anger.t2.2', 'en-US.anger.t2.3']);
    expect(p[1]?.reason).toMatch(/^still at tier 2, next calming script for anger/);
    expect(summary(priorities(events))).toEqual(['priority 1→2 @3500']);
  });

  it('does not repeat a tier prompt on re-entry within the cooldown', () => {
    const policy = createEscalationPolicy({ ...MECHANISM, exitDwellMs: 2000, promptCooldownMs: 60_000 })({ callId: 'c', language: 'en' });
    const input = [
      ...windows(2000, 6000, () => 0.62),
      ...windows(6500, 14_000, () => 0.1),
      ...windows(14_500, 20_000, () => 0.62),
    ];
    const events = feed(policy, input);
    expect(priorities(events).map((e) => `${e.previousTier}→${e.tier}`)).toEqual(['1→2', '2→1', '1→2']);
    expect(prompts(events)).toHaveLength(1);
  });

  it('writes prompts in the call language, falling back to English', () => {
    const zh = feed(newPolicy('zh-TW'), windows(2000, 5000, () => 0.62));
    expect(prompts(zh)[0]).toMatchObject({ language: 'zh-CN' });
    expect(prompts(zh)[0]?.scriptId).toMatch(/^zh-CN\.anger\.t2\./);
    expect(prompts(zh)[0]?.text).toMatch(/^听得出来/);
    const fr = feed(newPolicy('fr-FR'), windows(2000, 5000, () => 0.62));
    expect(prompts(fr)[0]).toMatchObject({ language: 'en-US' });
    const none = feed(newPolicy(undefined), windows(2000, 5000, () => 0.62));
    expect(prompts(none)[0]).toMatchObject({ language: 'en-US' });
  });

  it('picks anxiety scripts for a sad-sounding aroused caller, sadness scripts for a low-arousal one', () => {
    const events = feed(newPolicy(), windows(2000, 5000, () => 0.62).map((w) => ({ ...w, emotion: 'sadness' as const })));
    expect(prompts(events)[0]).toMatchObject({ emotion: 'sadness', situation: 'anxiety', scriptId: 'en-US.anxiety.t2.1' });
    const low = newPolicy();
    const out: PolicyEvent[] = [];
    for (const w of windows(2000, 5000, () => 0.62)) out.push(...low.observe({ ...scores(w.agitation, 'sadness'), arousal: 0.3 }, w.audioMs));
    expect(prompts(out)[0]).toMatchObject({ emotion: 'sadness', situation: 'sadness', scriptId: 'en-US.sadness.t2.1' });
  });

  it('names the emotion with the anger head\'s probability when the model has one', () => {
    // The four-way head leans happy, the binary anger head (which agitation comes from) says anger.
    const run = (angerVsRest: number, lean: 'happiness' | 'sadness') => {
      const policy = newPolicy();
      const out: PolicyEvent[] = [];
      for (const w of windows(2000, 5000, () => 0.62)) {
        out.push(...policy.observe({ ...scores(w.agitation, lean), angerVsRest }, w.audioMs));
      }
      return prompts(out)[0];
    };
    expect(run(0.7, 'happiness')).toMatchObject({ emotion: 'anger', scriptId: 'en-US.anger.t2.1' });
    // A low anger-vs-rest leaves the four-way head's choice among the others.
    expect(run(0.1, 'sadness')).toMatchObject({ emotion: 'sadness' });
    expect(run(0.1, 'happiness')).toMatchObject({ emotion: 'happiness' });
  });
});

describe('escalation policy: audio gaps and bad input', () => {
  it('pauses (does not reset) the enter dwell across silence', () => {
    const policy = newPolicy();
    const input = [
      ...windows(2000, 3000, () => 0.62), // 1.0 s of dwell
      ...windows(23_000, 26_000, () => 0.62), // 20 s of silence, then speech again
    ];
    const events = feed(policy, input);
    // The gap credits at most maxStepMs (1 s): 1.0 s + 1.0 s ≥ 1.5 s at the first window back.
    expect(summary(priorities(events))).toEqual(['priority 1→2 @23000']);
  });

  it('holds the smoothed level through a gap instead of jumping to the next window', () => {
    const policy = newPolicy();
    feed(policy, windows(2000, 10_000, () => 0.1));
    policy.observe(scores(0.9), 60_000);
    // One credited step of 1 s: 0.1 + 0.8 × (1 - e^-1) ≈ 0.61, not 0.9.
    expect(policy.smoothedAgitation).toBeCloseTo(0.1 + 0.8 * (1 - Math.exp(-1)), 6);
  });

  it('ignores windows that go back in time or carry no number', () => {
    const policy = newPolicy();
    feed(policy, windows(2000, 5000, () => 0.1));
    const before = policy.smoothedAgitation;
    expect(policy.observe(scores(1), 4000)).toEqual([]);
    expect(policy.observe(scores(Number.NaN), 5500)).toEqual([]);
    expect(policy.smoothedAgitation).toBe(before);
  });
});

describe('escalation policy: dynamic thresholds', () => {
  const chronic = (rnd: () => number, spread: number) => windows(2000, 60_000, () => 0.5 + spread * rnd());

  it('raises the bar for a caller who is steadily mildly agitated', () => {
    const policy = newPolicy();
    const events = feed(policy, [...chronic(noise(5), 0.02), ...windows(60_500, 120_000, () => 0.6)]);
    expect(events).toEqual([]);
  });

  it('gives no lift to a caller whose level swings', () => {
    const policy = newPolicy();
    const swings = windows(2000, 60_000, (t) => (Math.floor(t / 4000) % 2 === 0 ? 0.2 : 0.53));
    const events = feed(policy, [...swings, ...windows(60_500, 120_000, () => 0.6)]);
    expect(priorities(events)[0]).toMatchObject({ previousTier: 1, tier: 2 });
    expect(priorities(events)[0]?.reason).toMatch(/above 0\.55 for 1\.5 s;/);
  });

  it('never lifts above the ceiling: a chronically tense caller who gets angry still escalates', () => {
    const policy = newPolicy();
    const events = feed(policy, [...chronic(noise(9), 0.02), ...windows(60_500, 70_000, () => 0.8)]);
    const first = priorities(events)[0];
    expect(first).toMatchObject({ previousTier: 1 });
    expect(first?.reason).toMatch(/above 0\.(6[5-9]|7\d|8[0-5]) for/);
    // The lift is at most maxLift (0.10) above the configured 0.55.
    const threshold = Number(/above (\d\.\d\d)/.exec(first?.reason ?? '')?.[1]);
    expect(threshold).toBeLessThanOrEqual(0.65 + 1e-9);
    expect(threshold).toBeGreaterThan(0.55);
  });
});

describe('escalation policy: calibrated defaults', () => {
  const threshold = (e: TierChangeEvent | undefined) => Number(/above (\d\.\d\d)/.exec(e?.reason ?? '')?.[1]);

  it('raises nothing for a calm caller with noisy scores and short spikes', () => {
    const rnd = noise(11);
    // Calm at ~0.4 (the median calm level of unseen speakers), with a one-window spike every 10 s.
    const input = windows(2000, 120_000, (t) => (t % 10_000 === 0 ? 0.95 : 0.4 + 0.12 * rnd()));
    const policy = defaultPolicy();
    expect(feed(policy, input)).toEqual([]);
    expect(policy.tier).toBe(1);
  });

  it('catches a caller angry from the first window on the fixed thresholds', () => {
    // The policy's input is the tracker's output: the shipped tracker raises the head 1 log-odds, so a head at 0.8 arrives as 0.92.
    const events = feed(defaultPolicy(), windows(2000, 10_000, () => 0.92));
    const first = priorities(events)[0];
    expect(first).toMatchObject({ previousTier: 1 });
    expect(first?.tier).toBeGreaterThanOrEqual(2);
    expect(threshold(first)).toBe(DEFAULT_POLICY_OPTIONS.enterThresholds[first?.tier as 2]);
    expect(prompts(events)).toHaveLength(1);
    expect((first?.audioMs as number) - 2000).toBeLessThanOrEqual(4000);
  });

  it('keeps stays-calm-like noise quiet and still flags a sustained rise', () => {
    // A calm caller whose model scores wander up to ~0.6 for a few seconds (as measured on unseen speakers).
    const wander = (t: number) => (t % 20_000 < 3000 ? 0.6 : 0.35);
    const calm = feed(defaultPolicy(), windows(2000, 60_000, wander));
    expect(calm).toEqual([]);
    // 0.97: a head reading of ~0.95 after the shipped tracker's raise of 0.5 log-odds.
    const angry = feed(defaultPolicy(), [...windows(2000, 30_000, wander), ...windows(30_500, 45_000, () => 0.97)]);
    const up = priorities(angry)[0];
    expect(up).toMatchObject({ previousTier: 1, tier: 2 });
    expect((up?.audioMs as number) - 30_500).toBeLessThanOrEqual(6000);
  });
});

describe('escalation policy: thresholds relative to the caller (maxDrop)', () => {
  const threshold = (e: TierChangeEvent | undefined) => Number(/above (\d\.\d\d)/.exec(e?.reason ?? '')?.[1]);
  const relative = {
    smoothingTimeConstantMs: 2000,
    enterThresholds: { 2: 0.65, 3: 0.8, 4: 0.95 },
    exitThresholds: { 2: 0.4, 3: 0.55, 4: 0.7 },
    liftStartLevel: 0.4,
    liftGain: 1,
    maxLift: 0.1,
    maxDrop: 0.2,
    stableStd: 0.15,
  } satisfies Partial<PolicyOptions>;
  const relativePolicy = (o: Partial<PolicyOptions> = relative) => createEscalationPolicy(o)({ callId: 'r', language: 'en' });

  it('flags a quiet caller at 0.55 but not a tense one', () => {
    const quiet = feed(relativePolicy(), [...windows(2000, 30_000, () => 0.2), ...windows(30_500, 45_000, () => 0.55)]);
    const tense = feed(relativePolicy(), [...windows(2000, 30_000, () => 0.5), ...windows(30_500, 45_000, () => 0.55)]);
    const up = priorities(quiet)[0];
    expect(up).toMatchObject({ previousTier: 1, tier: 2 });
    // Lowered below the configured bar, by at most maxDrop.
    expect(threshold(up)).toBeLessThan(relative.enterThresholds[2]);
    expect(threshold(up)).toBeGreaterThanOrEqual(relative.enterThresholds[2] - relative.maxDrop - 1e-9);
    expect(tense).toEqual([]);
  });

  it('never lowers an enter threshold to the exit threshold, whatever maxDrop', () => {
    const o = { ...relative, maxDrop: 1 };
    const events = feed(relativePolicy(o), [...windows(2000, 30_000, () => 0.05), ...windows(30_500, 45_000, () => 0.5)]);
    const up = priorities(events)[0];
    expect(up).toMatchObject({ previousTier: 1, tier: 2 });
    expect(threshold(up)).toBeCloseTo(relative.exitThresholds[2] + 0.05, 6);
    expect(feed(relativePolicy(o), windows(2000, 45_000, () => 0.05))).toEqual([]);
  });
});

describe('policy options', () => {
  it('are frozen and documented defaults apply', () => {
    const o = resolvePolicyOptions();
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.enterThresholds)).toBe(true);
    expect(o).toEqual(DEFAULT_POLICY_OPTIONS);
    expect(resolvePolicyOptions({ exitDwellMs: 5000 }).exitDwellMs).toBe(5000);
  });

  it('list every problem at once with a code', () => {
    let error: unknown;
    try {
      createEscalationPolicy({
        smoothingTimeConstantMs: 0,
        enterThresholds: { 2: 0.55, 3: 0.7, 4: 0.85 },
        exitThresholds: { 2: 0.6, 3: 0.55, 4: 0.7 },
        handoverAfterEscalations: 1.5,
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyOptionsError);
    const e = error as PolicyOptionsError;
    expect(e.code).toBe('UT_ERR_POLICY_OPTIONS');
    expect(e.problems).toEqual([
      'smoothingTimeConstantMs must be a number > 0 (got 0)',
      'handoverAfterEscalations must be an integer ≥ 1 (got 1.5)',
      'exitThresholds[2] (0.6) must be below enterThresholds[2] (0.55)',
      'exitThresholds must not fall with the tier (2 ≤ 3 ≤ 4)',
    ]);
  });
});
