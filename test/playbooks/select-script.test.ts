import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillPlaceholders, KNOWN_PLACEHOLDERS, placeholdersIn } from '../../src/playbooks/placeholders.js';
import { loadPlaybooks, parsePlaybook, PlaybookError } from '../../src/playbooks/playbook-file.js';
import { createScriptSelector, resolvePlaybookLanguage } from '../../src/playbooks/select-script.js';
import { PROMPT_TIERS } from '../../src/playbooks/types.js';
import { SITUATIONS } from '../../src/policy/types.js';

const SHIPPED = 'config/playbooks';

describe('shipped playbooks', () => {
  const playbooks = loadPlaybooks(SHIPPED);

  it('cover every language × situation × tier, with known placeholders and unique ids', () => {
    expect([...playbooks.keys()].sort()).toEqual(['en-US', 'zh-CN']);
    const ids = new Set<string>();
    for (const [language, playbook] of playbooks) {
      for (const situation of SITUATIONS) {
        for (const tier of PROMPT_TIERS) {
          const scripts = playbook.scripts[situation][tier];
          // At least two lines per cell, so a reminder never has to repeat the entry prompt.
          expect(scripts.length, `${language} ${situation} tier ${tier}`).toBeGreaterThanOrEqual(2);
          for (const script of scripts) {
            expect(script.id.startsWith(`${language}.${situation}.t${tier}.`)).toBe(true);
            expect(ids.has(script.id)).toBe(false);
            ids.add(script.id);
            for (const name of placeholdersIn(script.text)) expect(KNOWN_PLACEHOLDERS).toContain(name);
          }
        }
      }
    }
  });

  it('read well with and without a customer name', () => {
    const select = createScriptSelector(playbooks, 'en-US');
    const used = new Set<string>();
    const named = select({ language: 'en-US', tier: 2, situation: 'anger', usedScriptIds: used, values: { customerName: 'Ms Rivera' } });
    expect(named?.text).toMatch(/^Ms Rivera, I can hear how frustrating/);
    const anonymous = select({ language: 'en-US', tier: 2, situation: 'anger', usedScriptIds: used, values: {} });
    expect(anonymous?.text).toMatch(/^I can hear how frustrating/);
    const zh = select({ language: 'zh-CN', tier: 2, situation: 'anger', usedScriptIds: used, values: {} });
    expect(zh?.text).toMatch(/^听得出来/);
    const zhNamed = select({ language: 'zh-CN', tier: 2, situation: 'anger', usedScriptIds: used, values: { customerName: '王先生' } });
    expect(zhNamed?.text).toMatch(/^王先生，听得出来/);
  });
});

describe('placeholders', () => {
  it('fill known values and drop unknown ones with their comma', () => {
    expect(fillPlaceholders('{customerName}, I hear you.', { customerName: 'Sam' })).toBe('Sam, I hear you.');
    expect(fillPlaceholders('{customerName}, I hear you.', {})).toBe('I hear you.');
    expect(fillPlaceholders('I understand, {customerName}, and I am sorry.', {})).toBe('I understand, and I am sorry.');
    expect(fillPlaceholders('I hear you, {customerName}.', { customerName: '  ' })).toBe('I hear you.');
    expect(fillPlaceholders('{customerName}，我理解。', {})).toBe('我理解。');
    expect(fillPlaceholders('Thanks from {companyName}.', { companyName: 'Acme' })).toBe('Thanks from Acme.');
  });
});

describe('language fallback', () => {
  const langs = ['en-US', 'zh-CN'];
  it('matches exactly, then by primary language, then the default', () => {
    expect(resolvePlaybookLanguage('zh-cn', langs, 'en-US')).toBe('zh-CN');
    expect(resolvePlaybookLanguage('zh-TW', langs, 'en-US')).toBe('zh-CN');
    expect(resolvePlaybookLanguage('zh_Hans', langs, 'en-US')).toBe('zh-CN');
    expect(resolvePlaybookLanguage('en-GB', langs, 'zh-CN')).toBe('en-US');
    expect(resolvePlaybookLanguage('fr-FR', langs, 'zh-CN')).toBe('zh-CN');
    expect(resolvePlaybookLanguage(undefined, langs, 'en-US')).toBe('en-US');
  });

  it('refuses a default language without a playbook', () => {
    expect(() => createScriptSelector(loadPlaybooks(SHIPPED), 'fr-FR')).toThrow(PlaybookError);
  });
});

describe('rotation', () => {
  it('walks the list in order and never repeats a script within a call', () => {
    const select = createScriptSelector(loadPlaybooks(SHIPPED), 'en-US');
    const used = new Set<string>();
    const seen: string[] = [];
    for (;;) {
      const s = select({ language: 'en-US', tier: 2, situation: 'sadness', usedScriptIds: used, values: {} });
      if (s === null) break;
      used.add(s.scriptId);
      seen.push(s.scriptId);
    }
    expect(seen).toEqual(['en-US.sadness.t2.1', 'en-US.sadness.t2.2', 'en-US.sadness.t2.3']);
  });
});

describe('playbook validation', () => {
  it('lists every problem at once', () => {
    const problems: string[] = [];
    const result = parsePlaybook(
      {
        language: 'en-US',
        colour: 'blue',
        scripts: {
          anger: { tier2: ['Hello {customerNmae}.'], tier3: [], tier4: ['ok', 42], tier5: ['x'] },
          panic: {},
        },
      },
      'x.yaml',
      problems,
    );
    expect(result).toBeUndefined();
    expect(problems).toEqual([
      'x.yaml: unknown key `colour`',
      'x.yaml: unknown situation `panic` (known: anger, frustration, anxiety, sadness)',
      'x.yaml: anger: unknown key `tier5` (use tier2, tier3, tier4)',
      'x.yaml: anger.tier2[0] uses unknown placeholder {customerNmae} (known: {customerName}, {agentName}, {companyName})',
      'x.yaml: anger.tier3 is missing or empty',
      'x.yaml: anger.tier4[1] must be a non-empty string',
      'x.yaml: situation `frustration` is missing',
      'x.yaml: situation `anxiety` is missing',
      'x.yaml: situation `sadness` is missing',
    ]);
  });

  it('checks file names against languages and requires en-US and zh-CN', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-playbooks-'));
    const full = (lang: string) =>
      JSON.stringify({
        language: lang,
        scripts: Object.fromEntries(SITUATIONS.map((s) => [s, { tier2: ['a'], tier3: ['b'], tier4: ['c'] }])),
      });
    writeFileSync(join(dir, 'en-US.json'), full('en-US'));
    writeFileSync(join(dir, 'de-DE.yaml'), full('de-AT'));
    writeFileSync(join(dir, 'broken.yaml'), 'language: [');
    let error: unknown;
    try {
      loadPlaybooks(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlaybookError);
    const problems = (error as PlaybookError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/broken\.yaml: not valid YAML/);
    expect(problems[1]).toMatch(/de-DE\.yaml: language de-AT does not match the file name/);
    expect(problems[2]).toMatch(/no playbook for zh-CN/);
    expect((error as PlaybookError).code).toBe('UT_ERR_PLAYBOOK');
  });
});
