/**
 * The port through which a call tells the outside what happened to it, for
 * live views (the supervisor feed). Optional: a pipeline without an observer
 * behaves exactly as before. Every method is synchronous and must not throw
 * or block the call: implementations queue their own I/O and log failures.
 */
import type { ScoredWindow } from '../model/types.js';
import type { PolicyEvent, Tier } from '../policy/types.js';
import type { CallEndReason } from './call-views.js';

/** The parts of a call an observer may read (CallSession satisfies it). */
export interface ObservedCall {
  readonly callId: string;
  readonly streamId: string;
  readonly agentId: string | undefined;
  readonly source: string;
  readonly language: string | undefined;
  readonly startedAt: Date;
  /**
   * ISO-8601 time the gateway ended (hangup, disconnect) a real-time stream whose events are still
   * being decided (the instance was behind): set from then on, so that what
   * follows is shown as after the call, not as live. Undefined otherwise.
   */
  readonly streamEndedAt?: string | undefined;
}

export interface CallObserver {
  /** The stream started; `metadata` holds the gateway's other parameters (e.g. `team`, `queue`). */
  callStarted(call: ObservedCall, metadata: Readonly<Record<string, string>>): void;
  /** A window was scored and observed by the policy; `tier` / `agitation` are the policy's state after it. */
  windowScored(call: ObservedCall, window: ScoredWindow, tier: Tier, agitation: number): void;
  /** A policy event was published. */
  policyEvent(call: ObservedCall, event: PolicyEvent): void;
  /** The agent of the call changed (reassignment); `null` = none. */
  agentChanged?(call: ObservedCall, agentId: string | null): void;
  /** The call ended, after its chain flushed. */
  callEnded(call: ObservedCall, reason: CallEndReason, audioMs: number): void;
}
