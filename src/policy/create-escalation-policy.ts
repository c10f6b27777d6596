import type { EmotionScores } from '../model/types.js';
import { selectScript as defaultSelectScript } from '../playbooks/select-script.js';
import type { PromptTier, ScriptSelector } from '../playbooks/types.js';
import { PromptCooldown } from './cooldown.js';
import { DynamicThresholds } from './dynamic-thresholds.js';
import type { EscalationPolicy, EscalationPolicyFactory, PolicyCallInfo } from './escalation-policy.js';
import { TierHysteresis, type TierDecision } from './hysteresis.js';
import { resolvePolicyOptions, type PolicyOptions } from './options.js';
import { handoverReason, tierChangeReason } from './reasons.js';
import { creditedStepMs, ScoreSmoother } from './smoothing.js';
import type { HandoverContext, PolicyEvent, PriorityEvent, PromptEvent, Tier } from './types.js';

/** Collaborators of the policy, replaceable in tests or for other catalogues. */
export interface EscalationPolicyDeps {
  /** Picks the calming script for a prompt. @defaultValue the built-in playbooks' `selectScript` */
  selectScript?: ScriptSelector;
}

/** Script ids remembered per call for rotation; more than any tier's candidate list. */
const SCRIPT_HISTORY = 16;

/**
 * Builds the policy factory: options are resolved, validated and frozen
 * once; each call gets its own {@link EscalationPolicy}.
 * @throws PolicyOptionsError when an option is out of range.
 */
export function createEscalationPolicy(
  options: Partial<PolicyOptions> = {},
  deps: EscalationPolicyDeps = {},
): EscalationPolicyFactory {
  const resolved = resolvePolicyOptions(options);
  const select = deps.selectScript ?? defaultSelectScript;
  return (call: PolicyCallInfo) => new CallEscalationPolicy(call, resolved, select);
}

/**
 * One call's policy: smoothing → dynamic thresholds → hysteresis → events.
 * Pure state machine over (scores, audioMs): no clock, no I/O, no randomness,
 * so the same sequence always yields the same events.
 */
class CallEscalationPolicy implements EscalationPolicy {
  private readonly smoother: ScoreSmoother;
  private readonly thresholds: DynamicThresholds;
  private readonly hysteresis: TierHysteresis;
  private readonly cooldown: PromptCooldown;
  private readonly scriptHistory: string[] = [];
  // Indexed by tier (0 unused): audio time spent at each tier, silence included.
  private readonly msAtTier = [0, 0, 0, 0, 0];
  private lastAudioMs: number | undefined;
  private seq = 0;
  private peakAgitation = 0;
  private escalationsSinceRecovery = 0;
  // Bound once, not per window.
  private readonly enterThreshold = (tier: PromptTier): number => this.thresholds.enter(tier);

  constructor(
    private readonly call: PolicyCallInfo,
    private readonly options: PolicyOptions,
    private readonly select: ScriptSelector,
  ) {
    this.smoother = new ScoreSmoother(options.smoothingTimeConstantMs);
    this.thresholds = new DynamicThresholds(options);
    this.hysteresis = new TierHysteresis(options);
    this.cooldown = new PromptCooldown(options.promptCooldownMs);
  }

  get tier(): Tier {
    return this.hysteresis.tier;
  }

  get smoothedAgitation(): number {
    return this.smoother.agitation;
  }

  observe(scores: EmotionScores, audioMs: number): PolicyEvent[] {
    // A window that is not a number, or that goes back in time (a replayed or
    // reordered window), is no evidence: ignore it rather than corrupt state.
    if (!Number.isFinite(audioMs) || !Number.isFinite(scores.agitation)) return [];
    if (this.lastAudioMs !== undefined && audioMs < this.lastAudioMs) return [];

    const stepMs = creditedStepMs(this.lastAudioMs, audioMs, this.options.maxStepMs);
    if (this.lastAudioMs !== undefined) {
      this.msAtTier[this.tier] = (this.msAtTier[this.tier] ?? 0) + audioMs - this.lastAudioMs;
    }
    this.lastAudioMs = audioMs;

    const smoothed = this.smoother.update(scores, stepMs);
    if (smoothed > this.peakAgitation) this.peakAgitation = smoothed;
    this.thresholds.update(smoothed, stepMs);

    const allowDown = !(this.options.handoverIsFinal && this.tier === 4);
    const decision = this.hysteresis.step(audioMs, smoothed, stepMs, this.enterThreshold, allowDown);
    const events: PolicyEvent[] = [];
    if (decision !== null) {
      this.applyDecision(decision, smoothed, audioMs, events);
    } else if (this.tier !== 1 && smoothed >= this.thresholds.enter(this.tier as PromptTier)) {
      // Still at this tier's level: remind the agent, at most once per cooldown.
      this.maybePrompt(this.tier as PromptTier, smoothed, audioMs, events);
    }
    return events;
  }

  private applyDecision(decision: TierDecision, smoothed: number, audioMs: number, events: PolicyEvent[]): void {
    const o = this.options;
    let to = decision.to;
    let handover: HandoverContext | undefined;
    if (decision.direction === 'up') {
      this.escalationsSinceRecovery += 1;
      const repeated = this.escalationsSinceRecovery >= o.handoverAfterEscalations;
      if (to === 4 || repeated) {
        handover = {
          trigger: to === 4 ? 'level' : 'repeated-escalations',
          peakAgitation: this.peakAgitation,
          msAtTier: Object.freeze({
            1: this.msAtTier[1] as number,
            2: this.msAtTier[2] as number,
            3: this.msAtTier[3] as number,
            4: this.msAtTier[4] as number,
          }),
          escalationCount: this.escalationsSinceRecovery,
        };
        to = 4;
      }
    } else if (to === 1) {
      this.escalationsSinceRecovery = 0;
    }

    const previousTier = this.tier;
    this.hysteresis.moveTo(to, audioMs);
    const priority: PriorityEvent = {
      type: 'priority',
      callId: this.call.callId,
      audioMs,
      tier: to,
      seq: ++this.seq,
      previousTier,
      reason: handover ? handoverReason(decision, smoothed, handover) : tierChangeReason(decision, smoothed),
      score: smoothed,
    };
    if (handover) priority.handover = handover;
    events.push(priority);

    // Prompts go with escalations; on the way down the priority event alone
    // tells the agent things are improving.
    if (decision.direction === 'up') this.maybePrompt(to as PromptTier, smoothed, audioMs, events);
  }

  private maybePrompt(tier: PromptTier, smoothed: number, audioMs: number, events: PolicyEvent[]): void {
    if (!this.cooldown.ready(tier, audioMs)) return;
    this.cooldown.mark(tier, audioMs);
    const emotion = this.smoother.dominantEmotion();
    const script = this.select({
      language: this.call.language,
      tier,
      emotion,
      previousScriptIds: this.scriptHistory,
    });
    this.scriptHistory.push(script.scriptId);
    if (this.scriptHistory.length > SCRIPT_HISTORY) this.scriptHistory.shift();
    const prompt: PromptEvent = {
      type: 'prompt',
      callId: this.call.callId,
      audioMs,
      tier,
      seq: ++this.seq,
      emotion,
      score: smoothed,
      scriptId: script.scriptId,
      text: script.text,
      language: script.language,
    };
    events.push(prompt);
  }
}
