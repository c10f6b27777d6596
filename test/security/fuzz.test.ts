/**
 * Fuzz: thousands of random and mutated frames against every WebSocket
 * endpoint while a real call streams beside them. The server must stay up,
 * its memory roughly flat from one round to the next, and the real call
 * must still reach its agent's prompt and end normally.
 *
 * Deterministic (seeded). Runs with AUTH=off: with auth on every fuzz
 * connection would stop at the 401 and nothing behind it would be reached.
 */
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '../../src/delivery/agent-messages.js';
import { AudiohookMessages } from '../../src/gateway-sim/audiohook-stream-client.js';
import { streamTwilioCall } from '../../src/gateway-sim/twilio-stream-client.js';
import { createRng } from '../../src/shared/random.js';
import { connectedMsg, dtmfMsg, mediaMsg, startMsg, stopMsg } from '../ingest/twilio-fixtures.js';
import { collectJson, getJson, loadFixtureMuLaw, openSocket, startTestService, twilioCallSid, waitFor, type TestService } from '../integration/helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MAX_MESSAGE_BYTES = 4096;
/** WebSocket endpoints under fuzz; `{id}` is replaced by a random (sometimes invalid) id. */
const ENDPOINTS = ['/v1/streams/twilio', '/v1/streams/l16', '/v1/streams/audiohook', '/v1/agents/{id}/stream', '/v1/supervisor/stream'];
/** Connections that got a socket, per endpoint (each must be reached). */
const openedPerEndpoint = new Map<string, number>();
const ORG = 'd7934305-0972-4844-938e-9060eef73d05';

/** Upgrade headers: AudioHook needs its api key (unsigned allowed for the key `fuzz`) and ids. */
function headersFor(path: string): Record<string, string> {
  if (!path.startsWith('/v1/streams/audiohook')) return {};
  return {
    'x-api-key': 'fuzz',
    'audiohook-organization-id': ORG,
    'audiohook-session-id': randomUUID(),
    'audiohook-correlation-id': randomUUID(),
  };
}

function l16Frame(rng: Rng, callSid: string, first: boolean): string | Buffer {
  const valid = JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000', callId: callSid, agentId: 'agent-fuzz' });
  if (first) return rng() < 0.6 ? valid : mutate(rng, valid);
  const roll = rng();
  if (roll < 0.6) return randomBytes(rng, rng() < 0.9 ? 640 : int(rng, MAX_MESSAGE_BYTES * 3));
  return roll < 0.8 ? mutate(rng, valid) : randomText(rng, int(rng, 300));
}

function audiohookFrame(rng: Rng, messages: AudiohookMessages, callSid: string, first: boolean): string | Buffer {
  const open = messages.openMessage({
    organizationId: ORG,
    conversationId: randomUUID(),
    media: [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }],
    customConfig: { agentId: 'agent-fuzz', callSid },
  });
  if (first) return rng() < 0.6 ? open : mutate(rng, open);
  const roll = rng();
  if (roll < 0.5) return randomBytes(rng, rng() < 0.9 ? 320 : int(rng, MAX_MESSAGE_BYTES * 3));
  return roll < 0.8 ? mutate(rng, open) : randomText(rng, int(rng, 300));
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, max: number): number => Math.floor(rng() * max);

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(rng, 256);
  return b;
}

function randomText(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(rng() < 0.9 ? 32 + int(rng, 95) : int(rng, 0xd7ff));
  return s;
}

const WEIRD: unknown[] = [null, true, 0, -1, 1e308, NaN, '', 'x'.repeat(3000), [], {}, { __proto__: { polluted: 1 } }, [[[[[]]]]], '\u0000', '💥'];

/** A valid message with one part deleted, retyped or replaced. */
function mutate(rng: Rng, text: string): string {
  const value = JSON.parse(text) as Record<string, unknown>;
  const paths: { obj: Record<string, unknown>; key: string }[] = [];
  const walk = (obj: Record<string, unknown>): void => {
    for (const key of Object.keys(obj)) {
      paths.push({ obj, key });
      const v = obj[key];
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>);
    }
  };
  walk(value);
  const target = pick(rng, paths);
  const roll = rng();
  if (roll < 0.3) delete target.obj[target.key];
  else if (roll < 0.8) target.obj[target.key] = pick(rng, WEIRD);
  else target.obj[`${target.key}${randomText(rng, 3)}`] = target.obj[target.key];
  const out = JSON.stringify(value);
  // Sometimes cut it short (truncated JSON).
  return rng() < 0.1 ? out.slice(0, int(rng, out.length)) : out;
}

function twilioFrame(rng: Rng, ids: { callSid: string; streamSid: string }, seq: number): string | Buffer {
  const roll = rng();
  if (roll < 0.1) return randomBytes(rng, int(rng, MAX_MESSAGE_BYTES * 3));
  if (roll < 0.2) return randomText(rng, int(rng, 600));
  const valid = pick(rng, [
    () => connectedMsg(),
    () => startMsg(ids, { agentId: 'agent-fuzz' }),
    () => mediaMsg(ids, randomBytes(rng, 160), seq),
    () => mediaMsg(ids, randomBytes(rng, int(rng, 4000)), seq),
    () => mediaMsg(ids, randomText(rng, 40), seq),
    () => dtmfMsg(ids, pick(rng, ['1', '#', 'x', '']), seq),
    () => stopMsg(ids, seq),
    () => JSON.stringify({ event: 'mark', streamSid: ids.streamSid, mark: { name: randomText(rng, 8) } }),
  ])();
  return roll < 0.55 ? valid : mutate(rng, valid);
}

function agentFrame(rng: Rng): string | Buffer {
  return rng() < 0.5 ? randomBytes(rng, int(rng, 6000)) : randomText(rng, int(rng, 2000));
}

/** One fuzz connection: a burst of frames, then close (or be closed). Returns frames sent. */
async function fuzzConnection(rng: Rng, wsUrl: string, realCallSid: string): Promise<number> {
  const template = pick(rng, ENDPOINTS);
  const id = pick(rng, ['agent-fuzz', 'agent-real', 'x'.repeat(200), '..', 'a%20b', randomText(rng, 6).replace(/[/?#%]/g, '')]);
  const path = template.replace('{id}', encodeURIComponent(id));
  const ws = new WebSocket(`${wsUrl}${path}`, { headers: headersFor(path) });
  ws.on('error', () => undefined);
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('unexpected-response', () => resolve(false));
    ws.once('error', () => resolve(false));
  });
  if (!opened) return 0;
  openedPerEndpoint.set(template, (openedPerEndpoint.get(template) ?? 0) + 1);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  // Sometimes borrow the real call's id: the server must refuse, not mix the streams.
  const callSid = rng() < 0.1 ? realCallSid : twilioCallSid();
  const ids = { callSid, streamSid: `MZ${callSid.slice(2)}` };
  const frames = 4 + int(rng, 16);
  let sent = 0;
  if (template === '/v1/streams/twilio' && rng() < 0.5) {
    ws.send(connectedMsg());
    ws.send(startMsg(ids, { agentId: 'agent-fuzz' }));
    sent += 2;
  }
  const audiohook = new AudiohookMessages(randomUUID());
  for (let i = 0; i < frames && ws.readyState === WebSocket.OPEN; i++) {
    const frame =
      template === '/v1/streams/twilio'
        ? twilioFrame(rng, ids, i + 3)
        : template === '/v1/streams/l16'
          ? l16Frame(rng, callSid, i === 0)
          : template === '/v1/streams/audiohook'
            ? audiohookFrame(rng, audiohook, callSid, i === 0)
            : agentFrame(rng);
    ws.send(frame, { binary: Buffer.isBuffer(frame) });
    sent++;
  }
  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'fuzz done');
  await closed;
  return sent;
}

async function fuzzRound(seed: number, wsUrl: string, realCallSid: string, connections: number): Promise<number> {
  const rng = createRng(seed);
  let frames = 0;
  let next = 0;
  const workers = Array.from({ length: 16 }, async () => {
    while (next < connections) {
      next++;
      const sent = await fuzzConnection(rng, wsUrl, realCallSid);
      frames += sent;
    }
  });
  await Promise.all(workers);
  return frames;
}

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe('fuzzing every WebSocket endpoint beside a real call', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({
      MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      CONNECTIONS_PER_IP_PER_MINUTE: '0',
      MAX_CALLS: '1000',
      CALL_HISTORY: '50',
      AUDIOHOOK_API_KEYS: '{"fuzz":""}',
    });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('stays up, keeps memory flat, and the real call still gets its prompt', async () => {
    const audio = await loadFixtureMuLaw('calm-then-angry');
    const agent = await openSocket(`${svc.wsUrl}/v1/agents/agent-real/stream`);
    const received = collectJson<AgentMessage>(agent);
    const realCallSid = twilioCallSid();
    const real = streamTwilioCall({ url: `${svc.wsUrl}/v1/streams/twilio`, mulaw: audio, callSid: realCallSid, agentId: 'agent-real', speed: 4 });

    // Round 1 warms up (JIT, pools, call history filling); rounds 2-3 must not grow the heap much.
    let frames = await fuzzRound(1, svc.wsUrl, realCallSid, 150);
    const before = heapMb();
    frames += await fuzzRound(2, svc.wsUrl, realCallSid, 150);
    frames += await fuzzRound(3, svc.wsUrl, realCallSid, 150);
    const after = heapMb();
    console.log(`fuzz: ${frames} frames; heap ${before.toFixed(1)} MB -> ${after.toFixed(1)} MB`);
    console.log(`fuzz: sockets opened per endpoint ${JSON.stringify(Object.fromEntries(openedPerEndpoint))}`);
    expect(frames).toBeGreaterThan(3000);
    for (const endpoint of ENDPOINTS) expect(openedPerEndpoint.get(endpoint) ?? 0).toBeGreaterThan(20);
    expect(after - before).toBeLessThan(40);

    const result = await real;
    expect(result.closedByServer).toBeUndefined();
    const prompt = await waitFor(() => received.find((m) => m.type === 'prompt' && m.callId === realCallSid), 'the real call’s prompt', 60_000);
    expect(prompt.callId).toBe(realCallSid);
    // The first end of the real call's session (a fuzzer may reuse its id once it is over: a new session).
    const ended = await waitFor(() => svc.lines.find((l) => l.msg === 'call ended' && l.callId === realCallSid), 'real call ended', 60_000);
    expect(ended['reason']).toBe('hangup');
    expect((await getJson(`${svc.url}/healthz`)).status).toBe(200);
    agent.close();
  }, 180_000);
});
