import type { CallObserver, ObservedCall } from '../calls/call-observer.js';
import type { CallEndReason } from '../calls/call-views.js';
import type { ScoredWindow } from '../model/types.js';
import type { PolicyEvent, Tier } from '../policy/types.js';
import { routingJobId } from '../queue/job-schema.js';
import type { FeedScope, SupervisorFeed } from './supervisor-feed.js';
import type { Alert, CallSummary, LiveCall } from './supervisor-messages.js';

export interface CallFeedObserverOptions {
  feed: SupervisorFeed;
  /** This instance's id, shown on each live call. */
  instanceId: string;
  /** Audio between two `call.scores` of a call, ms. @defaultValue 1000 */
  scoresEveryMs?: number;
  /** How often this instance refreshes its live calls in Redis (keep well under the feed's live-call TTL), ms. @defaultValue 10000 */
  heartbeatMs?: number;
  /** Wall clock. @defaultValue `Date.now` */
  now?: () => number;
}

/** Per-call state kept on the instance where the call streams. */
interface Tracked {
  live: LiveCall;
  scope: FeedScope;
  lastScoresMs: number;
  lastWindowEndMs: number;
  agitationSum: number;
  windows: number;
  peakAgitation: number;
  msAtTier: Record<Tier, number>;
  prompts: number;
  escalations: number;
}

export interface CallFeedObserver extends CallObserver {
  /** Stops the heartbeat. */
  close(): void;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const orNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);

/**
 * Turns what calls report (CallObserver) into supervisor feed events and the
 * shared live-call state: `call.started`, `call.scores` (at most one per
 * `scoresEveryMs` of audio per call), `tier.changed`, `alert` (escalations to
 * tier 3 and 4), `prompt`, `call.agent`, and `call.ended` with the call's
 * summary (computed here from the same observations, so the session itself
 * keeps no feed-specific state).
 */
export function createCallFeedObserver(options: CallFeedObserverOptions): CallFeedObserver {
  const { feed, instanceId } = options;
  const scoresEveryMs = options.scoresEveryMs ?? 1000;
  const now = options.now ?? Date.now;
  const calls = new Map<string, Tracked>();
  const key = (call: ObservedCall): string => `${call.callId}\u0000${call.streamId}`;

  const heartbeat = setInterval(() => {
    for (const t of calls.values()) feed.putLiveCall(t.live, t.scope);
  }, options.heartbeatMs ?? 10_000);
  heartbeat.unref();

  return {
    callStarted(call, metadata) {
      const at = now();
      const live: LiveCall = {
        callId: call.callId,
        streamId: call.streamId,
        agentId: call.agentId ?? null,
        source: call.source,
        language: call.language ?? null,
        team: orNull(metadata['team']),
        queue: orNull(metadata['queue']),
        tier: 1,
        tierSince: iso(at),
        agitation: 0,
        audioMs: 0,
        startedAt: call.startedAt.toISOString(),
        instanceId,
      };
      const scope: FeedScope = { team: live.team, queue: live.queue };
      calls.set(key(call), {
        live,
        scope,
        lastScoresMs: Number.NEGATIVE_INFINITY,
        lastWindowEndMs: 0,
        agitationSum: 0,
        windows: 0,
        peakAgitation: 0,
        msAtTier: { 1: 0, 2: 0, 3: 0, 4: 0 },
        prompts: 0,
        escalations: 0,
      });
      feed.putScope(call.callId, scope);
      feed.putLiveCall(live, scope);
      feed.publish({ type: 'call.started', at: iso(at), call: live }, scope);
    },

    windowScored(call, window: ScoredWindow, tier: Tier, agitation: number) {
      const t = calls.get(key(call));
      if (!t) return;
      // Time at tier: the audio since the previous window counts for the tier it was decided in.
      t.msAtTier[tier] += Math.max(0, window.endMs - t.lastWindowEndMs);
      t.lastWindowEndMs = window.endMs;
      t.windows += 1;
      t.agitationSum += agitation;
      t.peakAgitation = Math.max(t.peakAgitation, agitation);
      t.live.agitation = agitation;
      t.live.audioMs = window.endMs;
      if (window.endMs - t.lastScoresMs < scoresEveryMs) return;
      t.lastScoresMs = window.endMs;
      const s = window.scores;
      feed.publish(
        {
          type: 'call.scores',
          at: iso(now()),
          callId: call.callId,
          audioMs: window.endMs,
          agitation,
          anger: s.anger,
          arousal: s.arousal,
          emotion: { neutral: s.neutral, anger: s.anger, happiness: s.happiness, sadness: s.sadness },
          tier,
        },
        t.scope,
      );
      feed.putLiveCall(t.live, t.scope);
    },

    policyEvent(call, event: PolicyEvent) {
      const t = calls.get(key(call));
      if (!t) return;
      const at = iso(now());
      // Decided after the stream ended (the instance was behind): shown as after the call, never as live.
      const ended = call.streamEndedAt !== undefined ? { callEndedAt: call.streamEndedAt } : {};
      if (event.type === 'prompt') {
        t.prompts += 1;
        const promptId = routingJobId(call.callId, event.seq, 'prompt', call.streamId);
        feed.publish({ type: 'prompt', at, callId: call.callId, promptId, tier: event.tier, text: event.text, scriptId: event.scriptId, ...ended }, t.scope);
        return;
      }
      if (event.tier > event.previousTier) t.escalations += 1;
      t.live.tier = event.tier;
      t.live.tierSince = at;
      t.live.agitation = event.score;
      feed.putLiveCall(t.live, t.scope);
      feed.publish({ type: 'tier.changed', at, callId: call.callId, from: event.previousTier, to: event.tier, audioMs: event.audioMs, reason: event.reason }, t.scope);
      if (event.tier >= 3 && event.tier > event.previousTier) {
        const alert: Alert = {
          alertId: `${call.callId}|${call.streamId}|${event.seq}`,
          callId: call.callId,
          agentId: t.live.agentId,
          tier: event.tier,
          reason: event.reason,
          audioMs: event.audioMs,
          raisedAt: at,
          ackedBy: null,
          ackedAt: null,
          ...ended,
        };
        feed.putAlert(alert, t.scope);
        feed.publish({ type: 'alert', at, alert }, t.scope);
      }
    },

    agentChanged(call, agentId) {
      const t = calls.get(key(call));
      if (!t) return;
      t.live.agentId = agentId;
      feed.putLiveCall(t.live, t.scope);
      feed.publish({ type: 'call.agent', at: iso(now()), callId: call.callId, agentId }, t.scope);
    },

    callEnded(call, reason: CallEndReason, audioMs: number) {
      const k = key(call);
      const t = calls.get(k);
      if (!t) return;
      calls.delete(k);
      t.msAtTier[t.live.tier] += Math.max(0, audioMs - t.lastWindowEndMs);
      const summary: CallSummary = {
        peakAgitation: t.peakAgitation,
        meanAgitation: t.windows > 0 ? t.agitationSum / t.windows : 0,
        msAtTier: t.msAtTier,
        prompts: t.prompts,
        escalations: t.escalations,
        endReason: reason,
        audioMs,
      };
      feed.removeLiveCall(call.callId);
      feed.publish({ type: 'call.ended', at: iso(now()), callId: call.callId, summary }, t.scope);
    },

    close() {
      clearInterval(heartbeat);
    },
  };
}
