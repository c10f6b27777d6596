import { describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { onAgentMessage, type AgentMessageContext, type AgentMessageHandler } from '../../src/http/agent-socket.js';
import { silentLogger } from '../queue/helpers.js';

function ctx(): { ctx: AgentMessageContext; replies: Record<string, unknown>[] } {
  const replies: Record<string, unknown>[] = [];
  return { replies, ctx: { agentId: 'ag-1', socket: {} as WebSocket, log: silentLogger(), reply: (m) => replies.push(m) } };
}

describe('agent socket message dispatch', () => {
  it('hands each message to the handler of its type, with the agent context', async () => {
    const seen: unknown[] = [];
    const handlers: Record<string, AgentMessageHandler> = { ack: (msg, c) => void seen.push([msg, c.agentId]) };
    const { ctx: c, replies } = ctx();
    onAgentMessage('{"type":"ack","promptId":"p-1","action":"used"}', c, handlers);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual([{ type: 'ack', promptId: 'p-1', action: 'used' }, 'ag-1']);
    expect(replies).toEqual([]);
  });

  it('answers non-JSON, unknown types and failing handlers with an error message', async () => {
    const handlers: Record<string, AgentMessageHandler> = {
      boom: async () => {
        throw new Error('nope');
      },
    };
    const { ctx: c, replies } = ctx();
    onAgentMessage('hello', c, handlers);
    onAgentMessage('{"type":"toString"}', c, handlers);
    onAgentMessage('[1]', c, handlers);
    onAgentMessage('{"type":"boom"}', c, handlers);
    await vi.waitFor(() => expect(replies).toHaveLength(4));
    expect(replies).toEqual([
      { type: 'error', message: 'message is not JSON' },
      { type: 'error', message: 'unknown message type "toString"' },
      { type: 'error', message: 'unknown message type null' },
      { type: 'error', message: 'could not handle boom' },
    ]);
  });
});
