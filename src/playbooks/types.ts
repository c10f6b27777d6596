import type { Situation, Tier } from '../policy/types.js';

/** Tiers that carry a calming prompt (tier 1 is routine: nothing is sent). */
export type PromptTier = Exclude<Tier, 1>;
export const PROMPT_TIERS: readonly PromptTier[] = [2, 3, 4];

/**
 * One line for the agent to say, as an experienced service trainer would
 * write it: acknowledge, empathise, own the next step.
 */
export interface CalmingScript {
  /** Stable id `<language>.<situation>.t<tier>.<n>`; logs and analytics key on it. */
  readonly id: string;
  readonly situation: Situation;
  readonly tier: PromptTier;
  /** Text with `{placeholder}`s still in it. */
  readonly text: string;
}

/** All scripts of one language, by situation and tier (each list non-empty, in rotation order). */
export interface Playbook {
  /** BCP-47 tag, e.g. `en-US`, `zh-CN`. */
  readonly language: string;
  readonly scripts: Readonly<Record<Situation, Readonly<Record<PromptTier, readonly CalmingScript[]>>>>;
}

export interface ScriptRequest {
  /** BCP-47 tag wanted (call metadata); unknown or undefined → the configured default language. */
  language: string | undefined;
  tier: PromptTier;
  situation: Situation;
  /** Script ids already used on this call; none of them is chosen again. */
  usedScriptIds: ReadonlySet<string>;
  /** Placeholder values (call metadata over the policy file's defaults). */
  values: Readonly<Record<string, string>>;
}

export interface SelectedScript {
  scriptId: string;
  /** Text with placeholders filled. */
  text: string;
  /** The playbook language actually used (after fallback). */
  language: string;
}

/**
 * The policy's view of the playbooks. Returns null when every script of
 * that situation and tier was already used on the call (no repeats).
 */
export type ScriptSelector = (request: ScriptRequest) => SelectedScript | null;
