import { describe, expect, it } from 'vitest';
import { EMOTION_LABELS } from '../../src/model/types.js';
import {
  createScriptSelector,
  PLAYBOOKS,
  PlaybookError,
  resolvePlaybookLanguage,
  selectScript,
} from '../../src/playbooks/select-script.js';
import type { PlaybookLanguage, PromptTier } from '../../src/playbooks/types.js';

const TIERS: PromptTier[] = [2, 3, 4];
const LANGUAGES: PlaybookLanguage[] = ['en', 'zh-CN'];

describe('playbooks', () => {
  it('have several general scripts for every tier in every language, with unique well-formed ids', () => {
    const ids = new Set<string>();
    for (const language of LANGUAGES) {
      const playbook = PLAYBOOKS[language];
      expect(playbook.language).toBe(language);
      for (const tier of TIERS) {
        expect(playbook.scripts.filter((s) => s.tier === tier && s.emotion === undefined).length).toBeGreaterThanOrEqual(3);
      }
      for (const s of playbook.scripts) {
        expect(s.id).toBe(`${language}.t${s.tier}.${s.emotion ?? 'general'}.${s.id.split('.').at(-1)}`);
        expect(ids.has(s.id)).toBe(false);
        ids.add(s.id);
        expect(s.text.trim()).toBe(s.text);
        expect(s.text.length).toBeGreaterThan(language === 'en' ? 60 : 25);
      }
    }
    expect(Object.isFrozen(PLAYBOOKS.en.scripts[0])).toBe(true);
  });

  it('write Chinese scripts in Chinese and English scripts in English', () => {
    for (const s of PLAYBOOKS['zh-CN'].scripts) expect(s.text).toMatch(/[\u4e00-\u9fff]/);
    for (const s of PLAYBOOKS['zh-CN'].scripts) expect(s.text).not.toMatch(/[A-Za-z]/);
    for (const s of PLAYBOOKS.en.scripts) expect(s.text).not.toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('resolvePlaybookLanguage', () => {
  it.each([
    ['zh-CN', 'zh-CN'],
    ['zh', 'zh-CN'],
    ['zh-TW', 'zh-CN'],
    ['ZH-hans-SG', 'zh-CN'],
    ['en', 'en'],
    ['en-GB', 'en'],
    ['fr-FR', 'en'],
    ['', 'en'],
    [undefined, 'en'],
  ])('%s → %s', (tag, expected) => {
    expect(resolvePlaybookLanguage(tag)).toBe(expected);
  });
});

describe('selectScript', () => {
  it('serves every tier and emotion in both languages', () => {
    for (const language of ['en-US', 'zh-CN']) {
      for (const tier of TIERS) {
        for (const emotion of [...EMOTION_LABELS, undefined]) {
          const s = selectScript({ language, tier, emotion, previousScriptIds: [] });
          expect(s.scriptId.startsWith(`${resolvePlaybookLanguage(language)}.t${tier}.`)).toBe(true);
          expect(s.text.length).toBeGreaterThan(0);
        }
      }
    }
  });

  it('falls back: zh* → zh-CN, unknown → en', () => {
    expect(selectScript({ language: 'zh-HK', tier: 3, emotion: 'anger', previousScriptIds: [] })).toMatchObject({
      scriptId: 'zh-CN.t3.anger.1',
      language: 'zh-CN',
    });
    expect(selectScript({ language: 'de-DE', tier: 3, emotion: 'anger', previousScriptIds: [] })).toMatchObject({
      scriptId: 'en.t3.anger.1',
      language: 'en',
    });
  });

  it('prefers emotion-specific lines, then general ones, and uses general ones for neutral callers', () => {
    const seen: string[] = [];
    for (let i = 0; i < 7; i++) {
      seen.push(selectScript({ language: 'en', tier: 2, emotion: 'anger', previousScriptIds: seen }).scriptId);
    }
    expect(seen).toEqual([
      'en.t2.anger.1',
      'en.t2.anger.2',
      'en.t2.general.1',
      'en.t2.general.2',
      'en.t2.general.3',
      'en.t2.anger.1',
      'en.t2.anger.2',
    ]);
    expect(selectScript({ language: 'en', tier: 2, emotion: 'neutral', previousScriptIds: [] }).scriptId).toBe(
      'en.t2.general.1',
    );
  });

  it('rotates deterministically to the least recently used script', () => {
    const previous = ['en.t4.general.2', 'en.t4.general.3', 'en.t4.general.1', 'en.t4.general.3'];
    const a = selectScript({ language: 'en', tier: 4, emotion: undefined, previousScriptIds: previous });
    const b = selectScript({ language: 'en', tier: 4, emotion: undefined, previousScriptIds: previous });
    expect(a.scriptId).toBe('en.t4.general.2');
    expect(b).toEqual(a);
  });

  it('refuses a catalogue that cannot serve a tier', () => {
    expect(() =>
      createScriptSelector({
        en: { language: 'en', scripts: [{ id: 'en.t2.general.1', tier: 2, emotion: undefined, text: 'Hello.' }] },
        'zh-CN': PLAYBOOKS['zh-CN'],
      }),
    ).toThrow(PlaybookError);
  });
});
