/**
 * Progress with ETA on stderr: a redrawn line on a TTY, plain lines every
 * `intervalMs` otherwise (logs, CI).
 */
export interface ProgressOptions {
  /** What is being counted, e.g. "audio". */
  label: string;
  /** Total units (seconds of audio). */
  total: number;
  /** Unit suffix for the counts. Default "s". */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Plain-line interval when not a TTY, ms. Default 15000. */
  intervalMs?: number;
  /** Time source (tests). */
  now?: () => number;
}

export interface Progress {
  add(units: number): void;
  done(): void;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const unit = options.unit ?? 's';
  const tty = stream.isTTY === true;
  const interval = tty ? 200 : (options.intervalMs ?? 15_000);
  const started = now();
  let count = 0;
  let lastDraw = 0;
  const line = (): string => {
    const elapsed = (now() - started) / 1000;
    const frac = options.total > 0 ? Math.min(1, count / options.total) : 1;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const eta = rate > 0 ? (options.total - count) / rate : Infinity;
    return (
      `${options.label}: ${(frac * 100).toFixed(1).padStart(5)}%  ${Math.round(count)}/${Math.round(options.total)} ${unit}` +
      `  ${rate.toFixed(0)} ${unit}/s  elapsed ${clock(elapsed)}  ETA ${clock(eta)}`
    );
  };
  return {
    add(units) {
      count += units;
      const t = now();
      if (t - lastDraw < interval) return;
      lastDraw = t;
      stream.write(tty ? `\r${line()}\x1b[K` : `${line()}\n`);
    },
    done() {
      stream.write(tty ? `\r${line()}\x1b[K\n` : `${line()}\n`);
    },
  };
}
