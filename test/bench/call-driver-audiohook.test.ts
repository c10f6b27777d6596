/**
 * The load generator's AudioHook client against a scripted server on a real
 * socket: a server that ends a session in-band (`disconnect`, as Undertone
 * does when it sheds a call) gets the client's `close`, and the call is
 * recorded as ended by the server with the disconnect's reason, so the
 * figures count it as failed (and as shed when it says so).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { CallDriver, type DriveCallResult } from '../../src/bench/call-driver.js';
import { precomputeAudiohookFrames } from '../../src/gateway-sim/audiohook-stream-client.js';
import { computeFigures } from '../../src/bench/run-figures.js';

const SHED = 'UT_ERR_OVERLOADED: instance overloaded: audio lag 900 ms and growing; this call is shed so that the others are scored in time; try another instance';

describe('CallDriver over AudioHook', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
  });

  it("answers a server's disconnect with close, and records the call as ended by the server with its reason", async () => {
    const received: Array<{ type: string; seq: number; parameters: Record<string, unknown> }> = [];
    let audioFrames = 0;
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const upgrades: Array<Record<string, unknown>> = [];
    wss.on('connection', (ws: WebSocket, req) => {
      // The call's agent socket reaches this server too; only the AudioHook session is scripted.
      if (req.url !== '/v1/streams/audiohook') return;
      upgrades.push(req.headers);
      let seq = 0;
      const send = (type: string, parameters: Record<string, unknown> = {}): void => {
        seq += 1;
        ws.send(JSON.stringify({ version: '2', id: req.headers['audiohook-session-id'], type, seq, clientseq: received.length, parameters }));
      };
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          if ((data as Buffer).length !== 320) throw new Error('not 20 ms of stereo PCMU');
          if (++audioFrames === 5) send('disconnect', { reason: 'error', info: SHED });
          return;
        }
        const m = JSON.parse(String(data)) as (typeof received)[number];
        received.push(m);
        if (m.type === 'open') send('opened', { media: [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }] });
        if (m.type === 'close') send('closed');
      });
    });
    await new Promise((resolve) => wss!.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    const id = '0123456789abcdef0123456789abcdef';
    const callSid = `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20)}`;
    const framesPerCall = 50;
    const driver = new CallDriver({
      wsUrl: `ws://127.0.0.1:${port}`,
      protocol: 'audiohook',
      audiohook: { apiKey: 'k', clientSecret: Buffer.alloc(32, 7).toString('base64') },
      calls: [{ callSid, streamSid: 'MZx', accountSid: 'ACx', agentId: 'a1', angry: true, fixture: 0, startOffsetMs: 0 }],
      frames: [],
      binaryFrames: [precomputeAudiohookFrames(new Uint8Array(8000).fill(0x7f), 1)],
      framesPerCall,
      connectConcurrency: 1,
    });
    await driver.prepare();
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]).toMatchObject({ 'x-api-key': 'k', 'audiohook-session-id': expect.any(String) });
    expect(upgrades[0]!['signature']).toMatch(/^sig1=:/);
    expect(received.map((m) => m.type)).toEqual(['open']);
    expect(received[0]!.parameters).toMatchObject({ conversationId: callSid, customConfig: { agentId: 'a1' } });
    await driver.run(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [result] = driver.finish() as [DriveCallResult];
    // The client answered the disconnect with close (seq 2), then the server's closed ended the socket.
    expect(received.map((m) => m.type)).toEqual(['open', 'close']);
    expect(received[1]).toMatchObject({ seq: 2, parameters: { reason: 'disconnect' } });
    expect(result.error).toMatch(/AudioHook disconnect: UT_ERR_OVERLOADED/);
    expect(result.closedByServer).toEqual({ code: 1000, reason: SHED });

    const f = computeFigures({
      calls: 1,
      seconds: 1,
      framesPerCall,
      results: [result],
      views: [{ audioMs: 100, promptAudioMs: new Map() }],
      windowStart: { atMs: 0, cpuMs: 0, mainCpuMs: undefined, rssBytes: 0, metrics: undefined },
      windowEnd: { atMs: 1000, cpuMs: 1, mainCpuMs: undefined, rssBytes: 0, metrics: undefined },
      rssBeforeBytes: 0,
      generatorCpuMs: 0,
      clientLagMs: [],
      cpuSource: 'proc',
    });
    expect(f.failed_calls).toBe(1);
    expect(f.shed_calls).toBe(1);
  }, 20_000);
});
