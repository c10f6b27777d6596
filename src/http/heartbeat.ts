/**
 * WebSocket keepalive. A peer that vanished without a close (NAT timeout,
 * crashed gateway) leaves a half-open TCP connection: its call would stay
 * "live" forever and count against MAX_CALLS, an agent would stay registered.
 * Every interval each socket is pinged; one that has not answered the
 * previous ping is terminated, which runs its normal close path (the call
 * ends as a disconnect, the agent is unregistered). Twilio and browsers
 * answer pings on their own.
 */
import type { WebSocketServer, WebSocket } from 'ws';

const alive = new WeakMap<WebSocket, boolean>();

/** Starts pinging every client of `wss` every `intervalMs`; returns the stop function. */
export function startHeartbeat(wss: WebSocketServer, intervalMs: number): () => void {
  const onConnection = (socket: WebSocket): void => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
  };
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      // A socket we paused (scoring backlog, ingest pacing) cannot read the
      // peer's pong: it is not dead, we are just not listening. Skip it.
      if (socket.isPaused) {
        alive.set(socket, true);
        continue;
      }
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      if (socket.readyState === socket.OPEN) socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
