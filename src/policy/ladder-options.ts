/**
 * The ladder's knobs beyond the signal/hysteresis ones of `options.ts`:
 * prompt rate, customer value, voicebot/IVR rules, handover targets,
 * situations and playbook language. Kept in their own file so the signal
 * options (calibrated numbers) and the ladder's structure change separately.
 * All times are ms of caller AUDIO time.
 */

/** What a customer value tier (metadata `customerTier`) changes. */
export interface CustomerTierRule {
  /**
   * Added to the routing priority level (tier + boost) for the whole call,
   * whole number ≥ 0. With a boost the call starts at a raised priority: a
   * `priority` event (cause `customer-value`) is emitted at audioMs 0.
   */
  readonly priorityBoost: number;
  /**
   * Subtracted from every enter AND exit threshold, 0..0.5 agitation: the
   * customer is escalated (and kept escalated) at a lower agitation.
   */
  readonly thresholdOffset: number;
}

export interface LadderOptions {
  /**
   * Most prompts sent to the agent in any 60 s of audio, whole number ≥ 1
   * (on top of the per-tier `promptCooldownMs`): no prompt storms when a call
   * moves between tiers.
   * @defaultValue 2
   */
  readonly maxPromptsPerMinute: number;
  /** Rules per value tier, keyed by the metadata value (case-insensitive), e.g. `vip`. @defaultValue `{ vip: { priorityBoost: 1, thresholdOffset: 0.05 } }` */
  readonly customerTiers: Readonly<Record<string, CustomerTierRule>>;
  /** Voicebot/IVR calls: no human agent yet. */
  readonly bot: {
    /**
     * Treat a call whose gateway named no agent as a bot call. Off by default:
     * many gateways never name the agent; `botSession=true` in the metadata
     * is the explicit signal.
     * @defaultValue false
     */
    readonly missingAgentMeansBot: boolean;
    /** Agitation tier (2..4) whose level hands a bot call to a human queue at once. @defaultValue 2 */
    readonly handoverAtTier: 2 | 3 | 4;
    /** Unresolved turns reported by the gateway that hand a bot call over, whole number ≥ 1. @defaultValue 3 */
    readonly unresolvedTurns: number;
    /** Human queue bot calls are handed to. @defaultValue `human-agents` */
    readonly queue: string;
  };
  /** Tier-4 handover of agent calls. */
  readonly handover: {
    /** Special team / queue that takes tier-4 calls. @defaultValue `special-care` */
    readonly queue: string;
    /** Length of one bucket of the score timeline summary in the handover context, ms. @defaultValue 5000 */
    readonly timelineBucketMs: number;
  };
  /** How the model's emotions map to playbook situations. */
  readonly situations: {
    /**
     * Smoothed arousal (0..1) at or above which an angry-sounding caller is
     * `anger` (else `frustration`) and a sad-sounding one `anxiety` (else
     * `sadness`). A caller agitated while sounding neutral or happy is `frustration`.
     * @defaultValue 0.6
     */
    readonly arousalSplit: number;
  };
  /** Playbooks. */
  readonly playbooks: {
    /** Language used when the call's metadata names none or one without a playbook (BCP-47). @defaultValue `en-US` */
    readonly defaultLanguage: string;
    /** Directory of `<language>.yaml` playbook files; relative paths are relative to the policy file (or the working directory). @defaultValue `config/playbooks` */
    readonly dir: string;
    /** Fallback placeholder values when the call metadata lacks them, e.g. `{ companyName: "Acme" }`. @defaultValue `{}` */
    readonly values: Readonly<Record<string, string>>;
  };
}

export const DEFAULT_LADDER_OPTIONS: LadderOptions = Object.freeze({
  maxPromptsPerMinute: 2,
  customerTiers: Object.freeze({ vip: Object.freeze({ priorityBoost: 1, thresholdOffset: 0.05 }) }),
  bot: Object.freeze({ missingAgentMeansBot: false, handoverAtTier: 2 as const, unresolvedTurns: 3, queue: 'human-agents' }),
  handover: Object.freeze({ queue: 'special-care', timelineBucketMs: 5000 }),
  situations: Object.freeze({ arousalSplit: 0.6 }),
  playbooks: Object.freeze({ defaultLanguage: 'en-US', dir: 'config/playbooks', values: Object.freeze({}) }),
});

/** Deep partial input, as a policy file or a test gives it. */
export interface LadderOptionsInput {
  maxPromptsPerMinute?: number;
  customerTiers?: Record<string, Partial<CustomerTierRule>>;
  bot?: Partial<LadderOptions['bot']>;
  handover?: Partial<LadderOptions['handover']>;
  situations?: Partial<LadderOptions['situations']>;
  playbooks?: Partial<LadderOptions['playbooks']>;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isWhole = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;
const QUEUE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Merges `input` over the defaults and validates it, pushing every problem
 * (as `path: message`) onto `problems`. The result is frozen; with problems
 * it is still returned (callers throw once with the full list).
 * `customerTiers` given replaces the default table (so `vip` can be removed).
 */
export function resolveLadderOptions(input: LadderOptionsInput, problems: string[], prefix = ''): LadderOptions {
  const d = DEFAULT_LADDER_OPTIONS;
  const p = (path: string, msg: string): void => void problems.push(`${prefix}${path}: ${msg}`);
  const o: LadderOptions = {
    maxPromptsPerMinute: input.maxPromptsPerMinute ?? d.maxPromptsPerMinute,
    customerTiers: {},
    bot: { ...d.bot, ...input.bot },
    handover: { ...d.handover, ...input.handover },
    situations: { ...d.situations, ...input.situations },
    playbooks: { ...d.playbooks, ...input.playbooks, values: { ...d.playbooks.values, ...input.playbooks?.values } },
  };
  if (!isWhole(o.maxPromptsPerMinute, 1)) p('maxPromptsPerMinute', `must be a whole number ≥ 1 (got ${String(o.maxPromptsPerMinute)})`);

  const tiers: Record<string, CustomerTierRule> = {};
  for (const [name, rule] of Object.entries(input.customerTiers ?? d.customerTiers)) {
    const boost = rule.priorityBoost ?? 0;
    const offset = rule.thresholdOffset ?? 0;
    if (!isWhole(boost, 0) || boost > 3) p(`customerTiers.${name}.priorityBoost`, `must be a whole number 0..3 (got ${String(boost)})`);
    if (!isNum(offset) || offset < 0 || offset > 0.5) p(`customerTiers.${name}.thresholdOffset`, `must be a number in 0..0.5 (got ${String(offset)})`);
    tiers[name.toLowerCase()] = Object.freeze({ priorityBoost: boost, thresholdOffset: offset });
  }
  (o as { customerTiers: Record<string, CustomerTierRule> }).customerTiers = Object.freeze(tiers);

  if (typeof o.bot.missingAgentMeansBot !== 'boolean') p('bot.missingAgentMeansBot', 'must be true or false');
  if (![2, 3, 4].includes(o.bot.handoverAtTier)) p('bot.handoverAtTier', `must be 2, 3 or 4 (got ${String(o.bot.handoverAtTier)})`);
  if (!isWhole(o.bot.unresolvedTurns, 1)) p('bot.unresolvedTurns', `must be a whole number ≥ 1 (got ${String(o.bot.unresolvedTurns)})`);
  if (typeof o.bot.queue !== 'string' || !QUEUE_NAME.test(o.bot.queue)) p('bot.queue', 'must be 1-100 characters of [A-Za-z0-9._-]');
  if (typeof o.handover.queue !== 'string' || !QUEUE_NAME.test(o.handover.queue)) p('handover.queue', 'must be 1-100 characters of [A-Za-z0-9._-]');
  if (!isNum(o.handover.timelineBucketMs) || o.handover.timelineBucketMs < 500) {
    p('handover.timelineBucketMs', `must be a number ≥ 500 ms (got ${String(o.handover.timelineBucketMs)})`);
  }
  if (!isNum(o.situations.arousalSplit) || o.situations.arousalSplit < 0 || o.situations.arousalSplit > 1) {
    p('situations.arousalSplit', `must be a number in 0..1 (got ${String(o.situations.arousalSplit)})`);
  }
  if (typeof o.playbooks.defaultLanguage !== 'string' || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(o.playbooks.defaultLanguage)) {
    p('playbooks.defaultLanguage', `must be a BCP-47 tag like en-US (got ${String(o.playbooks.defaultLanguage)})`);
  }
  if (typeof o.playbooks.dir !== 'string' || o.playbooks.dir === '') p('playbooks.dir', 'must be a directory path');
  for (const [k, v] of Object.entries(o.playbooks.values)) {
    if (typeof v !== 'string') p(`playbooks.values.${k}`, 'must be a string');
  }
  return Object.freeze({
    ...o,
    bot: Object.freeze(o.bot),
    handover: Object.freeze(o.handover),
    situations: Object.freeze(o.situations),
    playbooks: Object.freeze({ ...o.playbooks, values: Object.freeze(o.playbooks.values) }),
  });
}
