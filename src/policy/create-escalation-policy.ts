import type { EmotionScores } from '../model/types.js';
import type { PromptTier, ScriptSelector } from '../playbooks/types.js';
import { CallHistory } from './call-history.js';
import { DynamicThresholds } from './dynamic-thresholds.js';
import type { EscalationPolicy, EscalationPolicyFactory, PolicyCallInfo } from './escalation-policy.js';
import { TierHysteresis, type TierDecision } from './hysteresis.js';
import { DEFAULT_LADDER_OPTIONS, type CustomerTierRule, type LadderOptions } from './ladder-options.js';
import { resolvePolicyOptions, type PolicyOptions } from './options.js';
import { PromptLimiter } from './prompt-limiter.js';
import {
  customerNote,
  customerValueReason,
  escalationReason,
  handoverReason,
  promptReason,
  recoveryReason,
} from './reasons.js';
import { defaultScriptSelector } from './default-selector.js';
import { situationFor } from './situation.js';
import { ExponentialSmoother, ScoreSmoother, creditedStepMs } from './smoothing.js';
import type {
  HandoverContext,
  HandoverEvent,
  HandoverTrigger,
  PolicyEvent,
  PriorityEvent,
  PromptEvent,
  RecoveredEvent,
  Tier,
} from './types.js';

/** Collaborators and ladder knobs of the policy, replaceable in tests or from a policy file. */
export interface EscalationPolicyDeps {
  /** Picks the calming script for a prompt. @defaultValue the playbooks in `config/playbooks` (loaded on first use) */
  selectScript?: ScriptSelector;
  /** The ladder's knobs (prompt cap, customer tiers, bot rules, …). @defaultValue {@link DEFAULT_LADDER_OPTIONS} */
  ladder?: LadderOptions;
}

const NO_CUSTOMER_RULE: CustomerTierRule = Object.freeze({ priorityBoost: 0, thresholdOffset: 0 });

/**
 * Builds the policy factory: options are resolved, validated and frozen
 * once (and once per customer tier with lowered thresholds); each call gets
 * its own {@link EscalationPolicy}.
 * @throws PolicyOptionsError when an option is out of range.
 */
export function createEscalationPolicy(
  options: Partial<PolicyOptions> = {},
  deps: EscalationPolicyDeps = {},
): EscalationPolicyFactory {
  const resolved = resolvePolicyOptions(options);
  const ladder = deps.ladder ?? DEFAULT_LADDER_OPTIONS;
  const select = deps.selectScript ?? defaultScriptSelector(ladder);
  // Per customer tier: the options with thresholds lowered by its offset.
  const byCustomerTier = new Map<string, PolicyOptions>();
  for (const [name, rule] of Object.entries(ladder.customerTiers)) {
    byCustomerTier.set(name, rule.thresholdOffset > 0 ? lowerThresholds(resolved, rule.thresholdOffset) : resolved);
  }
  return (call: PolicyCallInfo) => {
    const customerTier = call.metadata?.customerTier?.trim().toLowerCase() || null;
    const rule = customerTier !== null ? ladder.customerTiers[customerTier] : undefined;
    const callOptions = (customerTier !== null && byCustomerTier.get(customerTier)) || resolved;
    return new CallEscalationPolicy(call, callOptions, ladder, select, customerTier, rule ?? NO_CUSTOMER_RULE);
  };
}

/** Enter and exit thresholds lowered by `offset` (floors keep them valid and the bands open). */
function lowerThresholds(o: PolicyOptions, offset: number): PolicyOptions {
  const lower = (x: number, floor: number): number => Math.max(Math.round((x - offset) * 1000) / 1000, floor);
  return resolvePolicyOptions({
    ...o,
    enterThresholds: { 2: lower(o.enterThresholds[2], 0.06), 3: lower(o.enterThresholds[3], 0.07), 4: lower(o.enterThresholds[4], 0.08) },
    exitThresholds: { 2: lower(o.exitThresholds[2], 0), 3: lower(o.exitThresholds[3], 0.01), 4: lower(o.exitThresholds[4], 0.02) },
  });
}

/**
 * One call's policy: smoothing → dynamic thresholds → hysteresis → events.
 * Pure state machine over (scores, audioMs) and the gateway's reports: no
 * clock, no I/O, no randomness, so the same sequence always yields the same events.
 */
class CallEscalationPolicy implements EscalationPolicy {
  private readonly smoother: ScoreSmoother;
  private readonly arousal: ExponentialSmoother;
  private readonly thresholds: DynamicThresholds;
  private readonly hysteresis: TierHysteresis;
  private readonly limiter: PromptLimiter;
  private readonly history: CallHistory;
  private readonly usedScripts = new Set<string>();
  private readonly values: Readonly<Record<string, string>>;
  private readonly explicitBot: boolean;
  private lastAudioMs: number | undefined;
  private seq = 0;
  private started = false;
  private isBot: boolean;
  private botHandedOver = false;
  private unresolvedTurns = 0;
  private escalationsSinceRecovery = 0;
  private enteredTierAtMs = 0;
  private episodeStartMs = 0;
  // Bound once, not per window.
  private readonly enterThreshold = (tier: PromptTier): number => this.thresholds.enter(tier);

  constructor(
    private readonly call: PolicyCallInfo,
    private readonly options: PolicyOptions,
    private readonly ladder: LadderOptions,
    private readonly select: ScriptSelector,
    private readonly customerTier: string | null,
    private readonly customerRule: CustomerTierRule,
  ) {
    this.smoother = new ScoreSmoother(options.smoothingTimeConstantMs);
    this.arousal = new ExponentialSmoother(options.smoothingTimeConstantMs);
    this.thresholds = new DynamicThresholds(options);
    this.hysteresis = new TierHysteresis(options);
    this.limiter = new PromptLimiter(options.promptCooldownMs, ladder.maxPromptsPerMinute);
    this.history = new CallHistory(ladder.handover.timelineBucketMs);
    const metadata = call.metadata ?? {};
    this.values = { ...ladder.playbooks.values, ...metadata };
    const botFlag = metadata.botSession?.trim().toLowerCase();
    this.explicitBot = botFlag === 'true' || botFlag === '1' || botFlag === 'yes';
    const agentMissing = call.agentId === undefined || call.agentId === '';
    this.isBot = botFlag === 'false' ? false : this.explicitBot || (ladder.bot.missingAgentMeansBot && agentMissing);
  }

  get tier(): Tier {
    return this.hysteresis.tier;
  }

  get priority(): number {
    return this.priorityOf(this.tier);
  }

  get smoothedAgitation(): number {
    return this.smoother.agitation;
  }

  get botSession(): boolean {
    return this.isBot;
  }

  msAtTier(audioMs: number) {
    return this.history.msAtTier(audioMs, this.tier);
  }

  setAgent(agentId: string | null): void {
    this.isBot = agentId === null || agentId === '' ? this.explicitBot || this.ladder.bot.missingAgentMeansBot : false;
  }

  start(): PolicyEvent[] {
    if (this.started) return [];
    this.started = true;
    if (this.customerTier === null || this.customerRule.priorityBoost === 0) return [];
    const event: PriorityEvent = {
      ...this.changeFields(1, 0),
      type: 'priority',
      reason: customerValueReason(this.customerTier, this.priority, this.customerRule.thresholdOffset),
      score: 0,
      previousPriority: 1,
      cause: 'customer-value',
      supervisorAlert: false,
      seniorAssist: false,
    };
    return [event];
  }

  botTurn(resolved: boolean, audioMs: number): PolicyEvent[] {
    const events = this.start();
    if (!this.isBot || this.botHandedOver || !Number.isFinite(audioMs)) return events;
    // A report can only move the clock forward (it may arrive before the last window was scored).
    const at = Math.max(audioMs, this.lastAudioMs ?? 0);
    this.history.advance(at, this.tier);
    if (resolved) return events;
    this.unresolvedTurns += 1;
    if (this.unresolvedTurns < this.ladder.bot.unresolvedTurns) return events;
    this.botHandedOver = true;
    events.push(this.handover('bot-unresolved-turns', this.tier, at, undefined));
    return events;
  }

  observe(scores: EmotionScores, audioMs: number): PolicyEvent[] {
    // A window that is not a number, or that goes back in time (a replayed or
    // reordered window), is no evidence: ignore it rather than corrupt state.
    if (!Number.isFinite(audioMs) || !Number.isFinite(scores.agitation)) return [];
    if (this.lastAudioMs !== undefined && audioMs < this.lastAudioMs) return [];
    const events = this.start();

    const stepMs = creditedStepMs(this.lastAudioMs, audioMs, this.options.maxStepMs);
    this.history.advance(audioMs, this.tier);
    this.lastAudioMs = audioMs;

    const smoothed = this.smoother.update(scores, stepMs);
    if (Number.isFinite(scores.arousal)) this.arousal.update(Math.min(Math.max(scores.arousal, 0), 1), stepMs);
    this.thresholds.update(smoothed, stepMs);
    this.history.recordScore(audioMs, smoothed, this.tier);

    const allowDown = !(this.options.handoverIsFinal && this.tier === 4);
    const decision = this.hysteresis.step(audioMs, smoothed, stepMs, this.enterThreshold, allowDown);
    if (decision !== null) {
      this.applyDecision(decision, smoothed, audioMs, events);
      this.history.setBucketTier(this.tier);
    } else if (this.tier === 2 || this.tier === 3) {
      const threshold = this.thresholds.enter(this.tier);
      // Still at this tier's level: the next script, at most once per cooldown.
      if (smoothed >= threshold) this.maybePrompt(this.tier, smoothed, threshold, audioMs, true, events);
    }
    return events;
  }

  private priorityOf(tier: Tier): number {
    return tier + this.customerRule.priorityBoost;
  }

  private changeFields(previousTier: Tier, audioMs: number) {
    return {
      callId: this.call.callId,
      audioMs,
      tier: this.tier,
      seq: ++this.seq,
      previousTier,
      priority: this.priority,
      previousPriority: this.priorityOf(previousTier),
      customerTier: this.customerTier,
      msAtTier: this.history.msAtTier(audioMs, this.tier),
    };
  }

  private applyDecision(decision: TierDecision, smoothed: number, audioMs: number, events: PolicyEvent[]): void {
    const from = this.tier;
    if (decision.direction === 'down') {
      const recoveryMs = audioMs - this.enteredTierAtMs;
      const episodeMs = audioMs - this.episodeStartMs;
      this.moveTo(decision.to, audioMs);
      if (decision.to === 1) this.escalationsSinceRecovery = 0;
      const event: RecoveredEvent = {
        ...this.changeFields(from, audioMs),
        type: 'recovered',
        reason: recoveryReason(decision, smoothed, recoveryMs),
        score: smoothed,
        recoveryMs,
        episodeMs,
        calmForMs: decision.dwellMs,
      };
      events.push(event);
      return;
    }

    if (from === 1) this.episodeStartMs = audioMs;
    this.escalationsSinceRecovery += 1;
    const note = customerNote(this.customerTier, this.customerRule.thresholdOffset);

    if (this.isBot && !this.botHandedOver && decision.to >= this.ladder.bot.handoverAtTier) {
      // Nobody on the call can use a calming script: hand the caller to a
      // human now, with what we know, so they need not repeat themselves.
      this.botHandedOver = true;
      this.moveTo(decision.to, audioMs);
      events.push(this.handover('bot-agitation', from, audioMs, decision, smoothed, note));
      return;
    }
    const repeated = this.escalationsSinceRecovery >= this.options.handoverAfterEscalations;
    if (decision.to === 4 || repeated) {
      this.moveTo(4, audioMs);
      events.push(this.handover(decision.to === 4 ? 'level' : 'repeated-escalations', from, audioMs, decision, smoothed, note));
      this.maybePrompt(4, smoothed, decision.threshold, audioMs, false, events);
      return;
    }
    this.moveTo(decision.to, audioMs);
    const serious = decision.to >= 3;
    const event: PriorityEvent = {
      ...this.changeFields(from, audioMs),
      type: 'priority',
      reason: escalationReason(decision, smoothed, note),
      score: smoothed,
      cause: 'agitation',
      supervisorAlert: serious,
      seniorAssist: serious,
    };
    events.push(event);
    this.maybePrompt(decision.to as PromptTier, smoothed, decision.threshold, audioMs, false, events);
  }

  private moveTo(tier: Tier, audioMs: number): void {
    this.hysteresis.moveTo(tier, audioMs);
    this.enteredTierAtMs = audioMs;
  }

  private handover(
    trigger: HandoverTrigger,
    from: Tier,
    audioMs: number,
    decision: TierDecision | undefined,
    smoothed = this.smoother.agitation,
    note = '',
  ): HandoverEvent {
    const bot = trigger === 'bot-agitation' || trigger === 'bot-unresolved-turns';
    const fields = this.changeFields(from, audioMs);
    const context: HandoverContext = Object.freeze({
      trigger,
      peakAgitation: this.history.peakAgitation,
      meanAgitation: this.history.meanAgitation,
      msAtTier: fields.msAtTier,
      escalationCount: this.escalationsSinceRecovery,
      timeline: this.history.timeline(),
      promptsTried: this.history.promptsTried,
      unresolvedBotTurns: this.unresolvedTurns,
      customerTier: this.customerTier,
    });
    const queue = bot ? this.ladder.bot.queue : this.ladder.handover.queue;
    return {
      ...fields,
      type: 'handover',
      reason: handoverReason(queue, context, decision, smoothed, note),
      score: smoothed,
      target: bot ? 'human-queue' : 'special-team',
      queue,
      context,
    };
  }

  private maybePrompt(
    tier: PromptTier,
    smoothed: number,
    threshold: number,
    audioMs: number,
    reminder: boolean,
    events: PolicyEvent[],
  ): void {
    // No human agent: nobody to read a script to.
    if (this.isBot) return;
    if (!this.limiter.ready(tier, audioMs)) return;
    const emotion = this.smoother.dominantEmotion();
    const situation = situationFor(emotion, this.arousal.value, this.ladder.situations.arousalSplit);
    const script = this.select({
      language: this.call.language ?? this.call.metadata?.language,
      tier,
      situation,
      usedScriptIds: this.usedScripts,
      values: this.values,
    });
    // Every script of this situation and tier was used on this call: say nothing rather than repeat.
    if (script === null) return;
    this.limiter.mark(tier, audioMs);
    this.usedScripts.add(script.scriptId);
    const prompt: PromptEvent = {
      type: 'prompt',
      callId: this.call.callId,
      audioMs,
      tier,
      seq: ++this.seq,
      reason: promptReason(tier, situation, smoothed, threshold, reminder),
      score: smoothed,
      emotion,
      situation,
      scriptId: script.scriptId,
      text: script.text,
      language: script.language,
    };
    this.history.recordPrompt({ seq: prompt.seq, audioMs, tier, situation, scriptId: script.scriptId });
    events.push(prompt);
  }
}
