/**
 * AudioHook sessions ended by the server: at shutdown the client is told
 * in-band (`disconnect`) before the socket closes with 1001; over MAX_CALLS
 * the `opened` is followed by `disconnect`, and the client's `close` still
 * gets its `closed`.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AudiohookMessages, type ServerMessage } from '../../src/gateway-sim/audiohook-stream-client.js';
import { closed, startTestService, waitFor, type TestService } from '../integration/helpers.js';

async function session(svc: TestService) {
  const sessionId = randomUUID();
  const organizationId = randomUUID();
  const ws = new WebSocket(`${svc.wsUrl}/v1/streams/audiohook`, { headers: { 'audiohook-session-id': sessionId, 'audiohook-organization-id': organizationId, 'x-api-key': 'open' } });
  ws.on('error', () => undefined);
  const client = new AudiohookMessages(sessionId);
  const received: ServerMessage[] = [];
  ws.on('message', (d) => received.push(client.received(String(d))));
  await new Promise<void>((resolve) => ws.once('open', () => resolve()));
  const closedP = closed(ws);
  const open = (conversationId = randomUUID()): void =>
    ws.send(client.openMessage({ organizationId, conversationId, media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }] }));
  const next = (type: string): Promise<ServerMessage> => waitFor(() => received.find((m) => m.type === type), type);
  return { ws, client, received, closedP, open, next };
}

describe('AudioHook at shutdown', () => {
  it('over MAX_CALLS: opened, then disconnect naming the capacity; close is still answered with closed', async () => {
    const svc = await startTestService({ AUDIOHOOK_API_KEYS: JSON.stringify({ open: '' }), MAX_CALLS: '1' });
    try {
      const first = await session(svc);
      first.open();
      await first.next('opened');
      const second = await session(svc);
      second.open();
      const bye = await second.next('disconnect');
      expect(second.received.map((m) => m.type)).toEqual(['opened', 'disconnect']);
      expect(bye).toMatchObject({ seq: 2, parameters: { reason: 'error', info: expect.stringContaining('UT_ERR_TOO_MANY_CALLS') } });
      second.ws.send(second.client.message('close', { reason: 'disconnect' }));
      expect(await second.next('closed')).toMatchObject({ seq: 3, clientseq: 2 });
      second.ws.close(1000);
      await second.closedP;
      // The first call is untouched.
      first.ws.send(first.client.message('ping'));
      expect(await first.next('pong')).toMatchObject({ seq: 2, clientseq: 2 });
      first.ws.close(1000);
      await first.closedP;
    } finally {
      await svc.close();
    }
  });

  it('sends disconnect {reason: error} and then closes with 1001', async () => {
    const svc = await startTestService({ AUDIOHOOK_API_KEYS: JSON.stringify({ open: '' }) });
    try {
      const { ws, received, closedP, open, next } = await session(svc);
      open();
      await next('opened');
      ws.send(new Uint8Array(1600).fill(0xff), { binary: true });
      await svc.close();
      const { code } = await closedP;
      expect(code).toBe(1001);
      expect(received.map((m) => m.type)).toEqual(['opened', 'disconnect']);
      expect(received[1]).toMatchObject({ seq: 2, clientseq: 1, parameters: { reason: 'error', info: expect.stringContaining('UT_ERR_SHUTTING_DOWN') } });
    } finally {
      await svc.close();
    }
  });
});
