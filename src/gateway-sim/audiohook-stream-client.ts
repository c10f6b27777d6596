/**
 * A Genesys AudioHook client, written from the published protocol (v2), for
 * tests, `npm run replay -- --protocol audiohook` and trying a deployment:
 * signed upgrade, `open` → `opened`, binary audio (PCMU, external = the
 * customer, optionally stereo with a silent internal channel), `close` →
 * `closed`, then the client closes the socket.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { signAudiohookRequest } from './audiohook-signer.js';

/** Builds client messages with AudioHook's bookkeeping: seq, serverseq, position. */
export class AudiohookMessages {
  /** Last client seq sent / last server seq received. */
  seq = 0;
  serverseq = 0;
  /** Sample frames sent (8 kHz): the `position`. */
  samplesSent = 0;

  constructor(readonly sessionId: string) {}

  /** `PT<seconds>S` of the audio sent so far. */
  get position(): string {
    return `PT${Number((this.samplesSent / 8000).toFixed(3))}S`;
  }

  message(type: string, parameters: Record<string, unknown> = {}): string {
    this.seq += 1;
    return JSON.stringify({ version: '2', id: this.sessionId, type, seq: this.seq, serverseq: this.serverseq, position: this.position, parameters });
  }

  /** Records a server message (its seq becomes the next `serverseq`); returns it parsed. */
  received(text: string): ServerMessage {
    const msg = JSON.parse(text) as ServerMessage;
    if (typeof msg.seq === 'number') this.serverseq = msg.seq;
    return msg;
  }

  openMessage(o: { organizationId: string; conversationId: string; media: unknown[]; language?: string; customConfig?: Record<string, unknown>; participant?: Record<string, string> }): string {
    return this.message('open', {
      organizationId: o.organizationId,
      conversationId: o.conversationId,
      participant: o.participant ?? { id: randomUUID(), ani: '+1-555-555-1234', aniName: 'John Doe', dnis: '+1-800-555-6789' },
      media: o.media,
      ...(o.language !== undefined ? { language: o.language } : {}),
      ...(o.customConfig !== undefined ? { customConfig: o.customConfig } : {}),
    });
  }
}

export interface ServerMessage {
  version: string;
  id: string;
  type: string;
  seq: number;
  clientseq: number;
  parameters: Record<string, unknown>;
}

export interface AudiohookStreamOptions {
  /** e.g. `ws://127.0.0.1:8080/v1/streams/audiohook` */
  url: string;
  /** 8 kHz mu-law bytes of the customer's audio. */
  mulaw: Uint8Array;
  apiKey: string;
  /** Base64 client secret; `""` sends the request unsigned. */
  clientSecret: string;
  conversationId?: string;
  organizationId?: string;
  agentId?: string;
  language?: string;
  /** Extra customConfig entries (customerTier, queue, …). */
  customConfig?: Record<string, unknown>;
  /** Offer and send stereo [external, internal] (internal silent). Default false (external only). */
  stereo?: boolean;
  /** 1 = real time, N = N times faster, Infinity = unpaced. Default 1. */
  speed?: number;
  onProgress?: (sentMs: number) => void;
}

export interface AudiohookStreamResult {
  conversationId: string;
  sessionId: string;
  sentMs: number;
  /** Every server message, in order. */
  received: ServerMessage[];
}

/**
 * A call's audio as AudioHook's binary frames for the load generator: 20-ms
 * stereo PCMU, [external, internal] interleaved (the customer, then a
 * silent agent), `seconds` of them from `startS` into the fixture, looping
 * whole frames (a frame never straddles the seam).
 */
export function precomputeAudiohookFrames(mulaw: Uint8Array, seconds: number, startS = 0): Uint8Array[] {
  if (mulaw.length === 0) throw new RangeError('fixture audio is empty');
  const frames = Math.round((seconds * 1000) / 20);
  const inFixture = Math.ceil(mulaw.length / 160);
  const first = Math.round((startS * 1000) / 20);
  return Array.from({ length: frames }, (_, f) => {
    const from = ((first + f) % inFixture) * 160;
    const frame = new Uint8Array(320).fill(0xff); // mu-law silence
    for (let i = 0; i < 160; i++) {
      const src = from + i;
      if (src < mulaw.length) frame[2 * i] = mulaw[src]!;
    }
    return frame;
  });
}

/** Streams one call as Genesys Cloud would; resolves once `closed` arrived and the socket closed. */
export async function streamAudiohookCall(o: AudiohookStreamOptions): Promise<AudiohookStreamResult> {
  const url = new URL(o.url);
  const sessionId = randomUUID();
  const organizationId = o.organizationId ?? randomUUID();
  const conversationId = o.conversationId ?? randomUUID();
  const ids = { organizationId, sessionId, correlationId: randomUUID() };
  const headers =
    o.clientSecret === ''
      ? { 'audiohook-organization-id': ids.organizationId, 'audiohook-session-id': sessionId, 'audiohook-correlation-id': ids.correlationId, 'x-api-key': o.apiKey }
      : signAudiohookRequest({ ...ids, requestTarget: url.pathname + url.search, authority: url.host, apiKey: o.apiKey, clientSecret: o.clientSecret });
  const ws = new WebSocket(o.url, { headers });
  const msgs = new AudiohookMessages(sessionId);
  const received: ServerMessage[] = [];
  const waiters: Array<{ type: string; resolve: (m: ServerMessage) => void }> = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = msgs.received(String(data));
    received.push(m);
    for (const w of waiters.filter((x) => x.type === m.type)) w.resolve(m);
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`AudioHook upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  const next = (type: string): Promise<ServerMessage> =>
    Promise.race([
      new Promise<ServerMessage>((resolve) => waiters.push({ type, resolve })),
      closed.then(() => {
        throw new Error(`socket closed while waiting for '${type}' (got ${received.map((m) => m.type).join(', ')})`);
      }),
    ]);

  const channels = o.stereo ? ['external', 'internal'] : ['external'];
  const opened = next('opened');
  ws.send(
    msgs.openMessage({
      organizationId,
      conversationId,
      media: [{ type: 'audio', format: 'PCMU', channels, rate: 8000 }],
      ...(o.language !== undefined ? { language: o.language } : {}),
      customConfig: { ...o.customConfig, ...(o.agentId !== undefined ? { agentId: o.agentId } : {}) },
    }),
  );
  await opened;

  const speed = o.speed ?? 1;
  const chunk = 160; // 20 ms
  const t0 = performance.now();
  let n = 0;
  for (let offset = 0; offset < o.mulaw.length && ws.readyState === WebSocket.OPEN; offset += chunk) {
    const mono = o.mulaw.subarray(offset, offset + chunk);
    let frame: Uint8Array = mono;
    if (o.stereo) {
      frame = new Uint8Array(mono.length * 2).fill(0xff); // internal: mu-law silence
      for (let i = 0; i < mono.length; i++) frame[2 * i] = mono[i]!;
    }
    ws.send(frame, { binary: true });
    msgs.samplesSent += mono.length;
    n += 1;
    o.onProgress?.((msgs.samplesSent / 8000) * 1000);
    if (Number.isFinite(speed)) {
      const dueMs = t0 + (n * 20) / speed - performance.now();
      if (dueMs > 1) await sleep(dueMs);
    } else if (ws.bufferedAmount > 1 << 20) {
      await sleep(1);
    }
  }
  if (ws.readyState === WebSocket.OPEN) {
    const done = next('closed');
    ws.send(msgs.message('close', { reason: 'end' }));
    await done;
    ws.close(1000, 'closed');
  }
  await closed;
  return { conversationId, sessionId, sentMs: (msgs.samplesSent / 8000) * 1000, received };
}
