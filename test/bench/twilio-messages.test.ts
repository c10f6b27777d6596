import { describe, expect, it } from 'vitest';
import type { CallAudioEvent, CallEvent } from '../../src/ingest/call-event.js';
import { createTwilioAdapter } from '../../src/ingest/twilio-adapter.js';
import {
  FRAME_BYTES,
  connectedMessage,
  mediaMessage,
  mediaPrefix,
  precomputeFrames,
  startMessage,
  stopMessage,
} from '../../src/gateway-sim/twilio-messages.js';
import { loadFixtureMuLaw } from '../integration/helpers.js';

const ids = { callSid: `CA${'1'.repeat(32)}`, streamSid: `MZ${'2'.repeat(32)}`, accountSid: `AC${'3'.repeat(32)}` };

describe('precomputed frames', () => {
  it('decode back to the fixture bytes, 160 per frame, looped whole frames at a time and padded with silence', async () => {
    const mulaw = await loadFixtureMuLaw('stays-calm');
    const framesInFixture = Math.ceil(mulaw.length / FRAME_BYTES);
    const seconds = Math.ceil((framesInFixture * 20) / 1000) + 2; // longer than the fixture: it loops
    const frames = precomputeFrames(mulaw, seconds);
    expect(frames).toHaveLength(seconds * 50);
    const bytes = frames.map((b64) => Buffer.from(b64, 'base64'));
    for (const b of bytes) expect(b.length).toBe(FRAME_BYTES);
    expect(Buffer.concat(bytes.slice(0, Math.floor(mulaw.length / FRAME_BYTES)))).toEqual(
      Buffer.from(mulaw.subarray(0, Math.floor(mulaw.length / FRAME_BYTES) * FRAME_BYTES)),
    );
    // After the fixture's last frame the call starts again from its first byte.
    expect(bytes[framesInFixture]).toEqual(Buffer.from(mulaw.subarray(0, FRAME_BYTES)));
    const tail = mulaw.length % FRAME_BYTES;
    if (tail > 0) {
      const last = bytes[framesInFixture - 1]!;
      expect(last.subarray(0, tail)).toEqual(Buffer.from(mulaw.subarray(mulaw.length - tail)));
      expect([...last.subarray(tail)].every((b) => b === 0xff)).toBe(true);
    }
  });

  it('can start later in the fixture (whole frames), wrapping to its start', () => {
    const mulaw = new Uint8Array(8000 * 3).map((_, i) => i % 253);
    const frames = precomputeFrames(mulaw, 2, 2);
    expect(Buffer.from(frames[0]!, 'base64')).toEqual(Buffer.from(mulaw.subarray(100 * 160, 101 * 160)));
    expect(Buffer.from(frames[50]!, 'base64')).toEqual(Buffer.from(mulaw.subarray(0, 160)));
  });

  it('truncates to the call length', () => {
    const mulaw = new Uint8Array(8000 * 10).map((_, i) => i % 251);
    const frames = precomputeFrames(mulaw, 2);
    expect(frames).toHaveLength(100);
    expect(Buffer.from(frames[99]!, 'base64')).toEqual(Buffer.from(mulaw.subarray(99 * 160, 100 * 160)));
  });
});

describe('Twilio messages built by concatenation', () => {
  it('are the JSON Twilio sends (numeric fields as strings)', () => {
    const payload = Buffer.from(new Uint8Array(160).fill(7)).toString('base64');
    expect(JSON.parse(mediaMessage(mediaPrefix(ids.streamSid), 4, payload))).toEqual({
      event: 'media',
      streamSid: ids.streamSid,
      sequenceNumber: '6',
      media: { track: 'inbound', chunk: '5', timestamp: '80', payload },
    });
    expect(JSON.parse(stopMessage(ids, 10))).toEqual({ event: 'stop', sequenceNumber: '12', streamSid: ids.streamSid, stop: { accountSid: ids.accountSid, callSid: ids.callSid } });
  });

  it('go through the real Twilio adapter: start with its parameters, then each frame as caller audio, byte for byte', async () => {
    const mulaw = await loadFixtureMuLaw('calm-then-angry');
    const frames = precomputeFrames(mulaw, 1);
    const adapter = createTwilioAdapter();
    const events: CallEvent[] = [];
    const feed = (text: string): void => {
      events.push(...adapter.onText(text).events);
    };
    feed(connectedMessage());
    feed(startMessage(ids, { agentId: 'agent-7', language: 'en-US' }));
    const prefix = mediaPrefix(ids.streamSid);
    frames.forEach((b64, f) => feed(mediaMessage(prefix, f, b64)));
    feed(stopMessage(ids, frames.length));
    const start = events[0];
    expect(start).toMatchObject({ kind: 'start', callId: ids.callSid, streamId: ids.streamSid, agentId: 'agent-7', language: 'en-US' });
    const audio = events.filter((e): e is CallAudioEvent => e.kind === 'audio');
    expect(audio).toHaveLength(50);
    expect(audio.every((e) => e.track === 'caller')).toBe(true);
    expect(Buffer.concat(audio.map((e) => Buffer.from(e.payload)))).toEqual(Buffer.from(mulaw.subarray(0, 8000)));
    expect(events.at(-1)).toMatchObject({ kind: 'stop', callId: ids.callSid });
  });
});
