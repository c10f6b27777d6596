/**
 * An L16 gateway client (Vonage `websocket:connected`, jambonz `listen`,
 * FreeSWITCH mod_audio_fork), written from their documentation: one JSON
 * text frame, then 20 ms binary frames of 16-bit little-endian PCM (stereo
 * interleaved, caller left), then a normal close. For tests and
 * `npm run replay -- --protocol l16`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { MU_LAW_TO_FLOAT } from '../audio/g711.js';
import { resampleAll } from '../audio/resample.js';

export type L16Flavour = 'vonage' | 'jambonz' | 'mod_audio_fork';

export interface L16StreamOptions {
  /** e.g. `ws://127.0.0.1:8080/v1/streams/l16` */
  url: string;
  /** The caller's audio, float samples at 8 kHz in [-1, 1]. */
  samples8k: Float32Array;
  /** Wire rate: 8000 or 16000 (the 8 kHz audio is upsampled for 16000). Default 16000. */
  sampleRate?: number;
  flavour?: L16Flavour;
  callId: string;
  agentId?: string;
  language?: string;
  /** jambonz / mod_audio_fork: stereo with the caller left and a silent agent right. Default false. */
  stereo?: boolean;
  /** Extra metadata (Vonage headers / jambonz metadata / mod_audio_fork JSON). */
  metadata?: Record<string, string>;
  /** 1 = real time, N = N times faster, Infinity = unpaced. Default 1. */
  speed?: number;
  onProgress?: (sentMs: number) => void;
}

export interface L16StreamResult {
  sentMs: number;
  /** Subprotocol the server accepted. */
  protocol: string;
  closedByServer: { code: number; reason: string } | undefined;
}

const SUBPROTOCOL: Record<L16Flavour, string | undefined> = { vonage: undefined, jambonz: 'audio.jambonz.org', mod_audio_fork: 'audio.drachtio.org' };

/** The first text message each gateway sends, per its documentation. */
export function l16FirstMessage(o: Pick<L16StreamOptions, 'flavour' | 'callId' | 'agentId' | 'language' | 'stereo' | 'metadata'> & { sampleRate: number }): Record<string, unknown> {
  const extra: Record<string, string> = { ...o.metadata };
  if (o.agentId !== undefined) extra['agentId'] = o.agentId;
  if (o.language !== undefined) extra['language'] = o.language;
  const mixType = o.stereo ? 'stereo' : 'mono';
  switch (o.flavour ?? 'vonage') {
    case 'vonage':
      return { event: 'websocket:connected', 'content-type': `audio/l16;rate=${o.sampleRate}`, uuid: o.callId, ...extra };
    case 'jambonz':
      return { callSid: o.callId, direction: 'inbound', from: '+15083084809', to: '+15083728299', sampleRate: o.sampleRate, mixType, metadata: extra };
    case 'mod_audio_fork':
      return { uuid: o.callId, sampleRate: `${o.sampleRate / 1000}k`, mixType, ...extra };
  }
}

/**
 * The binary frames of a call `seconds` long at `rate`, for the load
 * generator: `mulaw` (8 kHz) from `startS` seconds in, looped whole 20-ms
 * frames at a time as the Twilio frames are (a short last frame padded with
 * silence), converted to float, resampled to `rate` and cut into 20-ms
 * mono L16 frames.
 */
export function precomputeL16Frames(mulaw: Uint8Array, seconds: number, rate: number, startS = 0): Uint8Array[] {
  if (mulaw.length === 0) throw new RangeError('fixture audio is empty');
  const frames = Math.round((seconds * 1000) / 20);
  const inFixture = Math.ceil(mulaw.length / 160);
  const first = Math.round((startS * 1000) / 20);
  const samples8k = new Float32Array(frames * 160);
  for (let f = 0; f < frames; f++) {
    const from = ((first + f) % inFixture) * 160;
    for (let i = 0; i < 160; i++) {
      const src = from + i;
      samples8k[f * 160 + i] = src < mulaw.length ? MU_LAW_TO_FLOAT[mulaw[src]!]! : 0;
    }
  }
  const wire = toL16(rate === 8000 ? samples8k : resampleAll(samples8k, 8000, rate), 1);
  const frameBytes = (rate / 50) * 2;
  return Array.from({ length: frames }, (_, f) => wire.slice(f * frameBytes, (f + 1) * frameBytes));
}

/** 16-bit little-endian PCM of float samples (clipped), `channels` interleaved with silence after the first. */
function toL16(samples: Float32Array, channels: number): Uint8Array {
  const out = new Uint8Array(samples.length * 2 * channels);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768)));
    view.setInt16(i * 2 * channels, v, true);
  }
  return out;
}

export async function streamL16Call(o: L16StreamOptions): Promise<L16StreamResult> {
  const rate = o.sampleRate ?? 16000;
  const flavour = o.flavour ?? 'vonage';
  const channels = o.stereo ? 2 : 1;
  const wire = toL16(rate === 8000 ? o.samples8k : resampleAll(o.samples8k, 8000, rate), channels);
  const sub = SUBPROTOCOL[flavour];
  const ws = sub === undefined ? new WebSocket(o.url) : new WebSocket(o.url, sub);
  let closedByServer: L16StreamResult['closedByServer'];
  let weClosed = false;
  const closed = new Promise<void>((resolve) =>
    ws.on('close', (code, reason) => {
      if (!weClosed) closedByServer = { code, reason: reason.toString() };
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  ws.send(JSON.stringify(l16FirstMessage({ ...o, flavour, sampleRate: rate })));
  const frameBytes = (rate / 50) * 2 * channels; // 20 ms
  const speed = o.speed ?? 1;
  const t0 = performance.now();
  let n = 0;
  for (let offset = 0; offset < wire.length && ws.readyState === WebSocket.OPEN; offset += frameBytes) {
    ws.send(wire.subarray(offset, offset + frameBytes), { binary: true });
    n += 1;
    o.onProgress?.(n * 20);
    if (Number.isFinite(speed)) {
      const dueMs = t0 + (n * 20) / speed - performance.now();
      if (dueMs > 1) await sleep(dueMs);
    } else if (ws.bufferedAmount > 1 << 20) {
      await sleep(1);
    }
  }
  if (ws.readyState === WebSocket.OPEN) {
    weClosed = true;
    ws.close(1000, 'call ended');
  }
  await closed;
  return { sentMs: (o.samples8k.length / 8000) * 1000, protocol: ws.protocol, closedByServer };
}
