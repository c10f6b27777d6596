/**
 * A DSP worker dying under live calls, over real sockets: the gateway stream
 * of the call pinned to it is closed with 1011 (UT_ERR_DSP_WORKER), the call
 * pinned to the other worker streams on to its end, every window scored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { CallDetail } from '../../src/calls/call-views.js';
import { loadConfig } from '../../src/config/config.js';
import type { AgentHub } from '../../src/delivery/agent-messages.js';
import type { DspCall } from '../../src/dsp/dsp-engine.js';
import { createWorkerPoolEngine, type WorkerPoolEngine } from '../../src/dsp/worker-pool.js';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import { captureLogger, getJson, LEVEL, loadFixtureMuLaw, loadTestModel, MODEL_PATH, TwilioGateway, twilioCallSid, waitFor, waitForCallEnded, type LogLine } from '../integration/helpers.js';

const noHub: AgentHub = { register: () => () => undefined, connectedAgents: () => new Map() };

describe('a DSP worker crash under live calls', () => {
  let pool: WorkerPoolEngine;
  let app: FastifyInstance;
  let url: string;
  let lines: LogLine[];
  let angry: Uint8Array;

  beforeAll(async () => {
    const model = await loadTestModel();
    angry = await loadFixtureMuLaw('calm-then-angry');
    // Spread (packCalls 0): the two calls must land on different workers.
    pool = await createWorkerPoolEngine({ threads: 2, modelPath: MODEL_PATH, card: model.card, packCalls: 0 });
    const captured = captureLogger('info');
    lines = captured.lines;
    app = await buildApp(loadConfig({ PORT: '0', AUTH: 'off', DSP_THREADS: '2' }), {
      logger: captured.logger,
      model,
      dsp: pool,
      policyFactory: createEscalationPolicy(),
      publisher: { publish: async () => {}, close: async () => {} },
      hub: noHub,
      redis: { ping: async () => 'PONG' },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await pool?.close();
  });

  it('closes only the crashed worker\'s call with 1011; the other call ends normally', async () => {
    const http = url.replace(/^ws/, 'http');
    const victimId = twilioCallSid();
    const bystanderId = twilioCallSid();
    const victim = await TwilioGateway.open(url, victimId);
    const bystander = await TwilioGateway.open(url, bystanderId);
    const half = Math.floor(angry.length / 320) * 160;
    victim.start({ agentId: 'a-1' }).audio(angry.subarray(0, half));
    bystander.start({ agentId: 'a-2' }).audio(angry.subarray(0, half));
    await waitFor(async () => {
      const [a, b] = await Promise.all([victimId, bystanderId].map((id) => getJson<CallDetail>(`${http}/v1/calls/${id}`)));
      return a!.body.audioMs === half / 8 && b!.body.audioMs === half / 8 ? true : undefined;
    }, 'both calls half streamed');
    expect(pool.loads().sort()).toEqual([1, 1]);

    const session = app.callRegistry.session(victimId)!;
    pool.crashWorkerOf((session as unknown as { dsp: DspCall }).dsp);
    const close = await victim.closedP;
    expect(close.code).toBe(1011);
    expect(close.reason).toMatch(/^UT_ERR_DSP_WORKER/);
    const failed = lines.find((l) => l.level === LEVEL.error && l.callId === victimId);
    expect(failed?.msg).toBe('call failed: DSP worker failed');

    bystander.audio(angry.subarray(half)).stop();
    const detail = await waitForCallEnded(http, bystanderId);
    expect(detail.endReason).toBe('hangup');
    expect(detail.audioMs).toBe(Math.round(angry.length / 8));
    expect(detail.timeline.length).toBeGreaterThan(60);
    expect((await getJson<CallDetail>(`${http}/v1/calls/${victimId}`)).body.endReason).toBe('error');
  });
});
