import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startHeartbeat } from '../../src/http/heartbeat.js';
import { openSocket, waitFor } from '../integration/helpers.js';

/** A TCP client that completes the WebSocket upgrade and then never answers anything (a half-open peer). */
async function silentPeer(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  return socket;
}

describe('WebSocket heartbeat', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  });

  it('terminates a peer that stops answering pings and keeps one that answers', async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss!.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    const serverSideClosed: number[] = [];
    wss.on('connection', (s) => s.on('close', (code) => serverSideClosed.push(code)));
    const stop = startHeartbeat(wss, 200);

    const good = await openSocket(`ws://127.0.0.1:${port}`);
    const silent = await silentPeer(port);
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await waitFor(() => (serverSideClosed.length > 0 ? true : undefined), 'the server side to close');

    // The silent peer was cut (1006: no close frame); the answering client is untouched.
    expect(serverSideClosed).toEqual([1006]);
    expect(good.readyState).toBe(WebSocket.OPEN);
    expect(wss.clients.size).toBe(1);
    stop();
    good.close();
  });
});
