import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { AgentHub } from './agent-messages.js';

/**
 * Registers a `ws` WebSocket with the hub and unregisters it when it closes
 * or errors. `send` on a socket that is no longer open throws, so the hub
 * drops it at once rather than writing into the void.
 * @returns the unregister function (also called on close).
 */
export function registerWebSocket(hub: AgentHub, agentId: string, socket: WebSocket, logger?: Logger): () => void {
  const unregister = hub.register(agentId, {
    send(text) {
      if (socket.readyState !== socket.OPEN) throw new Error(`socket not open (readyState ${socket.readyState})`);
      socket.send(text);
    },
  });
  socket.once('close', unregister);
  socket.once('error', (err) => {
    logger?.warn({ err, agentId }, 'agent socket error');
    unregister();
  });
  return unregister;
}
