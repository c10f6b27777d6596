import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadPlaybooks, PlaybookError } from '../playbooks/playbook-file.js';
import { createScriptSelector } from '../playbooks/select-script.js';
import type { ScriptSelector } from '../playbooks/types.js';
import { UndertoneError } from '../shared/errors.js';
import { createEscalationPolicy } from './create-escalation-policy.js';
import type { EscalationPolicyFactory } from './escalation-policy.js';
import { DEFAULT_LADDER_OPTIONS, resolveLadderOptions, type LadderOptions, type LadderOptionsInput } from './ladder-options.js';
import { DEFAULT_POLICY_OPTIONS, PolicyOptionsError, resolvePolicyOptions, type PolicyOptions } from './options.js';

/** The shipped default policy file, relative to the working directory. */
export const DEFAULT_POLICY_FILE = 'config/policy.yaml';

/** A policy file is missing or invalid; `problems` lists every one found (with its path in the file). */
export class PolicyFileError extends UndertoneError {
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super('UT_ERR_POLICY_FILE', `invalid policy file ${file}:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** A policy file, validated: the signal/hysteresis options, the ladder's knobs and the playbooks. */
export interface LoadedPolicy {
  /** Absolute path of the file read. */
  readonly file: string;
  readonly options: PolicyOptions;
  readonly ladder: LadderOptions;
  readonly selectScript: ScriptSelector;
  /** Languages with a playbook. */
  readonly languages: readonly string[];
}

const TOP_LEVEL = ['version', 'escalation', 'prompts', 'customerTiers', 'bot', 'handover', 'situations', 'playbooks'] as const;
const SECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  prompts: ['maxPerMinute'],
  bot: ['missingAgentMeansBot', 'handoverAtTier', 'unresolvedTurns', 'queue'],
  handover: ['queue', 'timelineBucketMs'],
  situations: ['arousalSplit'],
  playbooks: ['defaultLanguage', 'dir', 'values'],
};
const THRESHOLD_KEYS = ['enterThresholds', 'exitThresholds'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a parsed policy document (YAML or JSON), listing every problem
 * with its path. Relative playbook directories resolve against `baseDir`.
 * Does not load playbooks (see {@link loadPolicyFile}).
 */
export function parsePolicyDocument(
  doc: unknown,
  baseDir: string,
  problems: string[],
): { options: PolicyOptions; ladder: LadderOptions } {
  const fallback = { options: DEFAULT_POLICY_OPTIONS, ladder: resolveLadderOptions({}, []) };
  if (doc === null || doc === undefined) return fallback; // an empty file = all defaults
  if (!isRecord(doc)) {
    problems.push('the file must be a mapping of sections (escalation, prompts, customerTiers, bot, handover, situations, playbooks)');
    return fallback;
  }
  for (const key of Object.keys(doc)) {
    if (!(TOP_LEVEL as readonly string[]).includes(key)) problems.push(`${key}: unknown section (known: ${TOP_LEVEL.join(', ')})`);
  }
  if (doc.version !== undefined && doc.version !== 1) problems.push(`version: must be 1 (got ${String(doc.version)})`);
  for (const [section, keys] of Object.entries(SECTION_KEYS)) {
    const v = doc[section];
    if (v === undefined) continue;
    if (!isRecord(v)) {
      problems.push(`${section}: must be a mapping`);
      continue;
    }
    for (const k of Object.keys(v)) if (!keys.includes(k)) problems.push(`${section}.${k}: unknown key (known: ${keys.join(', ')})`);
  }

  // escalation: the signal and hysteresis knobs, named as in PolicyOptions.
  const escalation: Record<string, unknown> = {};
  const esc = doc.escalation;
  if (esc !== undefined && !isRecord(esc)) problems.push('escalation: must be a mapping');
  if (isRecord(esc)) {
    const known = Object.keys(DEFAULT_POLICY_OPTIONS);
    for (const [k, v] of Object.entries(esc)) {
      if (!known.includes(k)) {
        problems.push(`escalation.${k}: unknown key (known: ${known.join(', ')})`);
      } else if (THRESHOLD_KEYS.includes(k)) {
        escalation[k] = thresholds(k, v, problems);
      } else {
        escalation[k] = v;
      }
    }
  }
  let options = DEFAULT_POLICY_OPTIONS;
  try {
    options = resolvePolicyOptions(escalation as Partial<PolicyOptions>);
  } catch (error) {
    if (!(error instanceof PolicyOptionsError)) throw error;
    for (const p of error.problems) problems.push(`escalation.${p}`);
  }

  const section = (name: string): Record<string, unknown> => (isRecord(doc[name]) ? (doc[name] as Record<string, unknown>) : {});
  const customerTiers = doc.customerTiers;
  const tiersInput: Record<string, Record<string, unknown>> = {};
  if (customerTiers !== undefined && customerTiers !== null) {
    if (!isRecord(customerTiers)) problems.push('customerTiers: must be a mapping of tier name → { priorityBoost, thresholdOffset }');
    else {
      for (const [name, rule] of Object.entries(customerTiers)) {
        if (!isRecord(rule)) {
          problems.push(`customerTiers.${name}: must be a mapping with priorityBoost and/or thresholdOffset`);
          continue;
        }
        for (const k of Object.keys(rule)) {
          if (k !== 'priorityBoost' && k !== 'thresholdOffset') problems.push(`customerTiers.${name}.${k}: unknown key (known: priorityBoost, thresholdOffset)`);
        }
        tiersInput[name] = rule;
      }
    }
  }
  const playbooks = section('playbooks');
  // A directory the file names is relative to the file; none named = the
  // shipped playbooks (relative to the working directory), so a candidate
  // policy anywhere on disk needs only the knobs it changes.
  const named = typeof playbooks.dir === 'string' && playbooks.dir !== '';
  const dir = named ? (playbooks.dir as string) : DEFAULT_LADDER_OPTIONS.playbooks.dir;
  const base = named ? baseDir : process.cwd();
  const input: LadderOptionsInput = {
    ...(section('prompts').maxPerMinute !== undefined ? { maxPromptsPerMinute: section('prompts').maxPerMinute as number } : {}),
    ...(customerTiers !== undefined ? { customerTiers: tiersInput } : {}),
    bot: section('bot'),
    handover: section('handover'),
    situations: section('situations'),
    playbooks: { ...playbooks, dir: isAbsolute(dir) ? dir : resolve(base, dir) },
  };
  const ladderProblems: string[] = [];
  const ladder = resolveLadderOptions(input, ladderProblems);
  // The file spells the prompt cap `prompts.maxPerMinute`.
  for (const p of ladderProblems) problems.push(p.replace(/^maxPromptsPerMinute:/, 'prompts.maxPerMinute:'));
  return { options, ladder };
}

function thresholds(key: string, v: unknown, problems: string[]): unknown {
  if (!isRecord(v)) {
    problems.push(`escalation.${key}: must be a mapping of tier (2, 3, 4) → agitation 0..1`);
    return undefined;
  }
  const out: Record<number, unknown> = { ...DEFAULT_POLICY_OPTIONS[key as 'enterThresholds'] };
  for (const [tier, value] of Object.entries(v)) {
    if (!['2', '3', '4'].includes(tier)) problems.push(`escalation.${key}.${tier}: unknown tier (use 2, 3, 4)`);
    else out[Number(tier)] = value;
  }
  return out;
}

/**
 * Reads, validates and loads a policy file (YAML, or JSON by extension)
 * and the playbooks it names. Every problem — in the file and in the
 * playbooks — is listed in one error.
 * @throws PolicyFileError
 */
export function loadPolicyFile(path: string): LoadedPolicy {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyFileError(file, [`cannot read: ${(error as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new PolicyFileError(file, [`not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`]);
  }
  const problems: string[] = [];
  const { options, ladder } = parsePolicyDocument(doc, dirname(file), problems);
  let selectScript: ScriptSelector | undefined;
  let languages: string[] = [];
  try {
    const playbooks = loadPlaybooks(ladder.playbooks.dir);
    languages = [...playbooks.keys()];
    selectScript = createScriptSelector(playbooks, ladder.playbooks.defaultLanguage);
  } catch (error) {
    if (!(error instanceof PlaybookError)) throw error;
    for (const p of error.problems) problems.push(`playbooks: ${p}`);
  }
  if (problems.length > 0 || !selectScript) throw new PolicyFileError(file, problems);
  return Object.freeze({ file, options, ladder, selectScript, languages: Object.freeze(languages) });
}

/** The policy factory a loaded policy file describes. */
export function policyFactoryFrom(policy: LoadedPolicy): EscalationPolicyFactory {
  return createEscalationPolicy(policy.options, { ladder: policy.ladder, selectScript: policy.selectScript });
}
