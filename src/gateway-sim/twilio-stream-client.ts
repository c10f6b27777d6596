import { connectedMessage, mediaMessage, mediaPrefix, startMessage, stopMessage } from './twilio-messages.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

/** Options for streaming one call to a server as a Twilio Media Streams gateway would. */
export interface TwilioStreamOptions {
  /** WebSocket URL of the server's Twilio endpoint, e.g. `ws://127.0.0.1:8080/v1/streams/twilio`. */
  url: string;
  /** 8 kHz mu-law bytes of the caller's audio (the `inbound` track). */
  mulaw: Uint8Array;
  /** Call id sent as `start.callSid`. Default: a random `CA…` id. */
  callSid?: string;
  /** Sent as `customParameters.agentId`. */
  agentId?: string;
  /** Sent as `customParameters.language`, e.g. `en-US`, `zh-CN`. */
  language?: string;
  /**
   * Playback speed: 1 paces 20 ms chunks in real time, N sends N times faster,
   * `Infinity` sends as fast as the socket takes them. Default 1.
   */
  speed?: number;
  /** Bytes per media message. Default 160 (20 ms at 8 kHz, as Twilio sends). */
  chunkBytes?: number;
  /** Gateway JWT, sent as `customParameters.token` as a Twilio TwiML `<Parameter>` would carry it. */
  token?: string;
  /** Called after each media message with the audio time sent so far, in ms. */
  onProgress?: (sentMs: number) => void;
}

export interface TwilioStreamResult {
  callSid: string;
  streamSid: string;
  /** Audio sent, in ms. */
  sentMs: number;
  /** Close code and reason the server closed with, if it closed first. */
  closedByServer: { code: number; reason: string } | undefined;
}

const twilioId = (prefix: string): string => prefix + randomBytes(16).toString('hex');

/**
 * Streams audio like Twilio: `connected`, `start`, paced `media` (base64
 * mu-law, numeric fields as strings), `stop`, then closes. Drift-corrected
 * pacing: each chunk is due at start + n·20 ms / speed, so timer jitter does
 * not accumulate over a long call.
 */
export async function streamTwilioCall(options: TwilioStreamOptions): Promise<TwilioStreamResult> {
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  const chunkBytes = options.chunkBytes ?? 160;
  const callSid = options.callSid ?? twilioId('CA');
  const streamSid = twilioId('MZ');
  const accountSid = twilioId('AC');
  const ws = new WebSocket(options.url);
  let closedByServer: TwilioStreamResult['closedByServer'];
  let closed = false;
  let weClosed = false;
  const closedPromise = new Promise<void>((resolve) => {
    ws.on('close', (code, reason) => {
      closed = true;
      if (!weClosed) closedByServer = { code, reason: reason.toString() };
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined); // surfaced through 'close'

  const send = (text: string): void => {
    if (!closed) ws.send(text);
  };
  const ids = { callSid, streamSid, accountSid };
  ws.send(connectedMessage());
  const customParameters: Record<string, string> = {};
  if (options.agentId !== undefined) customParameters.agentId = options.agentId;
  if (options.language !== undefined) customParameters.language = options.language;
  if (options.token !== undefined) customParameters.token = options.token;
  send(startMessage(ids, customParameters));
  const prefix = mediaPrefix(streamSid);

  const chunkMs = (chunkBytes / 8000) * 1000;
  const t0 = performance.now();
  let chunk = 0;
  for (let offset = 0; offset < options.mulaw.length && !closed; offset += chunkBytes) {
    const payload = Buffer.from(options.mulaw.subarray(offset, offset + chunkBytes)).toString('base64');
    send(mediaMessage(prefix, chunk, payload, Math.round(chunk * chunkMs)));
    chunk++;
    options.onProgress?.(chunk * chunkMs);
    if (Number.isFinite(speed)) {
      const dueMs = t0 + (chunk * chunkMs) / speed - performance.now();
      if (dueMs > 1) await sleep(dueMs);
    } else if (ws.bufferedAmount > 1 << 20) {
      await sleep(1); // let the socket drain rather than buffer a whole call in memory
    }
  }
  send(stopMessage(ids, chunk));
  // Give the server the chance to close first; close ourselves otherwise.
  if (!closed) {
    weClosed = true;
    ws.close(1000, 'stream ended');
  }
  await closedPromise;
  return { callSid, streamSid, sentMs: Math.min(chunk * chunkMs, (options.mulaw.length / 8000) * 1000), closedByServer };
}
