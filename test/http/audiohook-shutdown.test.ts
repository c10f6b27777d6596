/**
 * Server shutdown with an AudioHook session open: the client is told in-band
 * (`disconnect`) before the socket closes with 1001, and the call is
 * finalised as a shutdown.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AudiohookMessages, type ServerMessage } from '../../src/gateway-sim/audiohook-stream-client.js';
import { closed, startTestService, waitFor } from '../integration/helpers.js';

describe('AudioHook at shutdown', () => {
  it('sends disconnect {reason: error} and then closes with 1001', async () => {
    const svc = await startTestService({ AUDIOHOOK_API_KEYS: JSON.stringify({ open: '' }) });
    try {
      const sessionId = randomUUID();
      const organizationId = randomUUID();
      const ws = new WebSocket(`${svc.wsUrl}/v1/streams/audiohook`, { headers: { 'audiohook-session-id': sessionId, 'audiohook-organization-id': organizationId, 'x-api-key': 'open' } });
      ws.on('error', () => undefined);
      const client = new AudiohookMessages(sessionId);
      const received: ServerMessage[] = [];
      ws.on('message', (d) => received.push(client.received(String(d))));
      await new Promise<void>((resolve) => ws.once('open', () => resolve()));
      const closedP = closed(ws);
      ws.send(client.openMessage({ organizationId, conversationId: randomUUID(), media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }] }));
      await waitFor(() => received.find((m) => m.type === 'opened'), 'opened');
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
