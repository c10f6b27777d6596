/**
 * Clip manifests (the corpora's manifest.csv and operators' own): one row per
 * clip with path, corpus, speaker, label, arousal, ... Read by train-features
 * and eval alike.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ManifestClip {
  /** Row order in the manifest, from 0: the clip's stable id within this manifest. */
  index: number;
  /** Path as written in the manifest (relative to the root). */
  path: string;
  /** Absolute path of the audio file. */
  file: string;
  corpus: string;
  /** Speaker id; empty when unknown (such a clip is a call on its own). */
  speaker: string;
  gender: string;
  language: string;
  /** Harmonised category (`neutral`, `anger`, ...), empty when the corpus has none. */
  label: string;
  /** `low` | `mid` | `high`, or empty. */
  arousal: string;
  sourceLabel: string;
  durationS: number;
}

/** Columns a manifest must have; the others are optional. */
export const REQUIRED_COLUMNS = ['path', 'corpus', 'speaker', 'label', 'arousal'] as const;

/**
 * Spellings of the harmonised labels that operators' manifests use; anything
 * else is kept as written (an unknown label counts as "not anger" and for
 * arousal, never for the four-way task).
 */
const LABEL_SYNONYMS: Readonly<Record<string, string>> = {
  angry: 'anger',
  happy: 'happiness',
  joy: 'happiness',
  sad: 'sadness',
};
const AROUSAL_SYNONYMS: Readonly<Record<string, string>> = { medium: 'mid', middle: 'mid' };

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF, a leading BOM). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Lower-cased, with common spellings mapped to the harmonised labels (`Angry` → `anger`). */
export function normaliseLabel(label: string): string {
  const l = label.trim().toLowerCase();
  return LABEL_SYNONYMS[l] ?? l;
}

export interface ReadManifestOptions {
  /** Folder the `path` column is relative to. Default: the manifest's folder. */
  root?: string;
}

/** Reads and checks a manifest; throws an Error naming the file and the problem. */
export async function readManifest(file: string, options: ReadManifestOptions = {}): Promise<ManifestClip[]> {
  const text = await readFile(file, 'utf8');
  const rows = parseCsv(text);
  const header = rows[0];
  if (!header) throw new Error(`${file}: empty manifest`);
  const col = new Map(header.map((h, i) => [h.trim(), i]));
  const missing = REQUIRED_COLUMNS.filter((c) => !col.has(c));
  if (missing.length) throw new Error(`${file}: missing column(s) ${missing.join(', ')} (have ${header.join(', ')})`);
  const root = path.resolve(options.root ?? path.dirname(file));
  const get = (r: string[], name: string): string => {
    const i = col.get(name);
    return i === undefined ? '' : (r[i] ?? '').trim();
  };
  const clips: ManifestClip[] = [];
  for (let n = 1; n < rows.length; n++) {
    const r = rows[n]!;
    const p = get(r, 'path');
    if (!p) throw new Error(`${file}:${n + 1}: empty path`);
    const arousalRaw = get(r, 'arousal').toLowerCase();
    const arousal = AROUSAL_SYNONYMS[arousalRaw] ?? arousalRaw;
    if (arousal && !['low', 'mid', 'high'].includes(arousal)) {
      throw new Error(`${file}:${n + 1}: arousal '${arousal}' is not low, mid or high`);
    }
    clips.push({
      index: clips.length,
      path: p,
      file: path.resolve(root, p),
      corpus: get(r, 'corpus') || 'unknown',
      speaker: get(r, 'speaker'),
      gender: get(r, 'gender'),
      language: get(r, 'language'),
      label: normaliseLabel(get(r, 'label')),
      arousal,
      sourceLabel: get(r, 'source_label'),
      durationS: Number(get(r, 'duration_s')) || 0,
    });
  }
  return clips;
}
