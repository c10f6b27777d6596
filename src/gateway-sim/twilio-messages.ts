/**
 * Twilio Media Streams messages, as the simulated gateways send them
 * (`replay`, the demo, tests: twilio-stream-client.ts; the load generator:
 * src/bench/call-driver.ts). Media messages are built by string
 * concatenation from precomputed parts: at 1,000 calls × 50 messages/s the
 * load generator must not spend its CPU in `JSON.stringify` or base64. Shapes as
 * Twilio sends them (numeric fields as strings); see
 * src/ingest/twilio-adapter.ts for what the server checks.
 */

/** Mu-law bytes per 20 ms frame at 8 kHz. */
export const FRAME_BYTES = 160;
/** Audio per frame, ms. */
export const FRAME_MS = 20;

/**
 * The base64 payload of every 20 ms frame of a call `seconds` long, taken
 * from `mulaw` from `startS` seconds in (default 0), looped (or truncated). The last frame of a
 * fixture that does not divide into frames is padded with mu-law silence
 * (0xFF), so every frame is a full 20 ms.
 */
export function precomputeFrames(mulaw: Uint8Array, seconds: number, startS = 0): string[] {
  if (mulaw.length === 0) throw new RangeError('fixture audio is empty');
  const frames = Math.round((seconds * 1000) / FRAME_MS);
  const out: string[] = new Array<string>(frames);
  const buf = Buffer.alloc(FRAME_BYTES);
  // Loop the fixture whole frames at a time: a frame never straddles the seam.
  const framesInFixture = Math.ceil(mulaw.length / FRAME_BYTES);
  const first = Math.round((startS * 1000) / FRAME_MS);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME_BYTES; i++) {
      const src = ((first + f) % framesInFixture) * FRAME_BYTES + i;
      buf[i] = src < mulaw.length ? mulaw[src]! : 0xff;
    }
    out[f] = buf.toString('base64');
  }
  return out;
}

/** Ids of one generated call. */
export interface TwilioCallIds {
  callSid: string;
  streamSid: string;
  accountSid: string;
}

export function connectedMessage(): string {
  return '{"event":"connected","protocol":"Call","version":"1.0.0"}';
}

/** `start` (sequenceNumber 1) with the custom parameters the server reads (agentId, language, token). */
export function startMessage(ids: TwilioCallIds, customParameters: Readonly<Record<string, string>>): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid: ids.streamSid,
    start: {
      streamSid: ids.streamSid,
      accountSid: ids.accountSid,
      callSid: ids.callSid,
      tracks: ['inbound'],
      customParameters,
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });
}

/**
 * The `media` message of frame `frame` (0-based): sequenceNumber frame + 2
 * (after `start`), chunk frame + 1, timestamp `timestampMs` (default frame ×
 * 20 ms; other chunk sizes pass their own). `prefix` is
 * `mediaPrefix(streamSid)`, computed once per call.
 */
export function mediaMessage(prefix: string, frame: number, payloadB64: string, timestampMs = frame * FRAME_MS): string {
  return `${prefix}${frame + 2}","media":{"track":"inbound","chunk":"${frame + 1}","timestamp":"${timestampMs}","payload":"${payloadB64}"}}`;
}

/** The constant head of a call's media messages. */
export function mediaPrefix(streamSid: string): string {
  return `{"event":"media","streamSid":"${streamSid}","sequenceNumber":"`;
}

/** `stop` after `frames` media messages. */
export function stopMessage(ids: TwilioCallIds, frames: number): string {
  return JSON.stringify({ event: 'stop', sequenceNumber: String(frames + 2), streamSid: ids.streamSid, stop: { accountSid: ids.accountSid, callSid: ids.callSid } });
}
