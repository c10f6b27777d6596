import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPublishJournal } from '../../src/queue/publish-journal.js';
import { captureLogger } from '../integration/helpers.js';

describe('publish journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ut-journal-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('recovers the adds without a done, in order, and rewrites the file with only those', async () => {
    const path = join(dir, 'nested', 'j.ndjson');
    const { logger } = captureLogger();
    const first = openPublishJournal<{ n: number }>(path, logger);
    expect(first.recovered).toEqual([]);
    first.append('a', { n: 1 });
    first.append('b', { n: 2 });
    first.append('c', { n: 3 });
    first.settle('b');
    first.close();

    const second = openPublishJournal<{ n: number }>(path, logger);
    expect(second.recovered).toEqual([{ n: 1 }, { n: 3 }]);
    second.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['a', 'c']);
  });

  it('skips a line torn by a crash mid-write, with a warning', async () => {
    const path = join(dir, 'j.ndjson');
    await writeFile(path, `${JSON.stringify({ op: 'add', id: 'a', job: { n: 1 } })}\n{"op":"add","id":"b","jo`);
    const { logger, lines } = captureLogger();
    const journal = openPublishJournal<{ n: number }>(path, logger);
    expect(journal.recovered).toEqual([{ n: 1 }]);
    expect(lines.some((l) => l.level === 40 && /unreadable lines/.test(l.msg))).toBe(true);
    journal.close();
  });

  it('clear() empties the file once nothing is owed', async () => {
    const path = join(dir, 'j.ndjson');
    const { logger } = captureLogger();
    const journal = openPublishJournal<{ n: number }>(path, logger);
    journal.append('a', { n: 1 });
    journal.settle('a');
    journal.clear();
    journal.close();
    expect(await readFile(path, 'utf8')).toBe('');
  });
});
