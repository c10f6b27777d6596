/**
 * CallSession with the real decoder, feature stream, model and policy. The
 * publisher is an in-memory EventPublisher (the port, not Redis: the BullMQ
 * one is exercised in test/integration).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createCallPipeline, type CallPipeline } from '../../src/calls/call-pipeline.js';
import { CallSession, type CallSessionOptions } from '../../src/calls/call-session.js';
import type { CallStartEvent, Track } from '../../src/ingest/call-event.js';
import { createAgitationTracker, DEFAULT_AGITATION_TRACKER } from '../../src/model/agitation-tracker.js';
import { createCallerScoreBaseline } from '../../src/model/caller-score-baseline.js';
import type { EmotionModel, EmotionScores, ScoredWindow } from '../../src/model/types.js';
import { createEscalationPolicy } from '../../src/policy/create-escalation-policy.js';
import type { PolicyEvent } from '../../src/policy/types.js';
import type { EventPublisher, PublishContext } from '../../src/queue/publisher.js';
import { Stage, StageClock } from '../../src/observability/stage-clock.js';
import { callLogger } from '../../src/shared/logger.js';
import { captureLogger, chunks, LEVEL, loadFixtureMuLaw, loadTestModel } from '../integration/helpers.js';

class RecordingPublisher implements EventPublisher {
  readonly published: Array<{ event: PolicyEvent; ctx: PublishContext }> = [];
  async publish(event: PolicyEvent, ctx: PublishContext): Promise<void> {
    this.published.push({ event, ctx });
  }
  async close(): Promise<void> {}
}

function startEvent(callId: string, tracks: Track[] = ['caller']): CallStartEvent {
  return {
    kind: 'start',
    callId,
    streamId: `MZ-${callId}`,
    agentId: 'agent-1',
    language: 'en-US',
    tracks,
    format: { encoding: 'pcmu', sampleRate: 8000 },
    metadata: {},
    source: 'twilio',
  };
}

describe('CallSession (real decoder, features, model, policy)', () => {
  let model: EmotionModel;
  let angry: Uint8Array;
  let calm: Uint8Array;

  beforeAll(async () => {
    model = await loadTestModel();
    angry = await loadFixtureMuLaw('calm-then-angry');
    calm = await loadFixtureMuLaw('stays-calm');
  });

  function makeSession(callId: string, opts: { publisher?: EventPublisher; model?: EmotionModel; session?: CallSessionOptions } = {}) {
    const { logger, lines } = captureLogger();
    const publisher = opts.publisher ?? new RecordingPublisher();
    const pipeline: CallPipeline = createCallPipeline({
      model: opts.model ?? model,
      policyFactory: createEscalationPolicy(),
      publisher,
    });
    const log = callLogger(logger, { callId, streamId: `MZ-${callId}`, source: 'twilio' });
    const session = new CallSession(startEvent(callId, ['caller', 'agent']), pipeline, log, opts.session);
    return { session, publisher, lines };
  }

  function feed(session: CallSession, bytes: Uint8Array, size = 160, track: Track = 'caller'): void {
    for (const payload of chunks(bytes, size)) session.acceptAudio({ kind: 'audio', callId: session.callId, track, payload });
  }

  it('keeps the newest maxTimeline windows for the API, exactly as the observer saw them, and counts the rest', async () => {
    const seen: ScoredWindow[] = [];
    const { logger } = captureLogger();
    const pipeline: CallPipeline = createCallPipeline({
      model,
      policyFactory: createEscalationPolicy(),
      publisher: new RecordingPublisher(),
      observer: { callStarted() {}, windowScored: (_c, w) => void seen.push(structuredClone(w)), policyEvent() {}, callEnded() {} },
    });
    const session = new CallSession(startEvent('CA-timeline'), pipeline, callLogger(logger, { callId: 'CA-timeline' }), { maxTimeline: 7 });
    feed(session, angry);
    await session.finish('hangup');
    const d = session.detail();
    expect(seen.length).toBeGreaterThan(20);
    expect(d.timeline).toEqual(seen.slice(-7));
    expect(d.timelineDropped).toBe(seen.length - 7);
    expect(d.latestScores).toEqual(seen.at(-1)!.scores);
  });

  it('scores an angry call on its audio clock and publishes prompt and priority events in order', async () => {
    const { session, publisher } = makeSession('CA-angry');
    feed(session, angry);
    // Audio time is the caller samples seen: exact, whatever the wall clock did.
    expect(session.audioMs).toBe(Math.round((angry.length * 1000) / 8000));
    await session.finish('hangup');

    const detail = session.detail();
    expect(detail.state).toBe('ended');
    expect(detail.endReason).toBe('hangup');
    expect(detail.timeline.length).toBeGreaterThan(10);
    for (let i = 1; i < detail.timeline.length; i++) {
      expect(detail.timeline[i]!.endMs).toBeGreaterThan(detail.timeline[i - 1]!.endMs);
      expect(detail.timeline[i]!.startMs).toBeLessThan(detail.timeline[i]!.endMs);
    }
    expect(detail.timeline.at(-1)!.endMs).toBeLessThanOrEqual(detail.audioMs);
    for (const w of detail.timeline) {
      const s = w.scores;
      expect(s.neutral + s.anger + s.happiness + s.sadness).toBeCloseTo(1, 4);
    }
    expect(detail.latestScores).toEqual(detail.timeline.at(-1)!.scores);

    const rec = publisher as RecordingPublisher;
    const types = rec.published.map((p) => p.event.type);
    expect(types).toContain('prompt');
    expect(types).toContain('priority');
    expect(rec.published.map((p) => p.event.seq)).toEqual(rec.published.map((_, i) => i + 1));
    expect(rec.published.every((p) => p.ctx.agentId === 'agent-1' && p.event.callId === 'CA-angry')).toBe(true);
    expect(detail.events).toEqual(rec.published.map((p) => p.event));
    expect(detail.tier).toBe(rec.published.at(-1)!.event.tier);
    expect(detail.tier).toBeGreaterThan(1);
    // Sent all at once (a replay): decided after the stop, yet not late.
    expect(rec.published.every((p) => p.ctx.streamEndedAt === undefined)).toBe(true);
  });

  it('marks the events it decides after a real-time stream has ended (the instance was behind), and only those', async () => {
    // A wall clock under the test's control: each 20-ms message arrives 20 ms after the one before, as from a gateway.
    let clockMs = performance.now();
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    const stream = (session: CallSession): void => {
      for (const payload of chunks(angry, 160)) {
        session.acceptAudio({ kind: 'audio', callId: session.callId, track: 'caller', payload });
        clockMs += 20;
      }
    };
    try {
      // Behind: the gateway stops while the call's windows still wait to be scored.
      const behind = makeSession('CA-behind');
      stream(behind.session);
      expect(behind.session.pendingWindows).toBeGreaterThan(0);
      const stoppedAt = Date.now();
      await behind.session.finish('hangup');
      const late = (behind.publisher as RecordingPublisher).published;
      expect(late.map((p) => p.event.type)).toContain('prompt');
      const endedAt = late[0]!.ctx.streamEndedAt;
      expect(Date.parse(endedAt!)).toBeGreaterThanOrEqual(stoppedAt - 1);
      expect(Date.parse(endedAt!)).toBeLessThanOrEqual(Date.now());
      expect(late.every((p) => p.ctx.streamEndedAt === endedAt)).toBe(true);
      const warned = behind.lines.filter((l) => l.level === LEVEL.warn && l.msg.includes('decided after the stream ended'));
      expect(warned).toHaveLength(late.length);

      // Keeping up: the same call, every window decided before the stop.
      const keepingUp = makeSession('CA-keeping-up');
      stream(keepingUp.session);
      for (let i = 0; i < 500 && keepingUp.session.pendingWindows > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(keepingUp.session.pendingWindows).toBe(0);
      await keepingUp.session.finish('hangup');
      const live = (keepingUp.publisher as RecordingPublisher).published;
      expect(live.map((p) => p.event)).toEqual(late.map((p) => ({ ...p.event, callId: 'CA-keeping-up' })));
      expect(live.every((p) => p.ctx.streamEndedAt === undefined)).toBe(true);

      // Behind, but ended by this instance (shutdown): the caller is still on the line, so nothing is marked.
      const drained = makeSession('CA-drained');
      stream(drained.session);
      expect(drained.session.pendingWindows).toBeGreaterThan(0);
      await drained.session.finish('shutdown');
      const flushed = (drained.publisher as RecordingPublisher).published;
      expect(flushed.map((p) => p.event.type)).toContain('prompt');
      expect(flushed.every((p) => p.ctx.streamEndedAt === undefined)).toBe(true);
      expect(drained.session.streamEndedAt).toBeUndefined();
      expect(behind.session.streamEndedAt).toBe(endedAt);
    } finally {
      spy.mockRestore();
    }
  });

  it('counts only the synchronous part of a publish in the publish stage, not the wait for Redis', async () => {
    // A publisher whose add takes 40 ms to be acknowledged (a Redis round trip behind a busy event loop).
    const waitMs = 40;
    const published: number[] = [];
    const slow: EventPublisher = {
      publish: (event) => new Promise<void>((resolve) => setTimeout(() => {
        published.push(event.seq);
        resolve();
      }, waitMs)),
      close: async () => {},
    };
    const clock = new StageClock();
    const { logger } = captureLogger();
    const pipeline: CallPipeline = createCallPipeline({ model, policyFactory: createEscalationPolicy(), publisher: slow, clock });
    const session = new CallSession(startEvent('CA-slow-publish'), pipeline, callLogger(logger, { callId: 'CA-slow-publish' }));
    feed(session, angry);
    await session.finish('hangup');
    // Still awaited one by one: every event delivered, in order, before the call ends.
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(published).toEqual(published.map((_, i) => i + 1));
    expect(session.detail().events.map((e) => e.seq)).toEqual(published);
    // Timing across the await would count at least waitMs per event.
    expect(clock.ms[Stage.publish]!).toBeLessThan((published.length * waitMs) / 4);
  });

  it('gives the same windows and events however the audio is chunked (audio time, not wall-clock)', async () => {
    const a = makeSession('CA-chunk-a');
    feed(a.session, angry, 160);
    await a.session.finish('hangup');
    const b = makeSession('CA-chunk-b');
    // Uneven chunks, as a gateway with jitter might deliver them.
    let offset = 0;
    let n = 0;
    while (offset < angry.length) {
      const size = [1, 77, 160, 4000, 333][n++ % 5]!;
      b.session.acceptAudio({ kind: 'audio', callId: 'CA-chunk-b', track: 'caller', payload: angry.subarray(offset, offset + size) });
      offset += size;
    }
    await b.session.finish('hangup');
    const da = a.session.detail();
    const db = b.session.detail();
    expect(db.timeline.map((w) => [w.startMs, w.endMs])).toEqual(da.timeline.map((w) => [w.startMs, w.endMs]));
    for (let i = 0; i < da.timeline.length; i++) {
      expect(db.timeline[i]!.scores.agitation).toBeCloseTo(da.timeline[i]!.scores.agitation, 5);
    }
    const strip = (e: PolicyEvent) => ({ ...e, callId: '' });
    expect(db.events.map(strip)).toEqual(da.events.map(strip));
  });

  it('counts the agent track without scoring it', async () => {
    const { session } = makeSession('CA-agent');
    feed(session, angry.subarray(0, 8000 * 5), 160, 'agent');
    await session.finish('hangup');
    const d = session.detail();
    expect(d.agentAudioMs).toBe(5000);
    expect(d.audioMs).toBe(0);
    expect(d.timeline).toEqual([]);
    expect(d.events).toEqual([]);
  });

  it('flushes every queued window before it reports the call ended', async () => {
    const { session } = makeSession('CA-flush');
    feed(session, calm);
    // Scoring is async: right after a synchronous feed, windows are still queued.
    expect(session.pendingWindows).toBeGreaterThan(0);
    const before = session.detail().timeline.length;
    const finishing = session.finish('disconnect');
    expect(session.currentState).toBe('finishing');
    // Audio after stop is not taken.
    feed(session, calm.subarray(0, 1600));
    await finishing;
    expect(session.pendingWindows).toBe(0);
    expect(session.currentState).toBe('ended');
    const d = session.detail();
    expect(d.timeline.length).toBeGreaterThan(before);
    expect(d.audioMs).toBe(Math.round((calm.length * 1000) / 8000));
    expect(d.endReason).toBe('disconnect');
    await expect(session.ended).resolves.toBeUndefined();
  });

  it('re-centres the emotion mix on the caller\'s own earlier windows; agitation stays as scored', async () => {
    const raw: EmotionScores[] = [];
    const recording: EmotionModel = {
      featureNames: model.featureNames,
      version: model.version,
      ...(model.callerScoreBaseline ? { callerScoreBaseline: model.callerScoreBaseline } : {}),
      score: async (batch) => {
        const out = await model.score(batch);
        raw.push(...out);
        return out;
      },
      close: async () => {},
    };
    expect(recording.callerScoreBaseline).toBeDefined();
    const { session } = makeSession('CA-relative', { model: recording });
    feed(session, angry);
    await session.finish('hangup');
    const timeline = session.detail().timeline;
    expect(timeline).toHaveLength(raw.length);
    const expected = createCallerScoreBaseline(model.callerScoreBaseline);
    timeline.forEach((w, i) => {
      const want = expected.apply(raw[i]!);
      expect(w.scores.agitation).toBe(raw[i]!.agitation);
      expect(w.scores.arousal).toBeCloseTo(want.arousal, 9);
      expect(w.scores.anger).toBeCloseTo(want.anger, 9);
      expect(w.scores.angerVsRest!).toBeCloseTo(want.angerVsRest!, 9);
    });
    // The first window is judged as it is; later ones move with the caller's norm.
    expect(timeline[0]!.scores.neutral).toBeCloseTo(raw[0]!.neutral, 6);
    expect(timeline.some((w, i) => Math.abs(w.scores.neutral - raw[i]!.neutral) > 0.01)).toBe(true);
  });

  it('feeds the policy the per-call tracked agitation when the model card carries a tracker prior', async () => {
    const raw: EmotionScores[] = [];
    const spec = { calmLogit: -1.5 };
    const tracked: EmotionModel = {
      featureNames: model.featureNames,
      version: model.version,
      ...(model.callerScoreBaseline ? { callerScoreBaseline: model.callerScoreBaseline } : {}),
      agitationTracker: spec,
      score: async (batch) => {
        const out = await model.score(batch);
        raw.push(...out);
        return out;
      },
      close: async () => {},
    };
    const { session } = makeSession('CA-tracked', { model: tracked });
    feed(session, angry);
    await session.finish('hangup');
    const timeline = session.detail().timeline;
    expect(timeline).toHaveLength(raw.length);
    const baseline = createCallerScoreBaseline(model.callerScoreBaseline);
    const tracker = createAgitationTracker(spec);
    timeline.forEach((w, i) => {
      const want = tracker.apply(baseline.apply(raw[i]!));
      expect(w.scores.absoluteAgitation).toBe(raw[i]!.agitation);
      expect(w.scores.agitation).toBeCloseTo(want.agitation, 12);
      // max(absolute path, relative): never below the head shifted by the absolute offset.
      const p = raw[i]!.agitation;
      const shifted = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) - DEFAULT_AGITATION_TRACKER.absoluteOffset)));
      expect(w.scores.agitation).toBeGreaterThanOrEqual(shifted - 1e-9);
    });
  });

  it('reports backlog over the bound, pauses intake, and still scores every window', async () => {
    // The real model behind a gate: scoring resolves only when the test opens it.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const gated: EmotionModel = {
      featureNames: model.featureNames,
      version: model.version,
      score: async (batch) => {
        await gate;
        return model.score(batch);
      },
      close: async () => {},
    };
    const signals: boolean[] = [];
    const { session, lines } = makeSession('CA-backlog', {
      model: gated,
      session: { maxPendingWindows: 3, onBacklog: (over) => signals.push(over) },
    });
    feed(session, angry);
    const queued = session.pendingWindows;
    expect(queued).toBeGreaterThan(3);
    expect(signals).toEqual([true]);
    const warn = lines.find((l) => l.level === LEVEL.warn && l.msg.includes('backlog'));
    expect(warn).toMatchObject({ callId: 'CA-backlog', maxPendingWindows: 3 });
    expect(warn!['pendingWindows']).toBeGreaterThan(3);
    open();
    await session.finish('hangup');
    expect(signals).toEqual([true, false]);
    // Nothing accepted was dropped: every extracted window was scored.
    const ungated = makeSession('CA-backlog-ref');
    feed(ungated.session, angry);
    await ungated.session.finish('hangup');
    expect(session.detail().timeline.length).toBe(ungated.session.detail().timeline.length);
    expect(session.detail().timeline.length).toBe(queued);
  });

  it('ends only its own call when publishing fails, logging the error with the callId', async () => {
    const failing: EventPublisher = {
      publish: async () => {
        throw new Error('redis exploded');
      },
      close: async () => {},
    };
    const fatal: unknown[] = [];
    const bad = makeSession('CA-bad', { publisher: failing, session: { onFatal: (e) => fatal.push(e) } });
    const good = makeSession('CA-good');
    feed(bad.session, angry);
    feed(good.session, angry);
    await bad.session.ended;
    await good.session.finish('hangup');
    expect(fatal).toHaveLength(1);
    expect(bad.session.detail()).toMatchObject({ state: 'ended', endReason: 'error', events: [] });
    expect(bad.session.pendingWindows).toBe(0);
    const err = bad.lines.find((l) => l.level === LEVEL.error);
    expect(err).toMatchObject({ callId: 'CA-bad', streamId: 'MZ-CA-bad', source: 'twilio' });
    expect(JSON.stringify(err)).toContain('redis exploded');
    expect(good.session.detail()).toMatchObject({ state: 'ended', endReason: 'hangup' });
    expect(good.session.detail().events.length).toBeGreaterThan(0);
  });
});
