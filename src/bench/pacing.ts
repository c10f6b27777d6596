/**
 * Real-time pacing of 20 ms frames. Every call has its own start time; frame
 * f (0-based) of a call is due at start + f × 20 ms. One drift-corrected
 * tick loop sends whatever is due for every call, so timer jitter never
 * accumulates and a late tick catches up (sends the frames it missed at once,
 * as a gateway flushing its buffer would).
 */
import { FRAME_MS } from '../gateway-sim/twilio-messages.js';

/** Wall clock in ms with sub-ms resolution, comparable across worker threads (epoch based). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Frames of a call due by `now` (frame 0 is due at `startMs`), at most `total`. */
export function framesDue(startMs: number, now: number, total: number): number {
  if (now < startMs) return 0;
  return Math.min(total, Math.floor((now - startMs) / FRAME_MS) + 1);
}

/**
 * The 0-based frame whose audio contains audio time `audioMs`: frame f
 * carries (f × 20, (f + 1) × 20] ms, so the window ending at `audioMs` was
 * completed by frame ceil(audioMs / 20) − 1.
 */
export function frameForAudioMs(audioMs: number): number {
  return Math.max(0, Math.ceil(audioMs / FRAME_MS) - 1);
}

/** Start offsets that spread `calls` call starts evenly over `rampMs`. */
export function staggerOffsets(calls: number, rampMs: number): number[] {
  return Array.from({ length: calls }, (_, i) => (calls > 1 ? (i * rampMs) / calls : 0));
}

/** Whether call `i` is one of the angry ones, spread evenly: share 0.5 → every other call. */
export function isAngryCall(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

export interface Ticker {
  stop(): void;
}

/**
 * Calls `onTick(now)` every `tickMs`, due times t0 + k × tickMs (drift
 * corrected: a late tick does not push the later ones back). `onTick`
 * returns false to stop.
 */
export function startTicker(tickMs: number, onTick: (now: number) => boolean): Ticker {
  const t0 = nowMs();
  let k = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = (): void => {
    if (stopped) return;
    const now = nowMs();
    if (!onTick(now)) {
      stopped = true;
      return;
    }
    // Skip ticks already missed rather than firing them back to back.
    k = Math.max(k + 1, Math.floor((now - t0) / tickMs) + 1);
    timer = setTimeout(loop, Math.max(0, t0 + k * tickMs - nowMs()));
  };
  timer = setTimeout(loop, 0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
