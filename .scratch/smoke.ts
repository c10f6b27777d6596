import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { createAgentHub } from '../src/delivery/agent-hub.js';
import { createRoutingWorker } from '../src/delivery/routing-worker.js';
import { FEATURE_NAMES } from '../src/features/feature-names.js';
import { readFileSync } from 'node:fs';
import { readWav } from '../src/audio/wav.js';
import { connectedMsg, mediaMsg, startMsg, stopMsg } from '../test/ingest/twilio-fixtures.js';
import { createEscalationPolicy } from '../src/policy/create-escalation-policy.js';
import { createBullmqPublisher } from '../src/queue/bullmq-publisher.js';
import { createLogger } from '../src/shared/logger.js';

async function loadFixtureMuLaw(n: string) { return readWav(readFileSync('audio-fixtures/demo/' + n + '.wav')).muLaw!; }
async function openSocket(url: string) { const w = new WebSocket(url); w.on('error', () => {}); await new Promise((r, j) => { w.once('open', r); w.once('error', j); }); return w; }
function closed(w: WebSocket) { return new Promise<any>((r) => w.once('close', (code, reason) => r({ code, reason: String(reason) }))); }
class TwilioGateway {
  seq = 1; ids: any; closedP: Promise<any>;
  constructor(public ws: WebSocket) { const c = 'CA' + Math.random().toString(16).slice(2); this.ids = { callSid: c, streamSid: 'MZ' + c.slice(2) }; this.closedP = closed(ws); }
  static async open(u: string) { return new TwilioGateway(await openSocket(u + '/v1/streams/twilio')); }
  start(o: any = {}) { this.ws.send(connectedMsg()); this.ws.send(startMsg(this.ids, o)); return this; }
  audio(b: Uint8Array) { for (let i = 0; i < b.length; i += 160) this.ws.send(mediaMsg(this.ids, b.subarray(i, i + 160), ++this.seq)); return this; }
  stop() { this.ws.send(stopMsg(this.ids, ++this.seq)); return this; }
  send(d: any, binary = false) { this.ws.send(d, { binary }); return this; }
}


const logger = createLogger({ level: 'warn' });
const redis = new Redis('redis://127.0.0.1:6379');
const wr = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queueName = 'scratch-' + Date.now();
const publisher = createBullmqPublisher({ connection: redis, queueName, logger });
const hub = createAgentHub({ logger });
const worker = createRoutingWorker({ connection: wr, queueName, hub, logger });
let t = 0;
const model = {
  featureNames: FEATURE_NAMES, version: 'stub',
  async score(batch: readonly Float32Array[]) { return batch.map(() => { t++; const a = t > 10 ? 0.9 : 0.05; return { neutral: 1 - a, anger: a, happiness: 0, sadness: 0, arousal: a, agitation: a }; }); },
  async close() {},
};
const app = await buildApp(loadConfig({ PORT: '0', MAX_MESSAGE_BYTES: '4096' }), { logger, model, policyFactory: createEscalationPolicy(), publisher, hub, redis });
await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as any).port;
const url = `http://127.0.0.1:${port}`, ws = `ws://127.0.0.1:${port}`;
console.log(await (await fetch(url + '/readyz')).json());
const agent = await openSocket(ws + '/v1/agents/a1/stream');
agent.on('message', (d) => console.log('AGENT', String(d).slice(0, 150)));
const audio = await loadFixtureMuLaw('calm-then-angry');
const gw = await TwilioGateway.open(ws);
gw.start({ agentId: 'a1' }).audio(audio).stop();
await new Promise((r) => setTimeout(r, 3000));
const d = await (await fetch(`${url}/v1/calls/${gw.ids.callSid}`)).json() as any;
console.log(d.state, d.endReason, d.audioMs, d.timeline.length, d.events.map((e: any) => e.type + e.tier));
const bad = await TwilioGateway.open(ws); bad.send('nope'); console.log(await bad.closedP);
const big = await TwilioGateway.open(ws); big.start().send('x'.repeat(5000)); console.log(await big.closedP);
const huge = await TwilioGateway.open(ws); huge.start().send('x'.repeat(50000)); console.log(await huge.closedP);
const bin = await TwilioGateway.open(ws); bin.start().send(Buffer.alloc(10), true); console.log(await bin.closedP);
const ag = await openSocket(ws + '/v1/agents/' + 'a'.repeat(129) + '/stream'); console.log(await closed(ag));
// shutdown with a live call
const live = await TwilioGateway.open(ws); live.start().audio(audio.subarray(0, 80000));
const agClose = closed(agent);
await new Promise((r) => setTimeout(r, 300));
const t0 = Date.now();
await app.close();
console.log('closed in', Date.now() - t0, await live.closedP, await agClose);
await worker.close(); await publisher.close(); redis.disconnect(); wr.disconnect();
