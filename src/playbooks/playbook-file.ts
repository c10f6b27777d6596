import { readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SITUATIONS, type Situation } from '../policy/types.js';
import { UndertoneError } from '../shared/errors.js';
import { KNOWN_PLACEHOLDERS, placeholdersIn } from './placeholders.js';
import { PROMPT_TIERS, type CalmingScript, type Playbook, type PromptTier } from './types.js';

/** Playbook files are missing or invalid; `problems` lists every one found. */
export class PlaybookError extends UndertoneError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('UT_ERR_PLAYBOOK', `invalid playbooks:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Languages the shipped playbooks must cover; a playbook directory without them is an error. */
export const REQUIRED_LANGUAGES = ['en-US', 'zh-CN'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates one parsed playbook document (`source` names it in messages),
 * pushing every problem; returns the playbook when it has none.
 */
export function parsePlaybook(doc: unknown, source: string, problems: string[]): Playbook | undefined {
  const before = problems.length;
  const p = (msg: string): void => void problems.push(`${source}: ${msg}`);
  if (!isRecord(doc)) {
    p('must be a mapping with `language` and `scripts`');
    return undefined;
  }
  for (const key of Object.keys(doc)) if (key !== 'language' && key !== 'scripts') p(`unknown key \`${key}\``);
  const language = doc.language;
  if (typeof language !== 'string' || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) {
    p('`language` must be a BCP-47 tag like en-US');
  }
  const lang = typeof language === 'string' ? language : '?';
  const scripts = doc.scripts;
  if (!isRecord(scripts)) {
    p('`scripts` must be a mapping of situation → tier2/tier3/tier4 → list of lines');
    return undefined;
  }
  for (const key of Object.keys(scripts)) {
    if (!(SITUATIONS as readonly string[]).includes(key)) p(`unknown situation \`${key}\` (known: ${SITUATIONS.join(', ')})`);
  }
  const out = {} as Record<Situation, Record<PromptTier, CalmingScript[]>>;
  for (const situation of SITUATIONS) {
    const byTier = scripts[situation];
    if (!isRecord(byTier)) {
      p(`situation \`${situation}\` is missing`);
      continue;
    }
    for (const key of Object.keys(byTier)) {
      if (!PROMPT_TIERS.some((t) => key === `tier${t}`)) p(`${situation}: unknown key \`${key}\` (use tier2, tier3, tier4)`);
    }
    out[situation] = {} as Record<PromptTier, CalmingScript[]>;
    for (const tier of PROMPT_TIERS) {
      const lines = byTier[`tier${tier}`];
      if (!Array.isArray(lines) || lines.length === 0) {
        p(`${situation}.tier${tier} is missing or empty`);
        continue;
      }
      out[situation][tier] = [];
      lines.forEach((line, i) => {
        const where = `${situation}.tier${tier}[${i}]`;
        if (typeof line !== 'string' || line.trim() === '') {
          p(`${where} must be a non-empty string`);
          return;
        }
        for (const name of placeholdersIn(line)) {
          if (!(KNOWN_PLACEHOLDERS as readonly string[]).includes(name)) {
            p(`${where} uses unknown placeholder {${name}} (known: ${KNOWN_PLACEHOLDERS.map((k) => `{${k}}`).join(', ')})`);
          }
        }
        if (/[{}]/.test(line.replace(/\{[^{}]*\}/g, ''))) p(`${where} has an unmatched brace`);
        out[situation][tier].push(
          Object.freeze({ id: `${lang}.${situation}.t${tier}.${i + 1}`, situation, tier, text: line.trim() }),
        );
      });
    }
  }
  if (problems.length > before) return undefined;
  return Object.freeze({ language: lang, scripts: out });
}

/**
 * Loads every `*.yaml`/`*.yml`/`*.json` playbook in `dir`. Each file's
 * `language` must equal its file name; `required` languages must be present.
 * @throws PlaybookError listing every problem across all files.
 */
export function loadPlaybooks(dir: string, required: readonly string[] = REQUIRED_LANGUAGES): Map<string, Playbook> {
  const problems: string[] = [];
  const playbooks = new Map<string, Playbook>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).sort();
  } catch (error) {
    throw new PlaybookError([`cannot read playbook directory ${dir}: ${(error as Error).message}`]);
  }
  for (const file of files) {
    const path = join(dir, file);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
    } catch (error) {
      problems.push(`${path}: not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    const playbook = parsePlaybook(doc, path, problems);
    if (!playbook) continue;
    const stem = basename(file, extname(file));
    if (stem !== playbook.language) problems.push(`${path}: language ${playbook.language} does not match the file name (${stem})`);
    else playbooks.set(playbook.language, playbook);
  }
  for (const language of required) {
    if (!files.some((f) => basename(f, extname(f)) === language)) problems.push(`${dir}: no playbook for ${language} (${language}.yaml)`);
  }
  if (problems.length > 0) throw new PlaybookError(problems);
  return playbooks;
}
