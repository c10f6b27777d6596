import { beforeAll, describe, expect, it } from 'vitest';
import { createCallPipeline, type CallPipeline } from '../../src/calls/call-pipeline.js';
import { CallRegistry } from '../../src/calls/call-registry.js';
import type { CallStartEvent } from '../../src/ingest/call-event.js';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import type { EventPublisher } from '../../src/queue/publisher.js';
import { CapacityError, ProtocolError } from '../../src/shared/errors.js';
import { captureLogger, chunks, loadFixtureMuLaw, loadTestModel } from '../integration/helpers.js';

const nullPublisher: EventPublisher = { publish: async () => {}, close: async () => {} };

function start(callId: string): CallStartEvent {
  return {
    kind: 'start',
    callId,
    streamId: `MZ-${callId}`,
    agentId: undefined,
    language: undefined,
    tracks: ['caller'],
    format: { encoding: 'pcmu', sampleRate: 8000 },
    metadata: {},
    source: 'twilio',
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('CallRegistry', () => {
  let pipeline: CallPipeline;
  let audio: Uint8Array;

  beforeAll(async () => {
    pipeline = createCallPipeline({ model: await loadTestModel(), policyFactory: createEscalationPolicy(), publisher: nullPublisher });
    audio = (await loadFixtureMuLaw('stays-calm')).subarray(0, 8000 * 8);
  });

  const registry = (opts: { maxCalls?: number; callHistory?: number } = {}) => new CallRegistry(pipeline, captureLogger().logger, opts);

  it('refuses a second stream for a live callId with 1008', () => {
    const r = registry();
    r.open(start('CA1'));
    const err = thrown(() => r.open(start('CA1')));
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ closeCode: 1008, code: 'UT_ERR_CALL_ALREADY_LIVE' });
    expect(r.liveCount).toBe(1);
  });

  it('refuses calls beyond maxCalls with 1013', () => {
    const r = registry({ maxCalls: 2 });
    r.open(start('CA1'));
    r.open(start('CA2'));
    const err = thrown(() => r.open(start('CA3')));
    expect(err).toBeInstanceOf(CapacityError);
    expect(err).toMatchObject({ closeCode: 1013, code: 'UT_ERR_TOO_MANY_CALLS' });
  });

  it('refuses a start the admission check refuses (overload), and keeps the live calls', () => {
    let refuse = false;
    const r = new CallRegistry(pipeline, captureLogger().logger, {
      admission: () => (refuse ? new CapacityError('UT_ERR_OVERLOADED', 1013, 'instance overloaded: audio lag up to 1500 ms (limit 1000 ms)') : undefined),
    });
    r.open(start('CA1'));
    refuse = true;
    const err = thrown(() => r.open(start('CA2')));
    expect(err).toMatchObject({ closeCode: 1013, code: 'UT_ERR_OVERLOADED' });
    expect(r.liveCount).toBe(1);
    expect(r.session('CA1')?.currentState).toBe('live');
    refuse = false;
    r.open(start('CA2'));
    expect(r.liveCount).toBe(2);
  });

  it('passes every window lag on to the shared pipeline and warns once per call over callLagWarnMs, with its callId', async () => {
    const lags: number[] = [];
    const callLags: number[] = [];
    // Every window is "late": scoring waits 30 ms a batch. 3 s of audio at once is still within a
    // real-time stream's slack (not judged ahead of real time), so its lag counts.
    const slow: CallPipeline = {
      ...pipeline,
      model: { ...pipeline.model, score: async (b) => (await new Promise((res) => setTimeout(res, 30)), pipeline.model.score(b)) },
      onWindowLag: (lag) => void lags.push(lag),
    };
    const { logger, lines } = captureLogger();
    const r = new CallRegistry(slow, logger, { callLagWarnMs: 10, onCallLag: (lag) => void callLags.push(lag) });
    for (const id of ['CA1', 'CA2']) {
      const s = r.open(start(id));
      for (const payload of chunks(audio.subarray(0, 8000 * 3))) s.acceptAudio({ kind: 'audio', callId: id, track: 'caller', payload });
    }
    await Promise.all(['CA1', 'CA2'].map((id) => r.finish(id, 'hangup')));
    const windows = ['CA1', 'CA2'].reduce((n, id) => n + r.detail(id)!.timeline.length, 0);
    expect(lags).toHaveLength(windows);
    expect(callLags).toEqual(lags);
    const warned = lines.filter((l) => /scored later than the overload limit/.test(l.msg));
    expect(warned.map((l) => l.callId).sort()).toEqual(['CA1', 'CA2']);
    expect(warned[0]).toMatchObject({ limitMs: 10, lagMs: expect.any(Number) });
  });

  it('leaves streams sent ahead of real time out of onCallLag and the warning (their lag is their own pace); the shared pipeline still sees them', async () => {
    const lags: number[] = [];
    const callLags: number[] = [];
    const { logger, lines } = captureLogger();
    const r = new CallRegistry({ ...pipeline, onWindowLag: (lag) => void lags.push(lag) }, logger, { callLagWarnMs: 1, onCallLag: (lag) => void callLags.push(lag) });
    const bulk = r.open(start('CA-bulk'));
    const live = r.open(start('CA-live'));
    // 8 s of audio at once on one stream, 0.2 s on the other: only the first is ahead of the wall clock.
    for (const payload of chunks(audio)) bulk.acceptAudio({ kind: 'audio', callId: 'CA-bulk', track: 'caller', payload });
    for (const payload of chunks(audio.subarray(0, 1600))) live.acceptAudio({ kind: 'audio', callId: 'CA-live', track: 'caller', payload });
    r.refreshPace(performance.now());
    await r.finish('CA-bulk', 'hangup');
    expect(lags.length).toBe(r.detail('CA-bulk')!.timeline.length);
    expect(lags.length).toBeGreaterThan(0);
    expect(callLags).toEqual([]);
    expect(lines.filter((l) => /scored later than the overload limit/.test(l.msg))).toEqual([]);
    // The same audio on a stream that is not ahead is heard.
    for (const payload of chunks(audio.subarray(1600, 8000 * 3))) live.acceptAudio({ kind: 'audio', callId: 'CA-live', track: 'caller', payload });
    await r.finish('CA-live', 'hangup');
    expect(callLags.length).toBe(r.detail('CA-live')!.timeline.length);
    expect(callLags.length).toBeGreaterThan(0);
  });

  it('judges a burst ahead of real time as soon as its lag shows, before any refreshPace (a replay must not trip the overload guard)', async () => {
    const callLags: number[] = [];
    const slow: CallPipeline = {
      ...pipeline,
      model: { ...pipeline.model, score: async (b) => (await new Promise((res) => setTimeout(res, 30)), pipeline.model.score(b)) },
    };
    const r = new CallRegistry(slow, captureLogger().logger, { onCallLag: (lag) => void callLags.push(lag) });
    const bulk = r.open(start('CA-burst'));
    // 8 s of audio in one go, scored late; no refreshPace is ever called.
    for (const payload of chunks(audio)) bulk.acceptAudio({ kind: 'audio', callId: 'CA-burst', track: 'caller', payload });
    await r.finish('CA-burst', 'hangup');
    expect(r.detail('CA-burst')!.timeline.length).toBeGreaterThan(0);
    // Windows scored within 100 ms of their audio may still be heard; none of the late ones is.
    expect(callLags.filter((lag) => lag > 100)).toEqual([]);
  });

  it('sheds the least escalated, newest real-time calls first: each closes with the error and ends by overload; streams ahead of real time are left alone', async () => {
    // A policy whose tier the test sets per call; the rest is the real policy.
    const tiers = new Map<string, number>();
    const real = createEscalationPolicy();
    const tiered: CallPipeline = {
      ...pipeline,
      policyFactory: (info) => Object.create(real(info), { tier: { get: () => tiers.get(info.callId) ?? 1 } }),
    };
    const { logger, lines } = captureLogger();
    const r = new CallRegistry(tiered, logger);
    const closed = new Map<string, unknown>();
    const open = async (id: string) => {
      const s = r.open(start(id), { onFatal: (error) => closed.set(id, error) });
      s.acceptAudio({ kind: 'audio', callId: id, track: 'caller', payload: audio.subarray(0, 1600) });
      await new Promise((res) => setTimeout(res, 3));
      return s;
    };
    await open('CA-old');
    await open('CA-hot');
    tiers.set('CA-hot', 2);
    await open('CA-new1');
    await open('CA-new2');
    const bulk = await open('CA-bulk');
    for (const payload of chunks(audio)) bulk.acceptAudio({ kind: 'audio', callId: 'CA-bulk', track: 'caller', payload });
    r.refreshPace(performance.now());
    expect(r.realTimeCount).toBe(4);

    const error = () => new CapacityError('UT_ERR_OVERLOADED', 1013, 'instance overloaded: shed');
    expect(r.shed(2, error)).toBe(2);
    expect([...closed.keys()].sort()).toEqual(['CA-new1', 'CA-new2']);
    expect(closed.get('CA-new2')).toMatchObject({ code: 'UT_ERR_OVERLOADED', closeCode: 1013 });
    expect(r.realTimeCount).toBe(2);
    await r.session('CA-new2')?.ended;
    expect(r.detail('CA-new2')).toMatchObject({ state: 'ended', endReason: 'overload' });
    const shedLine = lines.find((l) => l.callId === 'CA-new2' && /call shed/.test(l.msg));
    expect(shedLine).toMatchObject({ audioMs: 200, tier: 1 });

    // Asked for more than there are: the tier-1 call goes before the escalated one; the stream ahead of real time stays.
    expect(r.shed(5, error)).toBe(2);
    expect([...closed.keys()]).toEqual(['CA-new2', 'CA-new1', 'CA-old', 'CA-hot']);
    expect(r.session('CA-bulk')?.currentState).toBe('live');
    expect(r.shed(1, error)).toBe(0);
    await r.finish('CA-bulk', 'hangup');
    expect(r.detail('CA-bulk')).toMatchObject({ endReason: 'hangup' });
  });

  it('among calls at the same tier sheds the calmest first (smoothed agitation), then the newest', async () => {
    // A policy whose smoothed agitation the test sets per call; the rest is the real policy.
    const agitation = new Map<string, number>();
    const real = createEscalationPolicy();
    const scored: CallPipeline = {
      ...pipeline,
      policyFactory: (info) => Object.create(real(info), { smoothedAgitation: { get: () => agitation.get(info.callId) ?? 0 } }),
    };
    const { logger } = captureLogger();
    const r = new CallRegistry(scored, logger);
    const closed: string[] = [];
    const open = async (id: string) => {
      const s = r.open(start(id), { onFatal: () => closed.push(id) });
      s.acceptAudio({ kind: 'audio', callId: id, track: 'caller', payload: audio.subarray(0, 1600) });
      await new Promise((res) => setTimeout(res, 3));
      return s;
    };
    await open('CA-calm-old');
    await open('CA-rising');
    await open('CA-calm-new');
    await open('CA-unscored');
    agitation.set('CA-calm-old', 0.2);
    agitation.set('CA-rising', 0.6);
    agitation.set('CA-calm-new', 0.2);
    r.refreshPace(performance.now());
    expect(r.session('CA-rising')?.smoothedAgitation).toBe(0.6);
    const error = () => new CapacityError('UT_ERR_OVERLOADED', 1013, 'instance overloaded: shed');
    // No window scored yet (0) goes first; then the two at 0.2, newest first; the agitated caller last.
    expect(r.shed(3, error)).toBe(3);
    expect(closed).toEqual(['CA-unscored', 'CA-calm-new', 'CA-calm-old']);
    expect(r.session('CA-rising')?.currentState).toBe('live');
    await r.finish('CA-rising', 'hangup');
  });

  it('moves a finished call to the history, keeps the newest callHistory, and lets an ended callId start again', async () => {
    const r = registry({ callHistory: 2 });
    for (const id of ['CA1', 'CA2', 'CA3']) {
      const s = r.open(start(id));
      for (const payload of chunks(audio)) s.acceptAudio({ kind: 'audio', callId: id, track: 'caller', payload });
      await r.finish(id, 'hangup');
    }
    expect(r.list()).toEqual([]);
    expect(r.liveCount).toBe(0);
    expect(r.detail('CA1')).toBeUndefined();
    const d3 = r.detail('CA3')!;
    expect(d3).toMatchObject({ state: 'ended', endReason: 'hangup', audioMs: 8000 });
    expect(r.detail('CA2')?.state).toBe('ended');

    const again = r.open(start('CA3'));
    expect(r.detail('CA3')?.state).toBe('live');
    expect(r.list().map((c) => c.callId)).toEqual(['CA3']);
    await again.finish('hangup');
    await again.ended;
    expect(r.detail('CA3')).toMatchObject({ state: 'ended', audioMs: 0 });
  });

  it('lists live calls with their summary fields', () => {
    const r = registry();
    const s = r.open({ ...start('CA9'), agentId: 'a-1', language: 'zh-CN' });
    s.acceptAudio({ kind: 'audio', callId: 'CA9', track: 'caller', payload: audio.subarray(0, 1600) });
    expect(r.list()).toEqual([
      expect.objectContaining({ callId: 'CA9', agentId: 'a-1', language: 'zh-CN', source: 'twilio', state: 'live', tier: 1, audioMs: 200, latestScores: null }),
    ]);
  });

  it('finishes every live call on shutdown and then refuses new ones with 1001', async () => {
    const r = registry();
    const a = r.open(start('CA1'));
    const b = r.open(start('CA2'));
    for (const payload of chunks(audio)) a.acceptAudio({ kind: 'audio', callId: 'CA1', track: 'caller', payload });
    await r.shutdown();
    expect(a.currentState).toBe('ended');
    expect(b.currentState).toBe('ended');
    expect(r.detail('CA1')).toMatchObject({ state: 'ended', endReason: 'shutdown', audioMs: 8000 });
    expect(a.pendingWindows).toBe(0);
    expect(thrown(() => r.open(start('CA3')))).toMatchObject({ closeCode: 1001, code: 'UT_ERR_SHUTTING_DOWN' });
  });
});
