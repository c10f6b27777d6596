import { describe, expect, it } from 'vitest';
import { planEpisodeCalls, planSpeakerEpisodes } from '../../src/eval/episode-calls.js';
import type { ManifestClip } from '../../src/eval/manifest.js';

let next = 0;
function clip(speaker: string, label: string, durationS = 2, arousal = 'mid'): ManifestClip {
  const index = next++;
  return { index, path: `${index}.wav`, file: `/x/${index}.wav`, corpus: 'c', speaker, gender: '', language: '', label, arousal, sourceLabel: '', durationS };
}

function speakerClips(speaker: string): ManifestClip[] {
  return [
    ...Array.from({ length: 10 }, () => clip(speaker, 'neutral')),
    ...Array.from({ length: 12 }, () => clip(speaker, 'anger')),
    ...Array.from({ length: 5 }, () => clip(speaker, 'happiness')),
  ];
}

describe('planSpeakerEpisodes', () => {
  const clips = speakerClips('s1');
  const calls = planSpeakerEpisodes('s1', clips, { seed: 2, stretchS: 8, leadInS: [6, 10] });

  it('makes one call per emotion holding all of its clips from the first second', () => {
    for (const label of ['anger', 'happiness', 'neutral']) {
      const one = calls.find((c) => c.id === `s1/${label}`)!;
      expect(one.clips.every((c) => c.label === label)).toBe(true);
      expect(one.clips.map((c) => c.index).sort((a, b) => a - b)).toEqual(
        clips.filter((c) => c.label === label).map((c) => c.index),
      );
    }
  });

  it('puts every emotional clip once more after a neutral lead-in of the asked length', () => {
    const onsets = calls.filter((c) => c.id.includes('→'));
    // 12 anger clips of 2 s in 8-s stretches = 3 calls; 5 happiness clips = 2 calls.
    expect(onsets.filter((c) => c.id.includes('→anger'))).toHaveLength(3);
    expect(onsets.filter((c) => c.id.includes('→happiness'))).toHaveLength(2);
    for (const call of onsets) {
      const first = call.clips.findIndex((c) => c.label !== 'neutral');
      const lead = call.clips.slice(0, first);
      const leadS = lead.reduce((s, c) => s + c.durationS, 0);
      expect(leadS).toBeGreaterThanOrEqual(6);
      expect(leadS).toBeLessThan(10 + 2);
      expect(call.clips.slice(first).every((c) => c.label === call.clips[first]!.label)).toBe(true);
    }
    const angerAfterLead = onsets.flatMap((c) => c.clips.filter((x) => x.label === 'anger').map((x) => x.index));
    expect(angerAfterLead.sort((a, b) => a - b)).toEqual(clips.filter((c) => c.label === 'anger').map((c) => c.index));
  });

  it('never plays the same lead-in clip twice in a row', () => {
    for (const call of calls) {
      for (let i = 1; i < call.clips.length; i++) expect(call.clips[i]).not.toBe(call.clips[i - 1]);
    }
  });

  it('is deterministic for a seed', () => {
    const again = planSpeakerEpisodes('s1', clips, { seed: 2, stretchS: 8, leadInS: [6, 10] });
    expect(again.map((c) => c.clips.map((x) => x.index))).toEqual(calls.map((c) => c.clips.map((x) => x.index)));
  });
});

describe('planEpisodeCalls', () => {
  it('groups by speaker, gives arousal-only clips one call per level, and speakerless clips calls of their own', () => {
    const clips = [
      ...speakerClips('b'),
      clip('a', '', 2, 'low'),
      clip('a', '', 2, 'high'),
      clip('a', '', 2, 'high'),
      clip('', 'neutral'),
    ];
    const calls = planEpisodeCalls(clips, { seed: 1 });
    expect(calls.filter((c) => c.speaker === 'a').map((c) => c.id)).toEqual(['a/arousal-high', 'a/arousal-low']);
    expect(calls.filter((c) => c.speaker === 'b').length).toBeGreaterThan(3);
    expect(calls.at(-1)!.id).toMatch(/^clip-/);
  });
});
