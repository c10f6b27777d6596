/**
 * Twilio Media Streams messages shaped exactly as Twilio sends them
 * (numeric fields as strings), for the adapter and socket tests.
 */
export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

export interface TwilioIds {
  callSid: string;
  streamSid: string;
}

export function twilioIds(n: number | string): TwilioIds {
  const hex = String(n).padStart(32, '0').slice(-32);
  return { callSid: `CA${hex}`, streamSid: `MZ${hex}` };
}

export function connectedMsg(): string {
  return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
}

export function startMsg(
  ids: TwilioIds,
  opts: { agentId?: string; language?: string; tracks?: string[]; extra?: Record<string, string>; mediaFormat?: Record<string, unknown> } = {},
): string {
  const customParameters: Record<string, string> = { ...opts.extra };
  if (opts.agentId !== undefined) customParameters['agentId'] = opts.agentId;
  if (opts.language !== undefined) customParameters['language'] = opts.language;
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid: ids.streamSid,
    start: {
      streamSid: ids.streamSid,
      accountSid: ACCOUNT_SID,
      callSid: ids.callSid,
      tracks: opts.tracks ?? ['inbound'],
      customParameters,
      mediaFormat: opts.mediaFormat ?? { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });
}

export function mediaMsg(ids: TwilioIds, payload: Uint8Array | string, seq: number, track = 'inbound'): string {
  const chunk = seq - 1;
  return JSON.stringify({
    event: 'media',
    sequenceNumber: String(seq),
    streamSid: ids.streamSid,
    media: {
      track,
      chunk: String(chunk),
      timestamp: String(chunk * 20),
      payload: typeof payload === 'string' ? payload : Buffer.from(payload).toString('base64'),
    },
  });
}

export function dtmfMsg(ids: TwilioIds, digit: string, seq: number): string {
  return JSON.stringify({ event: 'dtmf', streamSid: ids.streamSid, sequenceNumber: String(seq), dtmf: { track: 'inbound_track', digit } });
}

export function markMsg(ids: TwilioIds, seq: number): string {
  return JSON.stringify({ event: 'mark', streamSid: ids.streamSid, sequenceNumber: String(seq), mark: { name: 'greeting-done' } });
}

export function stopMsg(ids: TwilioIds, seq: number): string {
  return JSON.stringify({ event: 'stop', sequenceNumber: String(seq), streamSid: ids.streamSid, stop: { accountSid: ACCOUNT_SID, callSid: ids.callSid } });
}

/** 20 ms of mu-law silence (0xFF), as Twilio sends between words. */
export const SILENCE_20MS = new Uint8Array(160).fill(0xff);
