import { UndertoneError } from '../shared/errors.js';
import { CHINESE_PLAYBOOK } from './scripts-zh-cn.js';
import { ENGLISH_PLAYBOOK } from './scripts-en.js';
import type {
  CalmingScript,
  Playbook,
  PlaybookLanguage,
  PromptTier,
  ScriptRequest,
  ScriptSelector,
  SelectedScript,
} from './types.js';

/** The built-in playbooks, by language. */
export const PLAYBOOKS: Readonly<Record<PlaybookLanguage, Playbook>> = Object.freeze({
  en: ENGLISH_PLAYBOOK,
  'zh-CN': CHINESE_PLAYBOOK,
});

const PROMPT_TIERS: readonly PromptTier[] = [2, 3, 4];

/** A playbook catalogue cannot serve every tier. */
export class PlaybookError extends UndertoneError {
  constructor(message: string) {
    super('UT_ERR_PLAYBOOK', message);
  }
}

/**
 * Maps any BCP-47 tag to a playbook language: `zh`, `zh-CN`, `zh-Hans-SG`,
 * `zh-TW`… → `zh-CN` (the only Chinese playbook so far); everything else,
 * including `en-*`, unknown tags and `undefined` → `en`.
 */
export function resolvePlaybookLanguage(tag: string | undefined): PlaybookLanguage {
  const lower = (tag ?? '').trim().toLowerCase();
  if (lower === 'zh' || lower.startsWith('zh-') || lower.startsWith('zh_')) return 'zh-CN';
  return 'en';
}

/**
 * Builds a selector over `playbooks`. Checks up front that every language
 * has at least one general (any-emotion) script per prompt tier, so
 * selection can never come up empty at call time.
 * @throws PlaybookError when a tier has no general script.
 */
export function createScriptSelector(
  playbooks: Readonly<Record<PlaybookLanguage, Playbook>> = PLAYBOOKS,
): ScriptSelector {
  // Candidate lists per language/tier/emotion, computed once: selection is
  // on the per-call path and should only walk a handful of entries.
  const byKey = new Map<string, readonly CalmingScript[]>();
  for (const language of Object.keys(playbooks) as PlaybookLanguage[]) {
    const scripts = playbooks[language].scripts;
    for (const tier of PROMPT_TIERS) {
      const general = scripts.filter((s) => s.tier === tier && s.emotion === undefined);
      if (general.length === 0) {
        throw new PlaybookError(`playbook ${language} has no general script for tier ${tier}`);
      }
      byKey.set(`${language}|${tier}|`, general);
      const emotions = new Set(scripts.filter((s) => s.tier === tier && s.emotion !== undefined).map((s) => s.emotion));
      for (const emotion of emotions) {
        const specific = scripts.filter((s) => s.tier === tier && s.emotion === emotion);
        byKey.set(`${language}|${tier}|${String(emotion)}`, [...specific, ...general]);
      }
    }
  }

  return (request: ScriptRequest): SelectedScript => {
    const language = resolvePlaybookLanguage(request.language);
    const candidates =
      byKey.get(`${language}|${request.tier}|${request.emotion ?? ''}`) ?? byKey.get(`${language}|${request.tier}|`);
    if (candidates === undefined || candidates.length === 0) {
      throw new PlaybookError(`no script for language ${language}, tier ${String(request.tier)}`);
    }
    const chosen = pickByRotation(candidates, request.previousScriptIds);
    return { scriptId: chosen.id, text: chosen.text, language };
  };
}

/**
 * Deterministic rotation: the first candidate (in playbook order) not used
 * on this call yet; once all have been used, the least recently used one.
 */
function pickByRotation(candidates: readonly CalmingScript[], previous: readonly string[]): CalmingScript {
  let best = candidates[0] as CalmingScript;
  let bestLastUse = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const lastUse = previous.lastIndexOf(candidate.id);
    if (lastUse === -1) return candidate;
    if (lastUse < bestLastUse) {
      bestLastUse = lastUse;
      best = candidate;
    }
  }
  return best;
}

/** Selects from the built-in playbooks. See {@link createScriptSelector}. */
export const selectScript: ScriptSelector = createScriptSelector();
