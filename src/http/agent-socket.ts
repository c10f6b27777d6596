/**
 * `GET /v1/agents/:agentId/stream`: an agent's softphone listens here for
 * prompts and priority changes. The socket is registered with the AgentHub
 * for as long as it is open; an agent with no call simply waits.
 *
 * Messages from the agent go through one dispatch, `onAgentMessage`, keyed by
 * the JSON `type`: add a handler to `AGENT_MESSAGE_HANDLERS` (e.g. `ack` for
 * prompt feedback). Unknown types and non-JSON get `{"type":"error"}` back;
 * the socket stays open.
 */
import type { WebSocket } from 'ws';
import type { AgentHub } from '../delivery/agent-messages.js';
import { registerWebSocket } from '../delivery/ws-sink.js';
import { isValidAgentId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import { closeReason } from './close-reason.js';

/** What a handler of an agent message gets. */
export interface AgentMessageContext {
  agentId: string;
  socket: WebSocket;
  log: Logger;
  /** Sends a JSON reply on this socket (if still open). */
  reply(msg: Record<string, unknown>): void;
}

/** Handles one parsed agent message of its type; may be async (errors are logged and answered). */
export type AgentMessageHandler = (msg: Record<string, unknown>, ctx: AgentMessageContext) => void | Promise<void>;

/** Agent → server message types. None yet; prompt feedback (`ack`) is added here. */
export const AGENT_MESSAGE_HANDLERS: Record<string, AgentMessageHandler> = {};

/** The single dispatch for messages from an agent's socket. */
export function onAgentMessage(text: string, ctx: AgentMessageContext, handlers: Readonly<Record<string, AgentMessageHandler>> = AGENT_MESSAGE_HANDLERS): void {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    ctx.reply({ type: 'error', message: 'message is not JSON' });
    return;
  }
  const type = typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as { type?: unknown }).type : undefined;
  const handler = typeof type === 'string' && Object.hasOwn(handlers, type) ? handlers[type] : undefined;
  if (!handler) {
    ctx.reply({ type: 'error', message: `unknown message type ${JSON.stringify(type ?? null)}` });
    return;
  }
  Promise.resolve()
    .then(() => handler(msg as Record<string, unknown>, ctx))
    .catch((err: unknown) => {
      ctx.log.error({ err, type }, 'agent message handler failed');
      ctx.reply({ type: 'error', message: `could not handle ${String(type)}` });
    });
}

export function handleAgentSocket(
  socket: WebSocket,
  agentId: string,
  hub: AgentHub,
  logger: Logger,
  handlers: Readonly<Record<string, AgentMessageHandler>> = AGENT_MESSAGE_HANDLERS,
): void {
  if (!isValidAgentId(agentId)) {
    logger.warn({ agentId: agentId.slice(0, 140) }, 'agent socket refused: invalid agentId');
    socket.close(1008, closeReason('UT_ERR_INVALID_AGENT_ID', 'agentId must be 1-128 characters of [A-Za-z0-9._-]'));
    return;
  }
  const log = logger.child({ agentId });
  // Unregisters itself on close or error.
  registerWebSocket(hub, agentId, socket, log);
  log.info('agent connected');
  const ctx: AgentMessageContext = {
    agentId,
    socket,
    log,
    reply(msg) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
    },
  };
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return ctx.reply({ type: 'error', message: 'binary messages are not part of the agent protocol' });
    onAgentMessage(String(data), ctx, handlers);
  });
  socket.on('close', (code: number) => log.info({ closeCode: code }, 'agent disconnected'));
}
