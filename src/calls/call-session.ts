/**
 * One live call: owns its state and pushes caller audio through the stages —
 * the DSP engine (decode → CallerFeatureStream → EmotionModel.score, on this
 * thread or on the worker thread the call is pinned to) →
 * CallerScoreBaseline.apply → AgitationTracker.apply →
 * EscalationPolicy.observe → EventPublisher.publish.
 *
 * The engine hands back the call's scored windows in audio order; they go
 * through one serial promise chain per session (`tail`): windows are
 * observed and published strictly in audio order, and a publish finishes
 * before the next window's events are decided.
 *
 * Backpressure: windows not yet through the chain are counted — the
 * engine's (extracted and awaiting scores, or audio in flight to a worker,
 * as the window ends it crosses) and the chain's. Above `maxPendingWindows`
 * the session logs a warning (with callId) and calls `onBacklog(true)`; the
 * socket handler then pauses reading that socket, so TCP pushes back on the
 * gateway. Below half the bound it calls `onBacklog(false)` and reading
 * resumes. Accepted audio is never dropped: every window that was extracted
 * is scored, however late, unless the overloaded instance sheds the call
 * (`shed`: it ends by `overload`, its stream closed with 1013, the audio not
 * yet scored discarded and counted in its log line).
 *
 * Timing is audio time: positions come from caller samples seen, never from
 * the wall clock, so a call replayed at any speed gives the same events.
 */
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import { nextWindowEnd, type DspCall, type DspWindow } from '../dsp/dsp-engine.js';
import type { CallAudioEvent, CallStartEvent } from '../ingest/call-event.js';
import type { EmotionScores, ScoredWindow } from '../model/types.js';
import { createCallerScoreBaseline, type CallerScoreBaseline } from '../model/caller-score-baseline.js';
import { createAgitationTracker, type AgitationTracker } from '../model/agitation-tracker.js';
import type { EscalationPolicy } from '../policy/escalation-policy.js';
import type { PolicyEvent, TierTimes } from '../policy/types.js';
import type { Logger } from '../shared/logger.js';
import type { CallDetail, CallEndReason, CallState, CallSummary } from './call-views.js';
import type { CallPipeline } from './call-pipeline.js';
import { PostCallTracker, type PostCallSummary, type PromptFeedback } from './post-call-summary.js';
import { routingJobId } from '../queue/job-schema.js';
import { Stage } from '../observability/stage-clock.js';
import { ScoreTimeline } from './score-timeline.js';

export interface CallSessionOptions {
  /** Feature windows waiting to be scored and decided (or audio in flight that many window ends long) before the session reports backlog (default 64, ≈ 30 s of speech). */
  maxPendingWindows?: number;
  /** Scored windows kept for the API, newest first to go (default 1200). */
  maxTimeline?: number;
  /** Policy events kept for the API (default 500). */
  maxEvents?: number;
  /** Called with true when the backlog crosses the bound, false once it drains below half. */
  onBacklog?: (over: boolean) => void;
  /** Called once when an error inside the call ends it (the socket handler closes with 1011). */
  onFatal?: (error: unknown) => void;
}

const DEFAULTS = { maxPendingWindows: 64, maxTimeline: 1200, maxEvents: 500 };

/** Audio this far ahead of the wall time since the call's first audio: the stream is not real time, and is not read-paced. */
const READ_AHEAD_SLACK_MS = 250;

function samplesToMs(samples: number, sampleRate: number): number {
  return Math.round((samples * 1000) / sampleRate);
}

export class CallSession {
  readonly callId: string;
  readonly streamId: string;
  /** Agent whose softphone gets this call's prompts; reassignable (`assignAgent`) for transfers. */
  agentId: string | undefined;
  readonly language: string | undefined;
  readonly source: string;
  readonly startedAt: Date;
  readonly log: Logger;

  private readonly pipeline: CallPipeline;
  private readonly policy: EscalationPolicy;
  private readonly dsp: DspCall;
  private readonly callerScores: CallerScoreBaseline;
  private readonly agitation: AgitationTracker;
  private readonly bytesPerSample: number;
  private readonly wireRate: number;
  private readonly opts: Required<Omit<CallSessionOptions, 'onBacklog' | 'onFatal'>>;
  private readonly onBacklog: ((over: boolean) => void) | undefined;
  private readonly onFatal: ((error: unknown) => void) | undefined;

  private state: CallState = 'live';
  /**
   * When the gateway ended the stream (`finish` by hangup or disconnect),
   * ISO-8601, for a stream at about real time: events decided after it (the
   * instance was behind on the audio) carry it, so that the agent never takes
   * them as live once the caller has gone. Unset for a stream sent ahead of
   * real time (a replay), whose events are all decided after its audio and are
   * not late, and for a stream this instance ends itself (shutdown): its
   * caller is still talking to the agent.
   */
  private stoppedAt: string | undefined;
  private endedAt: Date | undefined;
  private endReason: CallEndReason | undefined;
  private finishing: Promise<void> | undefined;
  private resolveEnded!: () => void;
  /** Resolves once the call has ended (after its chain flushed), whatever ended it. */
  readonly ended: Promise<void> = new Promise<void>((resolve) => {
    this.resolveEnded = resolve;
  });
  private failed = false;
  /** Shed to relieve an overloaded instance: nothing more is scored. */
  private dropping = false;

  /** The one serial chain; never rejects (each step catches). */
  private tail: Promise<void> = Promise.resolve();
  /** Scored windows not yet taken by a chain step; a step takes them all (a batch). */
  private queued: DspWindow[] = [];
  /** Scored windows handed to the chain and not yet fully processed. */
  private pending = 0;
  private backlogged = false;

  /**
   * min over caller messages of (arrival wall ms − audio ms at the message's
   * end): the wall time at which audio time 0 would have arrived on a
   * stream never held up. A window ending at audio ms t "arrived" at
   * anchor + t; its lag is how long after that it was scored. Jitter only
   * ever lowers the anchor, so a backlog shows as lag and is never absorbed.
   */
  private lagAnchorMs = Number.POSITIVE_INFINITY;
  /** When the call's first caller audio arrived (`performance.now()`); NaN before. */
  private firstAudioAtMs = Number.NaN;
  private agentSamples = 0;
  private dtmfDigits = 0;
  private ignoredAfterEndBytes = 0;
  /** Scored windows for the API, as numbers (score-timeline.ts: ~80 bytes a window, not ~250 as objects). */
  private readonly timeline: ScoreTimeline;
  private readonly events: PolicyEvent[] = [];
  private eventsDropped = 0;
  private latestScores: EmotionScores | null = null;
  /** Peak/mean agitation, time at tier, prompts and their acks, for the post-call summary. */
  private readonly postCall = new PostCallTracker();

  constructor(start: CallStartEvent, pipeline: CallPipeline, log: Logger, options: CallSessionOptions = {}) {
    this.callId = start.callId;
    this.streamId = start.streamId;
    this.agentId = start.agentId;
    this.language = start.language;
    this.source = start.source;
    this.startedAt = new Date();
    this.log = log;
    this.pipeline = pipeline;
    this.opts = {
      maxPendingWindows: options.maxPendingWindows ?? DEFAULTS.maxPendingWindows,
      maxTimeline: options.maxTimeline ?? DEFAULTS.maxTimeline,
      maxEvents: options.maxEvents ?? DEFAULTS.maxEvents,
    };
    this.timeline = new ScoreTimeline(this.opts.maxTimeline);
    this.onBacklog = options.onBacklog;
    this.onFatal = options.onFatal;
    this.wireRate = start.format.sampleRate;
    this.bytesPerSample = start.format.encoding === 'l16' ? 2 : 1;
    this.dsp = pipeline.dsp.open(
      { callId: start.callId, format: start.format, ...(pipeline.clock ? { clock: pipeline.clock } : {}) },
      { onScored: (windows) => this.onScored(windows), onError: (error, what) => this.fail(error, what) },
    );
    this.callerScores = createCallerScoreBaseline(pipeline.model.callerScoreBaseline);
    this.agitation = createAgitationTracker(pipeline.model.agitationTracker);
    this.policy = pipeline.policyFactory({ callId: start.callId, language: start.language, agentId: start.agentId, metadata: start.metadata });
    pipeline.observer?.callStarted(this, start.metadata);
    // Start-of-call events (a valued customer's raised priority) go first on the chain.
    this.tail = this.tail.then(() => this.publishEvents(this.policy.start(), 'publishing start-of-call events failed'));
  }

  /**
   * The gateway reports a voicebot/IVR turn (`POST /v1/calls/:callId/bot-turns`).
   * Decided on the chain, in order with the scored windows, at the caller
   * audio position reached when the report arrives.
   */
  reportBotTurn(resolved: boolean): Promise<void> {
    if (this.state !== 'live') return Promise.resolve();
    const audioMs = this.audioMs;
    this.tail = this.tail.then(() => this.publishEvents(this.policy.botTurn(resolved, audioMs), 'publishing bot-turn events failed'));
    return this.tail;
  }

  private async publishEvents(events: PolicyEvent[], what: string): Promise<void> {
    if (this.failed) return;
    try {
      for (const event of events) {
        await this.pipeline.publisher.publish(event, { agentId: this.agentId, streamId: this.streamId });
        this.recordEvent(event);
        this.pipeline.observer?.policyEvent(this, event);
      }
    } catch (error) {
      this.fail(error, what);
    }
  }

  /** `live` while audio is accepted, `finishing` while the chain flushes, then `ended`. */
  get currentState(): CallState {
    return this.state;
  }

  /** Caller audio seen so far, ms: the call's clock. */
  get audioMs(): number {
    return samplesToMs(this.dsp.samplesSeen, PIPELINE_SAMPLE_RATE);
  }

  /**
   * When the frame that completes the call's next window is due to arrive
   * (`performance.now()` ms): the call's lag anchor (its earliest arrival
   * against its audio clock) plus the window end's audio time. The frame a
   * prompt can come from, so the gateway socket's read pacing reads it as it
   * arrives. Undefined before the call's first audio, once it no longer takes
   * audio, and while its audio runs ahead of the wall time since its first
   * (a replay, a file sent at once: read as fast as it comes).
   */
  get nextWindowEndDueMs(): number | undefined {
    if (this.state !== 'live' || this.failed || !Number.isFinite(this.lagAnchorMs)) return undefined;
    if (this.runsAheadOfRealTime()) return undefined;
    return this.lagAnchorMs + (nextWindowEnd(this.dsp.samplesSeen) * 1000) / PIPELINE_SAMPLE_RATE;
  }

  /** When the gateway ended this stream, ISO-8601, if it streamed at about real time: events from then on come after the call (undefined before, and for a replay). */
  get streamEndedAt(): string | undefined {
    return this.stoppedAt;
  }

  /** The caller audio taken runs ahead of the wall time since its first message (a replay, a file sent at once). */
  private runsAheadOfRealTime(): boolean {
    const seenMs = (this.dsp.samplesSeen * 1000) / PIPELINE_SAMPLE_RATE;
    return seenMs - (performance.now() - this.firstAudioAtMs) > READ_AHEAD_SLACK_MS;
  }

  /** Windows not yet fully processed (scored, observed, published), counting audio in flight to a worker by its window ends. */
  get pendingWindows(): number {
    return this.failed || this.dropping ? 0 : this.pending + this.dsp.pendingWindows;
  }

  /**
   * Takes one audio message. Caller audio goes to the DSP engine now; the
   * windows it completes come back scored and are decided on the chain.
   * Agent audio is counted only.
   * Audio after the call stopped is ignored (it cannot change a finished call).
   */
  acceptAudio(event: CallAudioEvent): void {
    if (this.state !== 'live') {
      // Only possible for messages already in flight when the call ended
      // (shutdown, or an error in this call): say so once, never silently.
      if (this.ignoredAfterEndBytes === 0) this.log.info({ state: this.state }, 'audio after the call ended is not scored');
      this.ignoredAfterEndBytes += event.payload.length;
      return;
    }
    if (event.track === 'agent') {
      this.agentSamples += Math.floor(event.payload.length / this.bytesPerSample);
      return;
    }
    if (this.failed) return;
    this.dsp.push(event.payload);
    const now = performance.now();
    if (Number.isNaN(this.firstAudioAtMs)) this.firstAudioAtMs = now;
    const anchor = now - samplesToMs(this.dsp.samplesSeen, PIPELINE_SAMPLE_RATE);
    if (anchor < this.lagAnchorMs) this.lagAnchorMs = anchor;
    this.checkBacklog();
  }

  /** The engine's scored windows, in audio order: decided on the chain. */
  private onScored(windows: DspWindow[]): void {
    if (this.failed || this.dropping) return;
    if (windows.length > 0) {
      for (const w of windows) this.queued.push(w);
      this.pending += windows.length;
      this.tail = this.tail.then(() => this.processQueued());
    }
    this.checkBacklog();
  }

  /** Reassigns the call's agent (transfer, or a gateway that could not name one): later events go to `agentId`. */
  assignAgent(agentId: string): void {
    const previous = this.agentId;
    this.agentId = agentId;
    // A voicebot call that reaches a human moves onto the agent ladder.
    this.policy.setAgent(agentId);
    this.pipeline.observer?.agentChanged?.(this, agentId);
    this.log.info({ agentId, previousAgentId: previous }, 'call agent reassigned');
  }

  /** The policy's tier now (1 = routine). */
  get tier(): number {
    return this.policy.tier;
  }

  /** The policy's smoothed agitation now (0–1; 0 before the first scored window). */
  get smoothedAgitation(): number {
    return this.policy.smoothedAgitation;
  }

  /**
   * Stops scoring this call to relieve an overloaded instance (the load
   * shedder, src/calls/load-shedder.ts): audio not yet scored is discarded,
   * so that its CPU goes to the calls kept; the call ends with reason
   * `overload`, and `onFatal(error)` closes its stream (1013). Events already
   * decided stay published. False (nothing done) unless the call is live.
   */
  shed(error: Error): boolean {
    if (this.state !== 'live' || this.failed) return false;
    const discardedWindows = this.pendingWindows;
    this.dropping = true;
    this.queued = [];
    this.dsp.abort();
    this.log.warn(
      { audioMs: this.audioMs, discardedWindows, tier: this.policy.tier, reason: error.message },
      'call shed: the instance cannot score all its calls in time; this call is no longer monitored',
    );
    void this.finish('overload');
    this.onFatal?.(error);
    return true;
  }

  /** Counts a keypad digit (kept for the API; the policy does not use it yet). */
  acceptDtmf(digit: string): void {
    if (this.state !== 'live') return;
    this.dtmfDigits += 1;
    this.log.debug({ digit }, 'dtmf');
  }

  /**
   * Ends the call: stops taking audio, waits for every queued window to be
   * scored and its events published, then marks the call ended. Idempotent:
   * later calls return the same promise (the first reason wins).
   */
  finish(reason: CallEndReason): Promise<void> {
    if (this.finishing) return this.finishing;
    this.state = 'finishing';
    const gatewayEnded = reason === 'hangup' || reason === 'disconnect';
    if (gatewayEnded && Number.isFinite(this.firstAudioAtMs) && !this.runsAheadOfRealTime()) this.stoppedAt = new Date().toISOString();
    // Everything pushed comes back scored first (each batch goes on the chain as it arrives), then the chain drains.
    this.finishing = this.dsp.finish().then(() => this.tail).then(async () => {
      this.endedAt = new Date();
      this.endReason = this.failed ? 'error' : reason;
      // Kept and published before the call shows as ended, so a reader after the end finds it.
      await this.pipeline.postCall?.callEnded(this.postCallSummary(), { seq: this.postCall.lastEventSeq + 1, streamId: this.streamId }, this.log);
      this.state = 'ended';
      this.pipeline.observer?.callEnded(this, this.endReason, this.audioMs);
      this.log.info(
        { reason: this.endReason, audioMs: this.audioMs, ignoredAfterEndBytes: this.ignoredAfterEndBytes, windows: this.timeline.length + this.timeline.dropped, events: this.events.length + this.eventsDropped, tier: this.policy.tier },
        'call ended',
      );
      this.resolveEnded();
    });
    return this.finishing;
  }

  /** One chain step: observe and publish everything queued, in order. */
  private async processQueued(): Promise<void> {
    const batch = this.queued;
    if (batch.length === 0 || this.failed || this.dropping) {
      this.pending -= batch.length;
      this.queued = [];
      return;
    }
    this.queued = [];
    const clock = this.pipeline.clock;
    try {
      for (let i = 0; i < batch.length; i++) {
        const w = batch[i]!;
        const p0 = performance.now();
        const s = this.agitation.apply(this.callerScores.apply(w.scores));
        const endMs = samplesToMs(w.endSample, PIPELINE_SAMPLE_RATE);
        const scored: ScoredWindow = { startMs: samplesToMs(w.startSample, PIPELINE_SAMPLE_RATE), endMs, scores: s };
        this.record(scored);
        const decided = this.policy.observe(s, endMs);
        const p1 = performance.now();
        clock?.add(Stage.policy, p1 - p0);
        this.pipeline.onWindowLag?.(p1 - (this.lagAnchorMs + endMs));
        // A window's events are handed over together, in seq order, before any is awaited: local agent
        // delivery (local-agent-delivery.ts) sends each as it is handed over, so a prompt decided with a
        // priority change does not wait for that change's Redis round trip. Adds on one connection reach
        // Redis in order; the resilient publisher never rejects, so no later event outruns a failure.
        const published: Promise<void>[] = [];
        for (const event of decided) {
          const e0 = performance.now();
          const p = this.pipeline.publisher.publish(event, {
            agentId: this.agentId,
            streamId: this.streamId,
            ...(this.stoppedAt !== undefined ? { streamEndedAt: this.stoppedAt } : {}),
          });
          p.catch(() => undefined); // awaited below, in order; this only keeps a later rejection from counting as unhandled
          published.push(p);
          // The stage is CPU: only the synchronous part (job data, validation, handing the add to BullMQ).
          // Timing across the await counted the Redis round trip and every other call's work the event
          // loop ran meanwhile, so under load it grew to ~16 ms "per event" while BullMQ's whole CPU
          // (add and worker) stays well under 1 ms per event; the wait shows as decided → delivered.
          clock?.add(Stage.publish, performance.now() - e0);
        }
        for (let j = 0; j < decided.length; j++) {
          await published[j];
          const event = decided[j]!;
          this.recordEvent(event);
          this.pipeline.observer?.policyEvent(this, event);
        }
        this.pipeline.observer?.windowScored(this, scored, this.policy.tier, this.policy.smoothedAgitation);
        this.postCall.observeAgitation(this.policy.smoothedAgitation);
        this.pending -= 1;
      }
    } catch (error) {
      this.fail(error, 'publishing failed');
    } finally {
      // A failed call scores nothing more: nothing is pending any longer.
      if (this.failed) this.pending = 0;
      this.checkBacklog();
    }
  }

  private record(window: ScoredWindow): void {
    this.latestScores = window.scores;
    this.timeline.push(window);
  }

  private recordEvent(event: PolicyEvent): void {
    if (this.stoppedAt === undefined) this.log.info({ type: event.type, tier: event.tier, seq: event.seq, audioMs: event.audioMs }, 'policy event published');
    else
      this.log.warn(
        { type: event.type, tier: event.tier, seq: event.seq, audioMs: event.audioMs, streamEndedAt: this.stoppedAt },
        'policy event decided after the stream ended (the instance was behind): published for the record, marked stale',
      );
    // The prompt's id is its job id: what the agent sees and acks.
    this.postCall.observeEvent(event, event.type === 'prompt' ? routingJobId(this.callId, event.seq, 'prompt', this.streamId) : undefined);
    this.events.push(event);
    if (this.events.length > this.opts.maxEvents) {
      this.events.shift();
      this.eventsDropped += 1;
    }
  }

  private checkBacklog(): void {
    const max = this.opts.maxPendingWindows;
    const pending = this.pendingWindows;
    if (!this.backlogged && pending > max) {
      this.backlogged = true;
      this.log.warn({ pendingWindows: pending, maxPendingWindows: max }, 'scoring backlog over bound; pausing intake (no audio dropped)');
      this.onBacklog?.(true);
    } else if (this.backlogged && pending <= max / 2) {
      this.backlogged = false;
      this.log.info({ pendingWindows: pending }, 'scoring backlog drained; resuming intake');
      this.onBacklog?.(false);
    }
  }

  /** An error inside this call: log it on the call's logger and end this call only. */
  private fail(error: unknown, what: string): void {
    if (this.failed) return;
    this.failed = true;
    this.queued = [];
    this.dsp.abort();
    this.log.error({ err: error }, `call failed: ${what}`);
    void this.finish('error');
    this.onFatal?.(error);
  }

  /** Records the agent's ack of one of this call's prompts; false when the call sent no such prompt. */
  recordPromptFeedback(promptId: string, action: PromptFeedback): boolean {
    return this.postCall.recordFeedback(promptId, action);
  }

  /** Whether this call sent the prompt with that id. */
  hasPrompt(promptId: string): boolean {
    return this.postCall.hasPrompt(promptId);
  }

  /** The post-call summary as of now (final once the call has ended). */
  postCallSummary(): PostCallSummary {
    return this.postCall.build({
      callId: this.callId,
      streamId: this.streamId,
      agentId: this.agentId ?? null,
      source: this.source,
      language: this.language ?? null,
      startedAt: this.startedAt,
      endedAt: this.endedAt ?? new Date(),
      endReason: this.endReason ?? 'hangup',
      audioMs: this.audioMs,
    });
  }

  /** Caller audio time at each tier from the start of the call until now, ms. */
  msAtTier(): TierTimes {
    return this.policy.msAtTier(this.audioMs);
  }

  summary(): CallSummary {
    return {
      callId: this.callId,
      streamId: this.streamId,
      agentId: this.agentId ?? null,
      source: this.source,
      language: this.language ?? null,
      state: this.state,
      tier: this.policy.tier,
      startedAt: this.startedAt.toISOString(),
      audioMs: this.audioMs,
      latestScores: this.latestScores,
      agitation: this.policy.smoothedAgitation,
    };
  }

  detail(): CallDetail {
    return {
      ...this.summary(),
      endedAt: this.endedAt?.toISOString() ?? null,
      endReason: this.endReason ?? null,
      agentAudioMs: samplesToMs(this.agentSamples, this.wireRate),
      dtmfDigits: this.dtmfDigits,
      timeline: this.timeline.windows(),
      timelineDropped: this.timeline.dropped,
      events: this.events.slice(),
      eventsDropped: this.eventsDropped,
    };
  }
}
