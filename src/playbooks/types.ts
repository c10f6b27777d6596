import type { EmotionLabel } from '../model/types.js';
import type { Tier } from '../policy/types.js';

/** Languages the playbooks are written in; everything else falls back to one of these. */
export type PlaybookLanguage = 'en' | 'zh-CN';

/** Tiers that carry a calming prompt (tier 1 is routine: nothing is sent). */
export type PromptTier = Exclude<Tier, 1>;

/**
 * One line for the agent to say, as a contact-centre trainer would write it:
 * acknowledge, empathise, take ownership, offer a concrete next step.
 */
export interface CalmingScript {
  /** Stable id, `<language>.t<tier>.<emotion|general>.<n>`; logs and analytics key on it. */
  readonly id: string;
  readonly tier: PromptTier;
  /**
   * The caller emotion the line is written for; `undefined` = fits any.
   * Emotion-specific lines are offered first, general ones after them.
   */
  readonly emotion: EmotionLabel | undefined;
  readonly text: string;
}

/** All scripts of one language. */
export interface Playbook {
  readonly language: PlaybookLanguage;
  readonly scripts: readonly CalmingScript[];
}

export interface ScriptRequest {
  /** BCP-47 tag wanted; `zh*` → `zh-CN`, `en*`, unknown and undefined → `en`. */
  language: string | undefined;
  tier: PromptTier;
  /** Dominant caller emotion, if known. */
  emotion: EmotionLabel | undefined;
  /** Script ids already used on this call, oldest first; drives the rotation. */
  previousScriptIds: readonly string[];
}

export interface SelectedScript {
  scriptId: string;
  text: string;
  /** The playbook language actually used (after fallback). */
  language: PlaybookLanguage;
}

/** The policy's view of the playbooks; swap in another implementation for tests or other catalogues. */
export type ScriptSelector = (request: ScriptRequest) => SelectedScript;
