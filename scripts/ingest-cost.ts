/**
 * What receiving Twilio media costs the server, with no DSP or model work:
 * the price of `/v1/streams/twilio` itself (ws framing, the socket limits,
 * JSON, base64, the adapter chain, the call registry's dispatch).
 *
 *   npx tsx scripts/ingest-cost.ts micro  [--messages 200000]
 *   npx tsx scripts/ingest-cost.ts socket [--calls 300] [--seconds 20] [--read-pacing-ms 100]
 *   npx tsx scripts/ingest-cost.ts floor  [--calls 300] [--seconds 20]
 *   npx tsx scripts/ingest-cost.ts net    [--calls 300] [--seconds 20] [--read-only] [--read-pacing-ms 100]
 *   (socket, floor and net: --tick-ms 5 paces like the bench's generator; default 20, one burst per frame time)
 *
 * - `micro`: one gateway connection driven in-process (`handleGatewaySocket`
 *   on a stand-in socket, the adapter chain app.ts builds: start-token guard
 *   around the Twilio adapter, a real CallRegistry with the DSP stubbed);
 *   prints CPU µs per media message (process.cpuUsage over the loop).
 * - `socket`: `buildApp` (AUTH off, stubbed decode/features/model, no Redis)
 *   listening on port 0; a child process opens N Twilio sockets and sends
 *   20 ms frames in real time. Prints the server process's CPU per
 *   call-second over the measured seconds (after 3 s of warm-up), and the
 *   ingest stage's own µs per message from the StageClock. Gateway reads are
 *   paced as the server's are (`GATEWAY_READ_PACING_MS`, default 100;
 *   `--read-pacing-ms M` sets it, 0 reads every message as it comes).
 * - `floor`: the same load against a bare `ws` server on a plain HTTP server
 *   that only JSON.parses each message and decodes its base64 payload: what
 *   receiving Twilio media costs Node and ws before any of our code.
 * - `net`: the same load against a bare `net` server: the WebSocket handshake
 *   and frames read by hand from the socket's `data` events (no HTTP server,
 *   no `ws`, no stream piping), then the same JSON.parse and base64 decode
 *   per message: what the kernel, libuv and Node's socket cost with the
 *   least JavaScript on top. `--read-only` drops even the frame parsing
 *   (bytes counted, nothing read): the socket alone. `--read-pacing-ms M`
 *   reads each socket at most every M ms (src/http/limits/read-pacer.ts,
 *   with no window end ever due): what batching the reads saves.
 *
 * Both socket modes also print the main thread's own CPU (/proc/self/task).
 *
 * 50 media messages per call-second, so µs per message × 0.05 = ms per call-second.
 */
import type { DspEngine } from '../src/dsp/dsp-engine.js';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { mainThreadCpuMs } from '../src/bench/proc-stat.js';
import { buildApp } from '../src/app.js';
import type { CallPipeline } from '../src/calls/call-pipeline.js';
import { CallRegistry } from '../src/calls/call-registry.js';
import { loadConfig } from '../src/config/config.js';
import type { EmotionModel } from '../src/model/types.js';
import { Metrics } from '../src/observability/metrics.js';
import { Stage, StageClock } from '../src/observability/stage-clock.js';
import { createEscalationPolicy } from '../src/policy/create-escalation-policy.js';
import { handleGatewaySocket } from '../src/http/gateway-socket.js';
import { ReadPacer } from '../src/http/limits/read-pacer.js';
import { withStartToken } from '../src/http/auth/gateway-start-token.js';
import { createTokenVerifier } from '../src/http/auth/tokens.js';
import { createTwilioAdapter } from '../src/ingest/twilio-adapter.js';
import { createLogger } from '../src/shared/logger.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string', default: '200000' },
    calls: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '20' },
    url: { type: 'string' },
    'tick-ms': { type: 'string', default: '20' },
    'read-only': { type: 'boolean', default: false },
    'read-pacing-ms': { type: 'string' },
  },
});
const mode = positionals[0] ?? 'micro';

/** One 20 ms mu-law frame of speech-like bytes, as Twilio would send it. */
const FRAME_B64 = Buffer.from(Uint8Array.from({ length: 160 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64');

function startJson(n: number): string {
  const hex = String(n).padStart(32, '0');
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid: `MZ${hex}`,
    start: {
      streamSid: `MZ${hex}`,
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      callSid: `CA${hex}`,
      tracks: ['inbound'],
      customParameters: { agentId: `agent-${n}` },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });
}

function mediaJson(n: number, seq: number): string {
  const chunk = seq - 1;
  return JSON.stringify({
    event: 'media',
    sequenceNumber: String(seq),
    streamSid: `MZ${String(n).padStart(32, '0')}`,
    media: { track: 'inbound', chunk: String(chunk), timestamp: String(chunk * 20), payload: FRAME_B64 },
  });
}

/**
 * A client media message's size on the wire: its JSON (a mid-run sequence
 * number; the digits vary by a few bytes) plus a masked frame's 8-byte
 * header (2, a 16-bit length, the 4-byte mask). `net --read-only` counts
 * messages by it.
 */
const MEDIA_FRAME_WIRE_BYTES = Buffer.byteLength(mediaJson(0, 500)) + 8;

const stubModel: EmotionModel = {
  featureNames: [],
  version: 'stub',
  score: async () => [],
  close: async () => undefined,
};

/**
 * A DSP engine that takes payloads and scores nothing: only ingest and dispatch remain.
 * It keeps the call's audio clock (one mu-law byte a sample), so that read pacing
 * (`GATEWAY_READ_PACING_MS`) sees the window ends it would in the server and paces the same.
 */
const stubDsp: DspEngine = {
  mode: 'inline',
  threads: 0,
  open: () => {
    let samplesSeen = 0;
    return {
      push: (payload: Uint8Array) => {
        samplesSeen += payload.length;
      },
      get samplesSeen() {
        return samplesSeen;
      },
      pendingWindows: 0,
      finish: async () => undefined,
      abort: () => undefined,
    };
  },
  close: async () => undefined,
};

/** The pipeline with decode, features and the model stubbed: only ingest and dispatch remain. */
function stubPipeline(clock: StageClock): CallPipeline {
  return {
    model: stubModel,
    policyFactory: createEscalationPolicy(),
    publisher: { publish: async () => undefined, close: async () => undefined },
    dsp: stubDsp,
    clock,
  };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Process CPU (user/system), the main thread's CPU and wall time over `seconds` of waiting. */
async function measureCpu(seconds: number): Promise<{ split: NodeJS.CpuUsage; mainMs: number; wallS: number }> {
  const t0 = process.cpuUsage();
  const main0 = mainThreadCpuMs(process.pid);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return {
    split: process.cpuUsage(t0),
    mainMs: mainThreadCpuMs(process.pid) - main0,
    wallS: (performance.now() - w0) / 1000,
  };
}

async function micro(): Promise<void> {
  const n = Number(values.messages);
  const clock = new StageClock();
  const logger = createLogger({ level: 'error' });
  const registry = new CallRegistry(stubPipeline(clock), logger, { maxCalls: 10, callHistory: 10 });
  const metrics = new Metrics({ defaultMetrics: false });
  // A stand-in for the ws socket: the handler only listens, sends, pauses and closes.
  const socket = Object.assign(new EventEmitter(), {
    OPEN: 1,
    CONNECTING: 0,
    readyState: 1,
    send: () => undefined,
    close: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
  });
  const adapter = withStartToken(createTwilioAdapter(), { required: false, verify: createTokenVerifier('x'.repeat(32)), metrics });
  handleGatewaySocket(socket as unknown as WebSocket, { registry, adapter, logger, maxMessageBytes: 64 * 1024, clock });
  socket.emit('message', Buffer.from(startJson(1)), false);
  // Messages built up front: the loop measures the server side only.
  const frames = Array.from({ length: 1000 }, (_, i) => Buffer.from(mediaJson(1, i + 2)));
  for (let i = 0; i < 20_000; i++) socket.emit('message', frames[i % frames.length], false); // warm-up (JIT)
  clock.ms.fill(0);
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) socket.emit('message', frames[i % frames.length], false);
  const ms = cpuMs(t0);
  const perMsgUs = (ms * 1000) / n;
  console.log(`micro: ${n} media messages, ${perMsgUs.toFixed(2)} µs CPU per message (${(perMsgUs * 0.05).toFixed(3)} ms per call-second); ingest stage ${((clock.ms[Stage.ingest]! * 1000) / n).toFixed(2)} µs per message`);
  console.log(JSON.stringify({ mode: 'micro', messages: n, us_per_message: Number(perMsgUs.toFixed(3)), ingest_stage_us_per_message: Number(((clock.ms[Stage.ingest]! * 1000) / n).toFixed(3)) }));
}

/** Starts the client child against `url` and resolves when it has exited. */
function startClient(url: string, calls: number, seconds: number): { done: Promise<void>; stop: () => void } {
  const args = ['--url', url, '--calls', String(calls), '--seconds', String(seconds), '--tick-ms', values['tick-ms']];
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'client', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { done, stop: () => child.kill('SIGTERM') };
}

/** The bare-ws floor: a plain ws server that parses each message and decodes its payload, nothing more. */
async function floorServer(): Promise<void> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  let live = 0;
  let messages = 0;
  let decodedBytes = 0;
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { event: string; media?: { payload: string } };
      if (msg.event === 'media') {
        decodedBytes += Buffer.from(msg.media!.payload, 'base64').length;
        messages++;
      } else if (msg.event === 'start') live++;
    });
    socket.on('close', () => live--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const m = await measureUnderLoad((server.address() as { port: number }).port, () => live, () => messages);
  wss.close();
  server.close();
  report('floor', m.live, m.wallS, m.split, m.mainMs, m.messages, undefined, decodedBytes);
}

/**
 * Runs the client against a bare server on `port`: waits for every call to
 * be live (`live()`), warms up, and measures the server's CPU and the
 * messages it counted (`messages()`) over `--seconds`.
 */
async function measureUnderLoad(
  port: number,
  live: () => number,
  messages: () => number,
): Promise<{ live: number; wallS: number; split: NodeJS.CpuUsage; mainMs: number; messages: number }> {
  const calls = Number(values.calls);
  const seconds = Number(values.seconds);
  const warmS = 3;
  const client = startClient(`ws://127.0.0.1:${port}/`, calls, seconds + warmS + 1);
  const deadline = Date.now() + 30_000;
  while (live() < calls && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, warmS * 1000));
  const liveNow = live();
  const m0 = messages();
  const { split, mainMs, wallS } = await measureCpu(seconds);
  const n = messages() - m0;
  client.stop();
  await client.done;
  return { live: liveNow, wallS, split, mainMs, messages: n };
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * The bare-net floor: RFC 6455 server side by hand, just enough for this
 * client (masked frames, 7/16-bit lengths, no fragmentation, no control
 * frames but close): a measuring tool, not a WebSocket server.
 */
async function netServer(): Promise<void> {
  const readOnly = values['read-only'] === true;
  const pacingMs = Number(values['read-pacing-ms'] ?? '0');
  const pacer = pacingMs > 0 ? new ReadPacer({ intervalMs: pacingMs }) : undefined;
  let live = 0;
  let messages = 0;
  let decodedBytes = 0;
  let readBytes = 0;
  const onText = (text: string): void => {
    const msg = JSON.parse(text) as { event: string; media?: { payload: string } };
    if (msg.event === 'media') {
      decodedBytes += Buffer.from(msg.media!.payload, 'base64').length;
      messages++;
    } else if (msg.event === 'start') live++;
  };
  const server = createNetServer((socket) => {
    let pending: Buffer = Buffer.alloc(0);
    let open = false;
    const paced = pacer?.attach(socket);
    socket.on('data', (chunk: Buffer) => {
      if (open) paced?.afterMessage(Number.POSITIVE_INFINITY);
      if (readOnly && open) {
        readBytes += chunk.length;
        // Nothing is parsed: messages estimated from the bytes, at a media frame's size on the wire.
        messages = Math.floor(readBytes / MEDIA_FRAME_WIRE_BYTES);
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (!open) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /sec-websocket-key: *([^\r\n]+)/i.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        open = true;
        pending = pending.subarray(end + 4);
        if (readOnly) {
          live++;
          pending = Buffer.alloc(0);
          return;
        }
      }
      let at = 0;
      for (;;) {
        if (pending.length - at < 2) break;
        const b0 = pending[at]!;
        const b1 = pending[at + 1]!;
        let len = b1 & 0x7f;
        let head = 2;
        if (len === 126) {
          if (pending.length - at < 4) break;
          len = pending.readUInt16BE(at + 2);
          head = 4;
        } else if (len === 127) throw new Error('net: 64-bit frame lengths are not expected here');
        const masked = (b1 & 0x80) !== 0;
        const total = head + (masked ? 4 : 0) + len;
        if (pending.length - at < total) break;
        const payload = pending.subarray(at + total - len, at + total);
        if (masked) {
          const m = at + head;
          for (let i = 0; i < len; i++) payload[i]! ^= pending[m + (i & 3)]!;
        }
        const opcode = b0 & 0x0f;
        if (opcode === 1) onText(payload.toString('utf8'));
        else if (opcode === 8) socket.end();
        at += total;
      }
      pending = at === pending.length ? Buffer.alloc(0) : pending.subarray(at);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => live--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const m = await measureUnderLoad((server.address() as { port: number }).port, () => live, () => messages);
  pacer?.close();
  server.close();
  report((readOnly ? 'net-read-only' : 'net') + (pacer ? `-paced-${pacingMs}` : ''), m.live, m.wallS, m.split, m.mainMs, m.messages, undefined, readOnly ? undefined : decodedBytes);
}

function report(mode: string, live: number, wallS: number, split: NodeJS.CpuUsage, mainMs: number, messages: number, ingestMs: number | undefined, checksum?: number): void {
  const ms = (split.user + split.system) / 1000;
  const callSeconds = live * wallS;
  const perCallS = ms / callSeconds;
  console.log(
    `${mode}: ${live} live calls, ${wallS.toFixed(1)} s: server CPU ${perCallS.toFixed(3)} ms per call-second (main thread ${(mainMs / callSeconds).toFixed(3)}); ` +
      `${messages.toFixed(0)} media messages (${(messages / callSeconds).toFixed(1)} per call-second), ${((ms * 1000) / messages).toFixed(2)} µs CPU per message all in` +
      (ingestMs === undefined ? '' : `, ingest stage ${((ingestMs * 1000) / messages).toFixed(2)} µs per message`) +
      `; user ${(split.user / 1000).toFixed(0)} ms, system ${(split.system / 1000).toFixed(0)} ms` +
      (checksum === undefined ? '' : ` (${checksum} payload bytes decoded)`),
  );
  console.log(
    JSON.stringify({
      mode,
      calls: live,
      seconds: Number(wallS.toFixed(1)),
      cpu_ms_per_call_second: Number(perCallS.toFixed(4)),
      main_thread_cpu_ms_per_call_second: Number((mainMs / callSeconds).toFixed(4)),
      us_per_message: Number(((ms * 1000) / messages).toFixed(3)),
      ...(ingestMs === undefined ? {} : { ingest_stage_us_per_message: Number(((ingestMs * 1000) / messages).toFixed(3)) }),
      system_share: Number((split.system / (split.user + split.system)).toFixed(3)),
    }),
  );
}

async function socketServer(): Promise<void> {
  const calls = Number(values.calls);
  const seconds = Number(values.seconds);
  const warmS = 3;
  const pacing = values['read-pacing-ms'];
  const config = loadConfig({
    AUTH: 'off',
    PORT: '0',
    LOG_LEVEL: 'error',
    MAX_CALLS: String(calls + 10),
    ROUTING_QUEUE: `ingest-cost-${process.pid}`,
    ...(pacing === undefined ? {} : { GATEWAY_READ_PACING_MS: pacing }),
  });
  const clock = new StageClock();
  const logger = createLogger({ level: 'error' });
  const metrics = new Metrics({ defaultMetrics: false });
  const audioMessages = async (): Promise<number> => (await metrics.audioMessages.get()).values.reduce((n, v) => n + v.value, 0);
  const app = await buildApp(
    config,
    {
      logger,
      model: stubModel,
      policyFactory: createEscalationPolicy(),
      publisher: { publish: async () => undefined, close: async () => undefined },
      hub: { register: () => () => undefined, connectedAgents: () => new Map() },
      redis: { ping: async () => 'PONG' },
      metrics,
    },
    { pipeline: stubPipeline(clock), heartbeatMs: 0 },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const client = startClient(`ws://127.0.0.1:${port}/v1/streams/twilio`, calls, seconds + warmS + 1);
  // Wait for every call to be live, then warm up.
  const deadline = Date.now() + 30_000;
  while (app.callRegistry.liveCount < calls && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, warmS * 1000));
  const live = app.callRegistry.liveCount;
  const ingest0 = clock.ms[Stage.ingest]!;
  const before = await audioMessages();
  const { split, mainMs, wallS } = await measureCpu(seconds);
  const after = await audioMessages();
  const ingestMs = clock.ms[Stage.ingest]! - ingest0;
  const messages = after - before;
  client.stop();
  await client.done;
  await app.close();
  report('socket', live, wallS, split, mainMs, messages, ingestMs);
}

/** The load side, in its own process so its CPU is not the server's. */
async function client(): Promise<void> {
  const url = values.url!;
  const calls = Number(values.calls);
  const endAt = Date.now() + Number(values.seconds) * 1000;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < calls; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(startJson(i));
    sockets.push(ws);
  }
  const tickMs = Number(values['tick-ms']);
  const t0 = performance.now();
  // --tick-ms 20: every call's frame in one burst per 20 ms tick. Shorter
  // ticks (the bench's generator uses 5) spread the calls' frames over the
  // 20 ms, call i phased i × 20 / calls ms later; each tick sends what is due
  // (on the audio clock, no drift), so the server sees the bench's pattern.
  const phase = (i: number): number => (tickMs >= 20 ? 0 : (i * 20) / calls);
  const sentFrames = new Array<number>(calls).fill(0);
  let k = 0;
  const tick = (): void => {
    const now = performance.now() - t0;
    for (let i = 0; i < sockets.length; i++) {
      const due = Math.floor((now - phase(i)) / 20) + 1;
      while (sentFrames[i]! < due) sockets[i]!.send(mediaJson(i, 2 + sentFrames[i]!++));
    }
    k = Math.max(k + 1, Math.floor(now / tickMs) + 1);
    if (Date.now() < endAt) setTimeout(tick, Math.max(0, k * tickMs - (performance.now() - t0)));
  };
  tick();
  await new Promise((r) => setTimeout(r, Math.max(0, endAt - Date.now()) + 100));
  for (const ws of sockets) ws.terminate();
}

if (mode === 'micro') await micro();
else if (mode === 'socket') await socketServer();
else if (mode === 'floor') await floorServer();
else if (mode === 'net') await netServer();
else if (mode === 'client') await client();
else throw new Error(`unknown mode ${mode}: micro | socket | floor | net`);
