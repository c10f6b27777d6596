/**
 * The generator side of one share of the load: for each call an agent
 * socket (`/v1/agents/:agentId/stream`) and a gateway socket (Twilio Media
 * Streams on `/v1/streams/twilio`, the Vonage L16 websocket on
 * `/v1/streams/l16`, or Genesys AudioHook on `/v1/streams/audiohook`), media
 * paced in real time by one tick loop, prompt arrivals recorded. Runs on
 * the main thread or in a worker thread (drive-worker.ts); its plan and results are plain data so they cross
 * threads by structured clone.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { framesDue, nowMs, startTicker } from './pacing.js';
import { AudiohookMessages } from '../gateway-sim/audiohook-stream-client.js';
import { signAudiohookRequest } from '../gateway-sim/audiohook-signer.js';
import { l16FirstMessage } from '../gateway-sim/l16-stream-client.js';
import { connectedMessage, mediaMessage, mediaPrefix, startMessage, stopMessage, type TwilioCallIds } from '../gateway-sim/twilio-messages.js';

const BINARY = { binary: true } as const;
/** What the generator offers in AudioHook's `open`: both channels, as Genesys Cloud sends them (external = the customer). */
const AUDIOHOOK_MEDIA = [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }];
/** How long an AudioHook `open` may wait for `opened`, ms. */
const OPENED_TIMEOUT_MS = 15_000;

/** The gateway protocols the generator speaks. */
export type DriveProtocol = 'twilio' | 'l16' | 'audiohook';

/** AudioHook credentials: an api key and its base64 client secret (`""` sends unsigned upgrades). */
export interface AudiohookCredentials {
  apiKey: string;
  clientSecret: string;
}

/** One call. With AudioHook, `callSid` is the call's conversationId (a UUID). */
export interface DriveCall extends TwilioCallIds {
  agentId: string;
  /** Index into `DrivePlan.frames`. */
  fixture: number;
  angry: boolean;
  /** Media of this call starts at `startAtMs + startOffsetMs`. */
  startOffsetMs: number;
  /** Agent JWT for this call's agent socket; absent with AUTH off. */
  agentToken?: string;
  /** `ws://host:port` of the instance this call streams into (default `DrivePlan.wsUrl`). */
  gatewayUrl?: string;
  /** `ws://host:port` of the instance this call's agent connects to (default `DrivePlan.wsUrl`). */
  agentUrl?: string;
}

export interface DrivePlan {
  /** `ws://host:port` of the server (a call's own `gatewayUrl` / `agentUrl` win). */
  wsUrl: string;
  calls: DriveCall[];
  /**
   * The gateway protocol the calls speak (default `twilio`): Twilio Media
   * Streams JSON; `l16` (the Vonage websocket: one JSON message naming the
   * call, then binary 20-ms L16 frames, ended by a normal close); or
   * `audiohook` (Genesys: a signed upgrade, `open` → `opened` before media,
   * binary stereo PCMU frames, `close` → `closed`, then the socket closes).
   */
  protocol?: DriveProtocol;
  /** Twilio: precomputed base64 payloads per fixture, `framesPerCall` each. */
  frames: string[][];
  /** L16 and AudioHook: binary 20-ms frames per fixture, `framesPerCall` each (precomputeL16Frames, precomputeAudiohookFrames). */
  binaryFrames?: Uint8Array[][];
  /** L16: the wire rate, Hz (8000 or 16000). */
  l16Rate?: number;
  /** AudioHook: the key the upgrades are signed with. */
  audiohook?: AudiohookCredentials;
  framesPerCall: number;
  /** Gateway JWT sent as `customParameters.token`; absent with AUTH off. */
  gatewayToken?: string;
  /** Tick period of the pacing loop, ms (default 5). */
  tickMs?: number;
  /** Sockets opened at once while preparing (default 64). */
  connectConcurrency?: number;
}

export interface PromptArrival {
  /** Epoch ms (sub-ms) the prompt message arrived. */
  recvMs: number;
  seq: number;
  /** The triggering window's end, when the message carries it. */
  audioMs?: number;
  /** Epoch ms the server decided the prompt (the message's `at`). */
  decidedMs?: number;
  /** The message said it came after its call had ended (`stale: true`). */
  stale?: true;
}

export interface DriveCallResult {
  callSid: string;
  angry: boolean;
  /** Epoch ms frame 0 was due (frame f is due at startMs + 20 f). */
  startMs: number;
  /** Epoch ms each frame was handed to the socket; NaN for frames never sent. */
  sendTimes: Float64Array;
  framesSent: number;
  /** Frames due that could not be sent (socket not open). */
  framesFailed: number;
  /** Epoch ms the `stop` was sent (the call's end as the gateway sees it); NaN if never. */
  stopMs: number;
  /** Close code/reason when the server closed the gateway socket before the call ended. */
  closedByServer?: { code: number; reason: string };
  prompts: PromptArrival[];
  /** Set when a socket could not be opened, or the server ended the call in-band (an AudioHook `disconnect`). */
  error?: string;
}

interface LiveCall {
  spec: DriveCall;
  gateway: WebSocket | undefined;
  agent: WebSocket | undefined;
  prefix: string;
  next: number;
  result: DriveCallResult;
  startMs: number;
  /** AudioHook: the session's seq bookkeeping. */
  hook?: AudiohookMessages;
}

function open(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<WebSocket> {
  // The generator must stay cheap: no permessage-deflate (Twilio does not compress), and an
  // all-zero client mask, which ws then skips applying (a mask only guards against caching
  // proxies, and there is none between the bench and the server).
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    generateMask: (mask: Buffer) => void mask.fill(0),
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  ws.on('error', () => undefined); // surfaced through 'close' / the open failure
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  });
  await Promise.all(workers);
}

export class CallDriver {
  private readonly calls: LiveCall[];

  constructor(private readonly plan: DrivePlan) {
    this.calls = plan.calls.map((spec) => ({
      spec,
      gateway: undefined,
      agent: undefined,
      prefix: mediaPrefix(spec.streamSid),
      next: 0,
      startMs: Number.NaN,
      result: {
        callSid: spec.callSid,
        angry: spec.angry,
        startMs: Number.NaN,
        sendTimes: new Float64Array(plan.framesPerCall).fill(Number.NaN),
        framesSent: 0,
        framesFailed: 0,
        stopMs: Number.NaN,
        prompts: [],
      },
    }));
  }

  /**
   * Opens every agent socket, then every gateway socket with the messages
   * that start its call (Twilio's `connected` and `start`, L16's first JSON
   * message, AudioHook's `open` answered by `opened`): the server has set the
   * calls up before media starts, so set-up stays out of the measurement window.
   */
  async prepare(): Promise<void> {
    const concurrency = this.plan.connectConcurrency ?? 64;
    await inBatches(this.calls, concurrency, async (c) => {
      try {
        c.agent = await open(`${c.spec.agentUrl ?? this.plan.wsUrl}/v1/agents/${c.spec.agentId}/stream`, c.spec.agentToken);
        c.agent.on('message', (data) => this.onAgentMessage(c, String(data)));
      } catch (err) {
        c.result.error = `agent socket: ${(err as Error).message}`;
      }
    });
    const protocol = this.plan.protocol ?? 'twilio';
    await inBatches(this.calls, concurrency, async (c) => {
      try {
        const base = c.spec.gatewayUrl ?? this.plan.wsUrl;
        const params: Record<string, string> = { agentId: c.spec.agentId, language: 'en-US' };
        if (protocol === 'audiohook') {
          c.gateway = await this.openAudiohook(c, base, params);
          return;
        }
        const ws = await open(`${base}/v1/streams/${protocol}`, undefined);
        ws.on('close', (code, reason) => {
          if (Number.isNaN(c.result.stopMs)) c.result.closedByServer = { code, reason: reason.toString() };
        });
        if (this.plan.gatewayToken) params['token'] = this.plan.gatewayToken;
        if (protocol === 'l16') {
          ws.send(JSON.stringify(l16FirstMessage({ flavour: 'vonage', callId: c.spec.callSid, sampleRate: this.plan.l16Rate ?? 16000, metadata: params })));
        } else {
          ws.send(connectedMessage());
          ws.send(startMessage(c.spec, params));
        }
        c.gateway = ws;
      } catch (err) {
        c.result.error ??= `gateway socket: ${(err as Error).message}`;
      }
    });
  }

  /**
   * An AudioHook session up to `opened`: the signed upgrade (the call's
   * conversationId is its `callSid`), `open` offering stereo PCMU with the
   * agent and language in customConfig, and the server's `opened`. Later
   * server messages are bookkept (their seq is the next `serverseq`); the
   * `closed` answering our `close` ends the socket, as Genesys does. A
   * server's `disconnect` (an error, or the call shed under overload) is
   * answered with `close`, and its info becomes the call's close reason.
   */
  private async openAudiohook(c: LiveCall, base: string, params: Record<string, string>): Promise<WebSocket> {
    const creds = this.plan.audiohook;
    if (creds === undefined) throw new Error('an AudioHook plan needs credentials');
    const url = new URL(`${base}/v1/streams/audiohook`);
    const ids = { organizationId: randomUUID(), sessionId: randomUUID(), correlationId: randomUUID() };
    const headers =
      creds.clientSecret === ''
        ? { 'audiohook-organization-id': ids.organizationId, 'audiohook-session-id': ids.sessionId, 'audiohook-correlation-id': ids.correlationId, 'x-api-key': creds.apiKey }
        : signAudiohookRequest({ ...ids, requestTarget: url.pathname, authority: url.host, apiKey: creds.apiKey, clientSecret: creds.clientSecret });
    const ws = await open(url.href, undefined, headers);
    const hook = new AudiohookMessages(ids.sessionId);
    c.hook = hook;
    let onOpened: ((err?: Error) => void) | undefined;
    /** The server's `disconnect` info, once it said goodbye in-band. */
    let disconnected: string | undefined;
    const opened = new Promise<void>((resolve, reject) => {
      onOpened = (err) => (err ? reject(err) : resolve());
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let type: string;
      let info: unknown;
      try {
        const m = hook.received(String(data));
        type = m.type;
        info = m.parameters?.['info'];
      } catch {
        return;
      }
      if (type === 'opened') onOpened?.();
      else if (type === 'closed') ws.close(1000, 'closed');
      else if (type === 'disconnect') {
        disconnected = String(info);
        if (Number.isNaN(c.result.stopMs)) c.result.error ??= `AudioHook disconnect: ${disconnected}`;
        onOpened?.(new Error(`disconnect before opened: ${disconnected}`));
        if (ws.readyState === WebSocket.OPEN && Number.isNaN(c.result.stopMs)) ws.send(hook.message('close', { reason: 'disconnect' }));
      }
    });
    ws.on('close', (code, reason) => {
      // The server's in-band goodbye says why; the socket's own close code follows the handshake.
      if (disconnected !== undefined) c.result.closedByServer = { code, reason: disconnected };
      else if (Number.isNaN(c.result.stopMs)) c.result.closedByServer = { code, reason: reason.toString() };
      onOpened?.(new Error(`socket closed before opened (${code})`));
    });
    ws.send(
      hook.openMessage({
        organizationId: ids.organizationId,
        conversationId: c.spec.callSid,
        media: AUDIOHOOK_MEDIA,
        language: params['language']!,
        customConfig: { agentId: c.spec.agentId },
      }),
    );
    const timer = setTimeout(() => onOpened?.(new Error(`no 'opened' within ${OPENED_TIMEOUT_MS} ms`)), OPENED_TIMEOUT_MS);
    try {
      await opened;
    } catch (err) {
      ws.terminate();
      throw err;
    } finally {
      clearTimeout(timer);
      onOpened = undefined;
    }
    return ws;
  }

  private onAgentMessage(c: LiveCall, text: string): void {
    const recvMs = nowMs();
    let msg: { type?: string; callId?: string; seq?: number; audioMs?: number; at?: string; stale?: boolean };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.type !== 'prompt' || msg.callId !== c.spec.callSid || typeof msg.seq !== 'number') return;
    const decidedMs = typeof msg.at === 'string' ? Date.parse(msg.at) : Number.NaN;
    c.result.prompts.push({
      recvMs,
      seq: msg.seq,
      ...(typeof msg.audioMs === 'number' ? { audioMs: msg.audioMs } : {}),
      ...(Number.isFinite(decidedMs) ? { decidedMs } : {}),
      ...(msg.stale === true ? { stale: true as const } : {}),
    });
  }

  /** Streams every call in real time from `startAtMs` (epoch ms); resolves once every call has sent its `stop`. */
  run(startAtMs: number): Promise<void> {
    const total = this.plan.framesPerCall;
    const protocol = this.plan.protocol ?? 'twilio';
    const binary = protocol === 'twilio' ? undefined : this.plan.binaryFrames;
    if (protocol !== 'twilio' && binary === undefined) throw new Error(`CallDriver: an ${protocol} plan needs binaryFrames`);
    for (const c of this.calls) {
      c.startMs = startAtMs + c.spec.startOffsetMs;
      c.result.startMs = c.startMs;
    }
    let remaining = this.calls.length;
    return new Promise((resolve) => {
      if (remaining === 0) return resolve();
      startTicker(this.plan.tickMs ?? 5, (now) => {
        for (const c of this.calls) {
          if (c.next >= total) continue;
          const due = framesDue(c.startMs, now, total);
          if (due <= c.next) continue;
          const ws = c.gateway;
          if (ws !== undefined && ws.readyState === WebSocket.OPEN) {
            if (binary !== undefined) {
              const frames = binary[c.spec.fixture]!;
              for (let f = c.next; f < due; f++) {
                ws.send(frames[f]!, BINARY);
                c.result.sendTimes[f] = now;
              }
            } else {
              const frames = this.plan.frames[c.spec.fixture]!;
              for (let f = c.next; f < due; f++) {
                ws.send(mediaMessage(c.prefix, f, frames[f]!));
                c.result.sendTimes[f] = now;
              }
            }
            c.result.framesSent += due - c.next;
          } else {
            c.result.framesFailed += due - c.next;
          }
          c.next = due;
          if (c.next >= total) {
            c.result.stopMs = now;
            if (ws !== undefined && ws.readyState === WebSocket.OPEN) {
              if (c.hook !== undefined) {
                // AudioHook: `close` at the audio's end position; the socket closes on `closed`.
                c.hook.samplesSent = total * 160;
                ws.send(c.hook.message('close', { reason: 'end' }));
              } else {
                // An L16 call ends with the normal close alone.
                if (binary === undefined) ws.send(stopMessage(c.spec, total));
                ws.close(1000, 'stream ended');
              }
            }
            remaining--;
          }
        }
        if (remaining > 0) return true;
        resolve();
        return false;
      });
    });
  }

  /** Closes the agent sockets (after the caller waited for late prompts) and hands back the results. */
  finish(): DriveCallResult[] {
    for (const c of this.calls) {
      c.agent?.close(1000, 'bench done');
      if (c.gateway && c.gateway.readyState !== WebSocket.CLOSED) c.gateway.terminate();
    }
    return this.calls.map((c) => c.result);
  }
}
