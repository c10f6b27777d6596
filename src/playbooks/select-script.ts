import { fillPlaceholders } from './placeholders.js';
import type { Playbook, ScriptRequest, ScriptSelector, SelectedScript } from './types.js';
import { PlaybookError } from './playbook-file.js';

/**
 * Picks the playbook for a BCP-47 tag: exact match (case-insensitive), then
 * the same primary language (`zh-TW`, `zh-Hans` → `zh-CN`; `en-GB` → `en-US`),
 * then the default language.
 */
export function resolvePlaybookLanguage(
  tag: string | undefined,
  languages: readonly string[],
  defaultLanguage: string,
): string {
  const wanted = (tag ?? '').trim().replace(/_/g, '-').toLowerCase();
  if (wanted !== '') {
    const exact = languages.find((l) => l.toLowerCase() === wanted);
    if (exact) return exact;
    const primary = wanted.split('-')[0];
    const sameLanguage = languages.find((l) => l.toLowerCase().split('-')[0] === primary);
    if (sameLanguage) return sameLanguage;
  }
  return defaultLanguage;
}

/**
 * Builds a selector over `playbooks`. Rotation: the first script of the
 * situation and tier (in file order) not yet used on this call; null once
 * all have been used, so a call never hears the same line twice.
 * @throws PlaybookError when `defaultLanguage` has no playbook.
 */
export function createScriptSelector(playbooks: ReadonlyMap<string, Playbook>, defaultLanguage: string): ScriptSelector {
  const languages = [...playbooks.keys()];
  const fallback = resolvePlaybookLanguage(defaultLanguage, languages, '');
  if (!playbooks.has(fallback)) {
    throw new PlaybookError([`default language ${defaultLanguage} has no playbook (have: ${languages.join(', ') || 'none'})`]);
  }
  return (request: ScriptRequest): SelectedScript | null => {
    const language = resolvePlaybookLanguage(request.language, languages, fallback);
    const playbook = playbooks.get(language) as Playbook;
    for (const script of playbook.scripts[request.situation][request.tier]) {
      if (!request.usedScriptIds.has(script.id)) {
        return { scriptId: script.id, text: fillPlaceholders(script.text, request.values), language };
      }
    }
    return null;
  };
}
