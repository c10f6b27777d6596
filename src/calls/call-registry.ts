/**
 * Live calls, keyed by callId, and a bounded history of finished ones for the
 * API. The registry creates sessions, refuses what it cannot take, and moves
 * a session to the history once its chain has flushed.
 *
 * A second stream for a callId that is still live (or still flushing) is
 * rejected with 1008 (`UT_ERR_CALL_ALREADY_LIVE`): two streams feeding one
 * session would interleave two audio clocks. A new stream for a callId that
 * has already ended starts a fresh session, which replaces the history entry.
 *
 * Admission: `maxCalls` bounds the live calls; `admission` (the overload
 * guard, src/calls/overload-guard.ts, and the load shedder's limit) may
 * refuse a start while the instance cannot keep up. Both refuse with 1013.
 * Past capacity `shed` closes some live calls (1013) so that the rest are
 * scored in time (src/calls/load-shedder.ts).
 *
 * Window lag: each session gets the pipeline with an `onWindowLag` of its
 * own, which passes every figure on to the shared one (the metrics) and, for
 * calls streaming at about real time, to `onCallLag` (the overload guard),
 * and logs one warn line (with the callId) the first time such a call's lag
 * exceeds `callLagWarnMs`. A stream sent faster than real time (a replay, a
 * test, a gateway's backlog) piles up lag by its own pace, not because the
 * instance cannot keep up with live calls: it is left out of both.
 * `refreshPace` (once a second) decides which streams those are.
 */
import type { CallStartEvent } from '../ingest/call-event.js';
import { CapacityError, ProtocolError } from '../shared/errors.js';
import { callLogger, type Logger } from '../shared/logger.js';
import type { CallPipeline } from './call-pipeline.js';
import { CallSession, type CallSessionOptions } from './call-session.js';
import type { CallDetail, CallEndReason, CallSummary } from './call-views.js';

export interface CallRegistryOptions {
  /** Live calls accepted at once; the next start is refused with 1013 (default 2000). */
  maxCalls?: number;
  /** Finished calls kept for `GET /v1/calls/:callId`, oldest evicted first (default 200). */
  callHistory?: number;
  /** Bounds passed to every session. */
  session?: Pick<CallSessionOptions, 'maxPendingWindows' | 'maxTimeline' | 'maxEvents'>;
  /** Checked before each start, after `maxCalls`: a returned error refuses the call (the overload guard's `admit`). */
  admission?: () => CapacityError | undefined;
  /** A call (at about real time) whose window lag exceeds this gets one warn log line, ms (default 0 = never). */
  callLagWarnMs?: number;
  /** Told every window lag of calls streaming at about real time, ms (the overload guard's `observeLag`). */
  onCallLag?: (lagMs: number) => void;
}

/** Per live call: when it started and whether its stream is ahead of real time. */
interface PaceState {
  session: CallSession | undefined;
  startedMs: number;
  /** Set by `refreshPace`: caller audio received is well ahead of the wall time since the start. */
  ahead: boolean;
}

/** A stream is "ahead of real time" once its audio exceeds the elapsed wall time by this factor plus this slack (jitter, a gateway's small burst). */
const AHEAD_FACTOR = 1.25;
const AHEAD_SLACK_MS = 3000;
/**
 * A window later than this has its stream's pace judged at once, not only at
 * the next `refreshPace`: a replay sent in one burst otherwise reports tens of
 * seconds of lag for up to a second, and a few such calls in a row tripped the
 * overload guard. Below it the hot path reads no clock.
 */
const PACE_CHECK_LAG_MS = 100;

function isAhead(p: PaceState, nowMs: number): boolean {
  return p.session !== undefined && p.session.audioMs > (nowMs - p.startedMs) * AHEAD_FACTOR + AHEAD_SLACK_MS;
}

/** Per-connection hooks the socket handler gives each session. */
export type SessionHooks = Pick<CallSessionOptions, 'onBacklog' | 'onFatal'>;

export class CallRegistry {
  private readonly live = new Map<string, CallSession>();
  private readonly history = new Map<string, CallDetail>();
  private readonly pace = new Map<string, PaceState>();
  private readonly maxCalls: number;
  private readonly callHistory: number;
  private closing = false;

  constructor(
    private readonly pipeline: CallPipeline,
    private readonly logger: Logger,
    private readonly options: CallRegistryOptions = {},
  ) {
    this.maxCalls = options.maxCalls ?? 2000;
    this.callHistory = options.callHistory ?? 200;
  }

  /** Live (and flushing) calls. */
  get liveCount(): number {
    return this.live.size;
  }

  /**
   * Creates the session for a started stream.
   * @throws ProtocolError 1008 when the callId is already live;
   *   CapacityError 1013 when `maxCalls` are live, 1001 while shutting down.
   */
  open(start: CallStartEvent, hooks: SessionHooks = {}): CallSession {
    if (this.closing) throw new CapacityError('UT_ERR_SHUTTING_DOWN', 1001, 'server is shutting down');
    if (this.live.has(start.callId)) {
      throw new ProtocolError('UT_ERR_CALL_ALREADY_LIVE', 1008, `call ${start.callId} already has a live stream`);
    }
    if (this.live.size >= this.maxCalls) {
      throw new CapacityError('UT_ERR_TOO_MANY_CALLS', 1013, `at capacity (${this.maxCalls} live calls)`);
    }
    const refusal = this.options.admission?.();
    if (refusal) throw refusal;
    const log = callLogger(this.logger, { callId: start.callId, streamId: start.streamId, source: start.source });
    const pace: PaceState = { session: undefined, startedMs: performance.now(), ahead: false };
    const session = new CallSession(start, this.sessionPipeline(log, pace), log, { ...this.options.session, ...hooks });
    pace.session = session;
    this.pace.set(start.callId, pace);
    this.live.set(start.callId, session);
    this.history.delete(start.callId);
    log.info({ agentId: start.agentId, language: start.language, tracks: start.tracks, liveCalls: this.live.size }, 'call started');
    void session.ended.then(() => this.retire(session));
    return session;
  }

  /** The live session for a callId, if any. */
  session(callId: string): CallSession | undefined {
    return this.live.get(callId);
  }

  /** The live (and flushing) sessions, oldest first. */
  liveSessions(): CallSession[] {
    return [...this.live.values()];
  }

  /** Summaries of the live calls, oldest first. */
  list(): CallSummary[] {
    return [...this.live.values()].map((s) => s.summary());
  }

  /** Timeline and events of a live or recently finished call. */
  detail(callId: string): CallDetail | undefined {
    return this.live.get(callId)?.detail() ?? this.history.get(callId);
  }

  /** Finishes one call (flushing its pending work); resolves once it is in the history. */
  async finish(callId: string, reason: CallEndReason): Promise<void> {
    const session = this.live.get(callId);
    if (!session) return;
    await session.finish(reason);
    await session.ended;
    this.retire(session);
  }

  /** Refuses new calls, finishes every live call (each flushes), resolves when all have ended. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.live.keys()].map((id) => this.finish(id, 'shutdown')));
  }

  /** Live calls streaming at about real time (not ahead of it, not finishing): the ones `shed` may pick. */
  get realTimeCount(): number {
    let n = 0;
    for (const _ of this.realTimeLive()) n++;
    return n;
  }

  /** The live, real-time calls with their pace state. */
  private *realTimeLive(): Generator<{ session: CallSession; startedMs: number }> {
    for (const p of this.pace.values()) {
      if (p.session !== undefined && !p.ahead && p.session.currentState === 'live') yield { session: p.session, startedMs: p.startedMs };
    }
  }

  /**
   * Sheds up to `count` live real-time calls to relieve an overloaded
   * instance (src/calls/load-shedder.ts): the least escalated first (a call
   * at a higher tier is the one a supervisor is watching); among equal tiers
   * the calmest (the policy's smoothed agitation: a caller growing agitated
   * who has not been prompted yet is the call worth keeping watched); among
   * equal ones the newest (the least history invested, and the last one
   * admitted). Each is closed with `error` (1013) and ends by `overload`.
   * Streams ahead of real time are left alone: their lag is their own pace.
   * Returns how many were shed.
   */
  shed(count: number, error: () => Error): number {
    if (count <= 0) return 0;
    const candidates = [...this.realTimeLive()].map((c) => ({ ...c, tier: c.session.tier, agitation: c.session.smoothedAgitation }));
    candidates.sort((a, b) => a.tier - b.tier || a.agitation - b.agitation || b.startedMs - a.startedMs);
    let shed = 0;
    for (const c of candidates) {
      if (shed >= count) break;
      if (c.session.shed(error())) shed++;
    }
    return shed;
  }

  /**
   * Marks which live streams are ahead of real time (their lag is their own
   * pace, see the class comment). Call once a second; O(live calls).
   * @param nowMs `performance.now()`
   */
  refreshPace(nowMs: number): void {
    for (const p of this.pace.values()) {
      if (p.session) p.ahead = isAhead(p, nowMs);
    }
  }

  /** The pipeline as one call sees it: lag figures also go to `onCallLag` and the per-call warning, unless the stream is ahead of real time. */
  private sessionPipeline(log: Logger, pace: PaceState): CallPipeline {
    const warnMs = this.options.callLagWarnMs ?? 0;
    const onCallLag = this.options.onCallLag;
    const shared = this.pipeline.onWindowLag;
    if (warnMs <= 0 && onCallLag === undefined) return this.pipeline;
    let warned = false;
    return {
      ...this.pipeline,
      // Per scored window: a few compares, no allocation.
      onWindowLag: (lagMs) => {
        shared?.(lagMs);
        if (!pace.ahead && lagMs > PACE_CHECK_LAG_MS) pace.ahead = isAhead(pace, performance.now());
        if (pace.ahead) return;
        onCallLag?.(lagMs);
        if (warned || warnMs <= 0 || lagMs <= warnMs) return;
        warned = true;
        log.warn({ lagMs: Math.round(lagMs), limitMs: warnMs }, 'call is scored later than the overload limit: its prompts come late (logged once per call)');
      },
    };
  }

  private retire(session: CallSession): void {
    if (this.live.get(session.callId) !== session) return;
    this.live.delete(session.callId);
    this.pace.delete(session.callId);
    if (this.callHistory === 0) return;
    this.history.set(session.callId, session.detail());
    while (this.history.size > this.callHistory) {
      const oldest = this.history.keys().next().value;
      if (oldest === undefined) break;
      this.history.delete(oldest);
    }
  }
}
