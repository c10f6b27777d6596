import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER_OPTIONS } from '../../src/policy/ladder-options.js';
import { DEFAULT_POLICY_OPTIONS } from '../../src/policy/options.js';
import { DEFAULT_POLICY_FILE, loadPolicyFile, PolicyFileError, policyFactoryFrom } from '../../src/policy/policy-file.js';
import { feed, windows } from './feed.js';

function tempPolicy(name: string, text: string, withPlaybooks = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'ut-policy-'));
  if (withPlaybooks) cpSync('config/playbooks', join(dir, 'playbooks'), { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyFileError);
    expect((error as PolicyFileError).code).toBe('UT_ERR_POLICY_FILE');
    return (error as PolicyFileError).problems;
  }
  throw new Error('expected a PolicyFileError');
}

describe('the shipped policy file', () => {
  const policy = loadPolicyFile(DEFAULT_POLICY_FILE);

  it('states the built-in defaults (port calibrated numbers to both)', () => {
    expect(policy.options).toEqual(DEFAULT_POLICY_OPTIONS);
    expect({ ...policy.ladder, playbooks: { ...policy.ladder.playbooks, dir: 'config/playbooks' } }).toEqual(DEFAULT_LADDER_OPTIONS);
    expect(policy.languages).toEqual(['en-US', 'zh-CN']);
  });

  it('has a comment on every knob', () => {
    const lines = readFileSync(DEFAULT_POLICY_FILE, 'utf8').split('\n');
    const uncommented: string[] = [];
    lines.forEach((line, i) => {
      const key = /^\s+([A-Za-z]+):/.exec(line)?.[1];
      if (!key || /^\s+#/.test(line)) return;
      const above = lines[i - 1] ?? '';
      // A leaf knob (a value on the line) needs a comment right above it.
      if (/:\s*\S/.test(line) && !/^\s*#/.test(above)) uncommented.push(key);
    });
    expect(uncommented).toEqual([]);
  });

  it('builds a working policy factory', () => {
    const p = policyFactoryFrom(policy)({ callId: 'c', language: 'zh-CN', agentId: 'a' });
    const events = feed(p, windows(2000, 14000, () => 1));
    expect(events.map((e) => e.type)).toEqual(['handover', 'prompt']);
    expect(events[1]).toMatchObject({ language: 'zh-CN', tier: 4 });
  });
});

describe('policy file validation', () => {
  it('lists every problem at once, with its path', () => {
    const file = tempPolicy(
      'bad.yaml',
      [
        'version: 2',
        'colour: blue',
        'escalation:',
        // Tier 3 below the default tier-3 exit: the clash must be named with both values.
        '  enterThresholds: { 2: 0.9, 3: 0.5, 5: 0.1 }',
        '  exitDwellMs: -1',
        '  smoothingTimeConstant: 1000',
        'prompts: { maxPerMinute: 0, burst: 3 }',
        'customerTiers:',
        '  vip: { priorityBoost: 1.5, thresholdOffset: 0.9 }',
        '  gold: 3',
        'bot: { handoverAtTier: 1, queue: "has space" }',
        'handover: { timelineBucketMs: 10 }',
        'situations: { arousalSplit: 2 }',
        'playbooks: { defaultLanguage: "not a tag!" }',
      ].join('\n'),
    );
    expect(problemsOf(() => loadPolicyFile(file))).toEqual([
      'colour: unknown section (known: version, escalation, prompts, customerTiers, bot, handover, situations, playbooks)',
      'version: must be 1 (got 2)',
      'prompts.burst: unknown key (known: maxPerMinute)',
      'escalation.enterThresholds.5: unknown tier (use 2, 3, 4)',
      expect.stringMatching(/^escalation\.smoothingTimeConstant: unknown key \(known: smoothingTimeConstantMs, /),
      'escalation.exitDwellMs must be a number ≥ 0 (got -1)',
      `escalation.exitThresholds[3] (${DEFAULT_POLICY_OPTIONS.exitThresholds[3]}) must be below enterThresholds[3] (0.5)`,
      'escalation.enterThresholds must rise with the tier (2 < 3 < 4)',
      'customerTiers.gold: must be a mapping with priorityBoost and/or thresholdOffset',
      'prompts.maxPerMinute: must be a whole number ≥ 1 (got 0)',
      'customerTiers.vip.priorityBoost: must be a whole number 0..3 (got 1.5)',
      'customerTiers.vip.thresholdOffset: must be a number in 0..0.5 (got 0.9)',
      'bot.handoverAtTier: must be 2, 3 or 4 (got 1)',
      'bot.queue: must be 1-100 characters of [A-Za-z0-9._-]',
      'handover.timelineBucketMs: must be a number ≥ 500 ms (got 10)',
      'situations.arousalSplit: must be a number in 0..1 (got 2)',
      'playbooks.defaultLanguage: must be a BCP-47 tag like en-US (got not a tag!)',
      expect.stringMatching(/^playbooks: default language not a tag! has no playbook/),
    ]);
  });

  it('accepts JSON and partial files (the rest are defaults, the playbooks the shipped ones)', () => {
    const file = tempPolicy('p.json', JSON.stringify({ escalation: { enterThresholds: { 2: 0.8 } }, prompts: { maxPerMinute: 4 } }), false);
    const policy = loadPolicyFile(file);
    expect(policy.options.enterThresholds).toEqual({ ...DEFAULT_POLICY_OPTIONS.enterThresholds, 2: 0.8 });
    expect(policy.ladder.maxPromptsPerMinute).toBe(4);
    expect(policy.ladder.customerTiers).toEqual(DEFAULT_LADDER_OPTIONS.customerTiers);
    expect(policy.ladder.playbooks.dir).toBe(join(process.cwd(), 'config/playbooks'));
  });

  it('reports unreadable files, bad syntax and broken playbooks', () => {
    expect(problemsOf(() => loadPolicyFile('/nonexistent/policy.yaml'))[0]).toMatch(/^cannot read: /);
    expect(problemsOf(() => loadPolicyFile(tempPolicy('x.yaml', 'escalation: [')))[0]).toMatch(/^not valid YAML: /);
    expect(problemsOf(() => loadPolicyFile(tempPolicy('x.json', '{')))[0]).toMatch(/^not valid JSON: /);
    const dir = mkdtempSync(join(tmpdir(), 'ut-policy-'));
    mkdirSync(join(dir, 'playbooks'));
    writeFileSync(join(dir, 'playbooks', 'en-US.yaml'), 'language: en-US\nscripts: {}\n');
    writeFileSync(join(dir, 'p.yaml'), 'prompts: { maxPerMinute: 0 }\nplaybooks: { dir: playbooks }\n');
    const problems = problemsOf(() => loadPolicyFile(join(dir, 'p.yaml')));
    expect(problems[0]).toBe('prompts.maxPerMinute: must be a whole number ≥ 1 (got 0)');
    expect(problems.filter((p) => p.startsWith('playbooks: ')).length).toBeGreaterThanOrEqual(5);
    expect(problems.at(-1)).toMatch(/no playbook for zh-CN/);
  });
});
