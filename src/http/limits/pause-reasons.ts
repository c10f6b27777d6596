/**
 * Several parties pause a gateway socket for different reasons: the call's
 * scoring backlog (src/http/gateway-socket.ts calls `socket.pause()` /
 * `socket.resume()`) and ingest pacing (src/http/limits/socket-limits.ts).
 * Reading must resume only when every reason has cleared, or pacing would
 * undo backpressure and vice versa. `trackPauseReasons` makes the socket's
 * own `pause`/`resume` count as the reason `'backlog'` (so gateway-socket
 * keeps its plain calls) and returns named pause/resume for the others.
 */
import type { WebSocket } from 'ws';

export interface PauseControl {
  pause(reason: string): void;
  resume(reason: string): void;
  /** Reasons currently holding the socket paused. */
  readonly reasons: ReadonlySet<string>;
}

export function trackPauseReasons(socket: WebSocket): PauseControl {
  const reasons = new Set<string>();
  const rawPause = socket.pause.bind(socket);
  const rawResume = socket.resume.bind(socket);
  const control: PauseControl = {
    reasons,
    pause(reason) {
      reasons.add(reason);
      rawPause();
    },
    resume(reason) {
      reasons.delete(reason);
      if (reasons.size === 0) rawResume();
    },
  };
  socket.pause = () => control.pause('backlog');
  socket.resume = () => control.resume('backlog');
  return control;
}
