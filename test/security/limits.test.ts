/**
 * Limits and the review's defects, over real sockets: start and idle
 * timeouts, sockets awaiting their start counted against MAX_CALLS, messages
 * over the hard ceiling, client message size, per-IP connection rate, slow
 * consumers, a paused (backlogged) socket surviving the heartbeat, and a
 * publisher that keeps failing without ending the call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallDetail } from '../../src/calls/call-views.js';
import type { EmotionModel } from '../../src/model/types.js';
import type { EventPublisher } from '../../src/queue/publisher.js';
import { connectedMsg, mediaMsg, startMsg } from '../ingest/twilio-fixtures.js';
import { chunks, closed, getJson, loadFixtureMuLaw, loadTestModel, twilioCallSid, waitFor } from '../integration/helpers.js';
import { startTestApp, upgrade, type TestApp, type TestAppOptions } from './app-fixture.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(options: TestAppOptions): Promise<TestApp> {
  t = await startTestApp({ ...options, env: { AUTH: 'off', CONNECTIONS_PER_IP_PER_MINUTE: '0', ...options.env } });
  return t;
}

function ids(): { callSid: string; streamSid: string } {
  const callSid = twilioCallSid();
  return { callSid, streamSid: `MZ${callSid.slice(2)}` };
}

async function gateway(app: TestApp) {
  const { ws } = await upgrade(`${app.wsUrl}/v1/streams/twilio`);
  return { ws: ws!, done: closed(ws!) };
}

describe('gateway socket limits', () => {
  it('closes a socket that never sends its start with 1008 UT_ERR_START_TIMEOUT, and counts it', async () => {
    const app = await start({ env: { START_TIMEOUT_MS: '300' } });
    const { done } = await gateway(app);
    const result = await done;
    expect(result.code).toBe(1008);
    expect(result.reason).toMatch(/^UT_ERR_START_TIMEOUT: /);
    expect(await app.metric('undertone_refusals_total{reason="start_timeout"}')).toBe(1);
  });

  it('counts sockets still waiting for their start against MAX_CALLS (1013 beyond it and its one spare)', async () => {
    const app = await start({ env: { MAX_CALLS: '2' } });
    const a = await gateway(app);
    const b = await gateway(app);
    // The spare: when calls fill the house, it hears "too many calls" through its protocol at its start.
    const spare = await gateway(app);
    const c = await gateway(app);
    const result = await c.done;
    expect(result.code).toBe(1013);
    expect(result.reason).toMatch(/^UT_ERR_TOO_MANY_CALLS: /);
    expect(await app.metric('undertone_refusals_total{reason="max_calls"}')).toBe(1);
    a.ws.close();
    b.ws.close();
    spare.ws.close();
  });

  it('closes a started stream that goes silent with 1008 UT_ERR_IDLE_TIMEOUT; the call ends as an error', async () => {
    const app = await start({ env: { IDLE_TIMEOUT_MS: '300' } });
    const { ws, done } = await gateway(app);
    const id = ids();
    ws.send(connectedMsg());
    ws.send(startMsg(id, { agentId: 'agent-idle' }));
    const result = await done;
    expect(result.code).toBe(1008);
    expect(result.reason).toMatch(/^UT_ERR_IDLE_TIMEOUT: /);
    const detail = await waitFor(() => {
      const d = app.app.callRegistry.detail(id.callSid);
      return d?.state === 'ended' ? d : undefined;
    }, 'call ended');
    expect(detail.endReason).toBe('error');
  });

  it('answers a message over the hard ceiling (2 × MAX_MESSAGE_BYTES) with 1009 and a coded reason, logged with the call id', async () => {
    const app = await start({ env: { MAX_MESSAGE_BYTES: '1024' } });
    const { ws, done } = await gateway(app);
    const id = ids();
    ws.send(connectedMsg());
    ws.send(startMsg(id, { agentId: 'agent-big' }));
    await waitFor(() => app.app.callRegistry.detail(id.callSid), 'call started');
    ws.send('x'.repeat(3000));
    const result = await done;
    expect(result.code).toBe(1009);
    expect(result.reason).toMatch(/^UT_ERR_MESSAGE_TOO_BIG: /);
    const line = await waitFor(() => app.lines.find((l) => l.code === 'UT_ERR_MESSAGE_TOO_BIG' && l.callId === id.callSid), 'log line with callId');
    expect(line.level).toBe(40);
    const detail = await waitFor(() => {
      const d = app.app.callRegistry.detail(id.callSid);
      return d?.state === 'ended' ? d : undefined;
    }, 'call ended');
    expect(detail.endReason).toBe('error');
    expect(await app.metric('undertone_refusals_total{reason="message_too_big"}')).toBe(1);
  });
});

describe('client socket limits', () => {
  it('closes an agent socket that sends more than CLIENT_MAX_MESSAGE_BYTES with 1009', async () => {
    const app = await start({ env: { CLIENT_MAX_MESSAGE_BYTES: '1024' } });
    const { ws } = await upgrade(`${app.wsUrl}/v1/agents/agent-x/stream`);
    const done = closed(ws!);
    ws!.send('y'.repeat(2000));
    const result = await done;
    expect(result.code).toBe(1009);
    expect(result.reason).toMatch(/^UT_ERR_MESSAGE_TOO_BIG: /);
  });

  it('refuses the upgrade with 429 beyond CONNECTIONS_PER_IP_PER_MINUTE', async () => {
    const app = await start({ env: { CONNECTIONS_PER_IP_PER_MINUTE: '3' } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await upgrade(`${app.wsUrl}/v1/agents/agent-r/stream`);
      statuses.push(r.status);
      r.ws?.close();
    }
    expect(statuses).toEqual([101, 101, 101, 429, 429]);
    expect(await app.metric('undertone_refusals_total{reason="connection_rate"}')).toBe(2);
  });

  it('cuts off an agent socket that stops reading (slow consumer) instead of buffering without bound', async () => {
    const app = await start({ env: { SLOW_CONSUMER_BYTES: '16384' } });
    const { ws } = await upgrade(`${app.wsUrl}/v1/agents/agent-slow/stream`);
    const done = closed(ws!);
    // The client stops reading: the kernel buffers fill, then ws's own queue grows.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const text = 'z'.repeat(64 * 1024);
    const message = JSON.stringify({ type: 'prompt', callId: 'CAslow', promptId: 'p', text });
    await waitFor(async () => {
      app.hub.send('agent-slow', message);
      return (await app.metric('undertone_refusals_total{reason="slow_consumer"}')) >= 1 ? true : undefined;
    }, 'slow consumer cut off');
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const result = await done;
    expect([1008, 1006]).toContain(result.code);
  });
});

/** The real model, but scoring waits until the gate opens: a scoring backlog on demand. */
function gatedModel(real: EmotionModel): { model: EmotionModel; open(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const model = Object.create(real) as EmotionModel;
  model.score = async (batch) => {
    await gate;
    return real.score(batch);
  };
  return { model, open: () => release() };
}

describe('review defects', () => {
  it('does not ping-kill a socket paused for a scoring backlog (heartbeat skips paused sockets)', async () => {
    const gated = gatedModel(await loadTestModel());
    const app = await start({ model: gated.model, appOptions: { heartbeatMs: 250, session: { maxPendingWindows: 2 } } });
    const audio = await loadFixtureMuLaw('stays-calm');
    const { ws, done } = await gateway(app);
    let code: number | undefined;
    void done.then((r) => (code = r.code));
    const id = ids();
    ws.send(connectedMsg());
    ws.send(startMsg(id, { agentId: 'agent-paused' }));
    let seq = 1;
    for (const c of chunks(audio.subarray(0, 8000 * 12))) ws.send(mediaMsg(id, c, ++seq));
    await waitFor(() => app.lines.find((l) => /pausing intake/.test(l.msg) && l.callId === id.callSid), 'backlog pause', 60_000);
    // Several heartbeat intervals while paused: the peer's pongs cannot be read.
    await sleep(1500);
    expect(code).toBeUndefined();
    gated.open();
    const detail = await waitFor(async () => {
      const d = (await getJson<CallDetail>(`${app.url}/v1/calls/${id.callSid}`)).body;
      return d.timeline.length >= 20 ? d : undefined;
    }, 'windows scored after the backlog');
    expect(detail.state).toBe('live');
    ws.close(1000, 'done');
    expect((await done).code).toBe(1000);
  });

  it('keeps scoring when every publish fails: the call is not ended, the loss is counted, /readyz says not ready', async () => {
    const failing: EventPublisher = {
      publish: async () => {
        throw new Error('OOM command not allowed when used memory > maxmemory');
      },
      close: async () => undefined,
    };
    const app = await start({ publisher: failing });
    const audio = await loadFixtureMuLaw('calm-then-angry');
    const { ws, done } = await gateway(app);
    const id = ids();
    ws.send(connectedMsg());
    ws.send(startMsg(id, { agentId: 'agent-nopublish' }));
    let seq = 1;
    for (const c of chunks(audio)) ws.send(mediaMsg(id, c, ++seq));
    ws.send(JSON.stringify({ event: 'stop', streamSid: id.streamSid, sequenceNumber: String(++seq), stop: { callSid: id.callSid } }));
    const detail = await waitFor(() => {
      const d = app.app.callRegistry.detail(id.callSid);
      return d?.state === 'ended' ? d : undefined;
    }, 'call ended', 60_000);
    expect(detail.endReason).toBe('hangup');
    expect(detail.events.some((e) => e.type === 'prompt')).toBe(true);
    // Every window was scored, after the failures too.
    expect(detail.timeline.length).toBeGreaterThan(60);
    expect(await app.metric('undertone_publish_failures_total')).toBe(detail.events.length);
    expect(await app.metric('undertone_dropped_events_total{reason="rejected"}')).toBe(detail.events.length);
    expect(app.lines.some((l) => l.level === 50 && l.callId === id.callSid && /not published/.test(l.msg))).toBe(true);
    const ready = await getJson<{ failed: string[] }>(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.failed).toContain('publisher');
    ws.close();
    await done;
  });
});

describe('/metrics', () => {
  it('exposes active calls, audio messages, inference latency, publish buffer and refusals', async () => {
    const app = await start({});
    const audio = await loadFixtureMuLaw('stays-calm');
    const { ws, done } = await gateway(app);
    const id = ids();
    ws.send(connectedMsg());
    ws.send(startMsg(id, { agentId: 'agent-m' }));
    let seq = 1;
    for (const c of chunks(audio.subarray(0, 8000 * 5))) ws.send(mediaMsg(id, c, ++seq));
    await waitFor(async () => ((await app.metric('undertone_inference_seconds_count')) > 0 ? true : undefined), 'an inference timed');
    const res = await fetch(`${app.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^undertone_active_calls 1$/m);
    expect(text).toMatch(/^undertone_audio_messages_total\{source="twilio"\} 250$/m);
    expect(text).toMatch(/^undertone_publish_buffer_events 0$/m);
    expect(text).toContain('undertone_inference_seconds_bucket');
    ws.close();
    await done;
  });
});
