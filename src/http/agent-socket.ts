/**
 * `GET /v1/agents/:agentId/stream`: an agent's softphone listens here for
 * prompts and priority changes. The socket is registered with the AgentHub
 * for as long as it is open; an agent with no call simply waits. Messages
 * from the agent are not part of the protocol yet and are ignored.
 */
import type { WebSocket } from 'ws';
import type { AgentHub } from '../delivery/agent-messages.js';
import { registerWebSocket } from '../delivery/ws-sink.js';
import { isValidAgentId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import { closeReason } from './close-reason.js';

export function handleAgentSocket(socket: WebSocket, agentId: string, hub: AgentHub, logger: Logger): void {
  if (!isValidAgentId(agentId)) {
    logger.warn({ agentId: agentId.slice(0, 140) }, 'agent socket refused: invalid agentId');
    socket.close(1008, closeReason('UT_ERR_INVALID_AGENT_ID', 'agentId must be 1-128 characters of [A-Za-z0-9._-]'));
    return;
  }
  const log = logger.child({ agentId });
  // Unregisters itself on close or error.
  registerWebSocket(hub, agentId, socket, log);
  log.info('agent connected');
  socket.on('close', (code: number) => log.info({ closeCode: code }, 'agent disconnected'));
}
