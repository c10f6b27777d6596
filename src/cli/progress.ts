/** Options for a terminal progress line. */
export interface ProgressOptions {
  label: string;
  /** Amount of work in `unit`s. */
  total: number;
  /** Unit shown after the counts (`clips`, `ms`, …). */
  unit?: string;
  /** Stream to draw on. Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Minimum time between redraws, ms. Default 200 on a TTY, 10 000 otherwise. */
  intervalMs?: number;
}

export interface Progress {
  update(done: number): void;
  done(): void;
}

const fmtDuration = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
};

/**
 * A progress line with rate and ETA for long commands (train, eval, bench,
 * replay). On a terminal it redraws one line; elsewhere (CI logs) it prints a
 * plain line every `intervalMs` so logs stay short.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const intervalMs = options.intervalMs ?? (tty ? 200 : 10_000);
  const unit = options.unit ? ` ${options.unit}` : '';
  const t0 = performance.now();
  let lastDraw = -Infinity;
  let current = 0;

  const line = (): string => {
    const elapsedS = (performance.now() - t0) / 1000;
    const frac = options.total > 0 ? Math.min(1, current / options.total) : 1;
    const etaS = frac > 0 ? (elapsedS / frac) * (1 - frac) : Infinity;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    return `${options.label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${Math.round(current)}/${Math.round(options.total)}${unit} elapsed ${fmtDuration(elapsedS)} ETA ${fmtDuration(etaS)}`;
  };
  const draw = (final: boolean): void => {
    if (tty) stream.write(`\r\x1b[2K${line()}${final ? '\n' : ''}`);
    else stream.write(`${line()}\n`);
  };

  return {
    update(done: number): void {
      current = done;
      const now = performance.now();
      if (now - lastDraw >= intervalMs) {
        lastDraw = now;
        draw(false);
      }
    },
    done(): void {
      current = options.total;
      draw(true);
    },
  };
}
