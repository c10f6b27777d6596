/**
 * Append-only journal of the publisher's retry buffer, so events accepted
 * while Redis was away survive a crash or a shutdown that could not flush
 * them: they are replayed into the buffer at the next start.
 *
 * Format: one JSON object per line, `{"op":"add","id":…,"job":…}` when an
 * event enters the buffer (written and fsynced before `publish` resolves)
 * and `{"op":"done","id":…}` when Redis took it (or it was given up). At
 * open, the adds without a done are recovered in order and the file is
 * rewritten with only those; it is truncated whenever the buffer empties.
 * A torn last line (crash mid-write) is skipped with a warning.
 *
 * Replaying a job Redis did take (its `done` was lost in the crash) is
 * harmless: the job id makes the re-add a no-op in BullMQ while the job is
 * retained, and softphones de-duplicate prompts by promptId.
 *
 * One journal file per process: two processes must not share a path.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../shared/logger.js';

export interface PublishJournal<T> {
  /** Jobs added and never settled in an earlier run, oldest first. */
  readonly recovered: readonly T[];
  /** Records a job entering the buffer; durable when it returns. */
  append(id: string, job: T): void;
  /** Records that a job left the buffer (taken by Redis, or given up). */
  settle(id: string): void;
  /** The buffer is empty: start the file afresh. */
  clear(): void;
  close(): void;
}

type Line<T> = { op: 'add'; id: string; job: T } | { op: 'done'; id: string };

export function openPublishJournal<T>(path: string, logger: Logger): PublishJournal<T> {
  const log = logger.child({ component: 'publish-journal', path });
  const pending = new Map<string, T>();
  if (existsSync(path)) {
    const lines = readFileSync(path, 'utf8').split('\n');
    let torn = 0;
    for (const text of lines) {
      if (text.trim() === '') continue;
      let line: Line<T>;
      try {
        line = JSON.parse(text) as Line<T>;
      } catch {
        torn += 1;
        continue;
      }
      if (line.op === 'add') pending.set(line.id, line.job);
      else if (line.op === 'done') pending.delete(line.id);
    }
    if (torn > 0) log.warn({ torn }, 'publish journal: unreadable lines skipped (a write cut short by a crash)');
  } else {
    mkdirSync(dirname(path), { recursive: true });
  }
  // Rewrite with only what is still owed, atomically.
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, [...pending].map(([id, job]) => `${JSON.stringify({ op: 'add', id, job })}\n`).join(''));
  renameSync(tmp, path);
  const recovered = [...pending.values()];
  if (recovered.length > 0) log.warn({ recovered: recovered.length }, 'publish journal: events from an earlier run will be published');

  let fd: number | undefined = openSync(path, 'a');
  const write = (line: Line<T>, sync: boolean): void => {
    if (fd === undefined) return;
    writeSync(fd, `${JSON.stringify(line)}\n`);
    if (sync) fsyncSync(fd);
  };

  return {
    recovered,
    append(id, job) {
      write({ op: 'add', id, job }, true);
    },
    settle(id) {
      // No fsync: a lost "done" only replays a job Redis ignores by its id.
      write({ op: 'done', id }, false);
    },
    clear() {
      if (fd !== undefined) ftruncateSync(fd, 0);
    },
    close() {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
    },
  };
}
