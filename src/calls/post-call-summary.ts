/**
 * What a call amounted to, computed as it runs and frozen when it ends:
 * peak and mean agitation, time in each tier, prompts sent and the agent's
 * feedback on them, escalations, hand-overs and recovery times. Kept in
 * Redis (src/calls/summary-store.ts), served at `GET /v1/calls/:callId` and
 * emitted as a `summary` job for QA systems.
 *
 * Time at each tier is caller audio time from the start of the call (tier 1
 * from 0 ms, not from the first scored window), so 60 s of silence before an
 * outburst counts as 60 s at tier 1.
 */
import type { EmotionLabel } from '../model/types.js';
import type { PolicyEvent, Tier } from '../policy/types.js';
import type { CallEndReason } from './call-views.js';

/** The agent's answer to a prompt (`{"type":"ack","promptId","action"}` on the agent socket). */
export type PromptFeedback = 'used' | 'dismissed';
export const PROMPT_FEEDBACK: readonly PromptFeedback[] = ['used', 'dismissed'];

/** One prompt sent on the call. */
export interface PromptRecord {
  /** The id the agent saw (the prompt job's id). */
  promptId: string;
  seq: number;
  scriptId: string;
  tier: Tier;
  emotion: EmotionLabel;
  audioMs: number;
  /** The agent's ack; null when none came. */
  feedback: PromptFeedback | null;
}

export interface PostCallSummary {
  callId: string;
  streamId: string;
  agentId: string | null;
  source: string;
  language: string | null;
  /** Wall-clock start and end, ISO-8601. */
  startedAt: string;
  endedAt: string;
  endReason: CallEndReason;
  /** Caller audio length, ms. */
  audioMs: number;
  finalTier: Tier;
  maxTier: Tier;
  /** Highest smoothed agitation over the scored windows, 0..1 (0 with none). */
  peakAgitation: number;
  /** Mean smoothed agitation over the scored windows, 0..1; null with none. */
  meanAgitation: number | null;
  scoredWindows: number;
  /** Caller audio time at each tier, ms; sums to `audioMs`. */
  msAtTier: Record<Tier, number>;
  /** Prompts sent, oldest first (at most {@link MAX_PROMPT_RECORDS}). */
  prompts: PromptRecord[];
  promptsSent: number;
  promptsUsed: number;
  promptsDismissed: number;
  /** Upward tier changes. */
  escalations: number;
  handovers: number;
  /** Per escalation episode that ended back at tier 1: audio time from leaving tier 1 to returning, ms. */
  recoveryMs: number[];
}

/** Prompts listed in a summary; the counts stay exact beyond it. */
export const MAX_PROMPT_RECORDS = 200;

/** The call facts the tracker does not see itself. */
export interface CallFacts {
  callId: string;
  streamId: string;
  agentId: string | null;
  source: string;
  language: string | null;
  startedAt: Date;
  endedAt: Date;
  endReason: CallEndReason;
  audioMs: number;
}

/** Builds a call's {@link PostCallSummary} from the windows and events the session sees. Per call; no I/O. */
export class PostCallTracker {
  private tier: Tier = 1;
  private tierSinceMs = 0;
  private maxTier: Tier = 1;
  private readonly msAtTier: Record<Tier, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
  private episodeStartMs: number | undefined;
  private readonly recoveryMs: number[] = [];
  private peak = 0;
  private sum = 0;
  private windows = 0;
  private escalations = 0;
  private handovers = 0;
  private promptsSent = 0;
  private lastSeq = 0;
  private readonly prompts: PromptRecord[] = [];
  private readonly feedback = new Map<string, PromptFeedback>();

  /** The agitation the policy acted on after a scored window. */
  observeAgitation(agitation: number): void {
    if (!Number.isFinite(agitation)) return;
    const a = Math.min(1, Math.max(0, agitation));
    if (a > this.peak) this.peak = a;
    this.sum += a;
    this.windows += 1;
  }

  /** A published policy event; `promptId` is the id the agent sees for prompts. */
  observeEvent(event: PolicyEvent, promptId?: string): void {
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    if (event.type === 'prompt') {
      this.promptsSent += 1;
      if (this.prompts.length < MAX_PROMPT_RECORDS) {
        this.prompts.push({
          promptId: promptId ?? `${event.callId}_${event.seq}_prompt`,
          seq: event.seq,
          scriptId: event.scriptId,
          tier: event.tier,
          emotion: event.emotion,
          audioMs: event.audioMs,
          feedback: null,
        });
      }
      return;
    }
    if (event.type === 'handover') this.handovers += 1;
    this.moveTo(event.tier, event.audioMs);
  }

  /** Records the agent's ack; false when the call sent no prompt with that id. */
  recordFeedback(promptId: string, action: PromptFeedback): boolean {
    if (!this.prompts.some((p) => p.promptId === promptId)) return false;
    this.feedback.set(promptId, action);
    return true;
  }

  /** Whether this call sent a prompt with that id (listed ones only). */
  hasPrompt(promptId: string): boolean {
    return this.prompts.some((p) => p.promptId === promptId);
  }

  /** Highest policy event seq seen (0 before any): the summary job takes the next one. */
  get lastEventSeq(): number {
    return this.lastSeq;
  }

  private moveTo(tier: Tier, audioMs: number): void {
    if (tier === this.tier) return;
    const at = Math.max(audioMs, this.tierSinceMs);
    this.msAtTier[this.tier] += at - this.tierSinceMs;
    if (tier > this.tier) {
      this.escalations += 1;
      if (this.tier === 1) this.episodeStartMs = at;
    }
    if (tier === 1 && this.episodeStartMs !== undefined) {
      this.recoveryMs.push(at - this.episodeStartMs);
      this.episodeStartMs = undefined;
    }
    this.tier = tier;
    this.tierSinceMs = at;
    if (tier > this.maxTier) this.maxTier = tier;
  }

  /** The summary as of the call's end. */
  build(facts: CallFacts): PostCallSummary {
    const msAtTier = { ...this.msAtTier };
    msAtTier[this.tier] += Math.max(0, facts.audioMs - this.tierSinceMs);
    const prompts = this.prompts.map((p) => ({ ...p, feedback: this.feedback.get(p.promptId) ?? null }));
    const counts = countFeedback(prompts);
    return {
      callId: facts.callId,
      streamId: facts.streamId,
      agentId: facts.agentId,
      source: facts.source,
      language: facts.language,
      startedAt: facts.startedAt.toISOString(),
      endedAt: facts.endedAt.toISOString(),
      endReason: facts.endReason,
      audioMs: facts.audioMs,
      finalTier: this.tier,
      maxTier: this.maxTier,
      peakAgitation: this.peak,
      meanAgitation: this.windows > 0 ? this.sum / this.windows : null,
      scoredWindows: this.windows,
      msAtTier,
      prompts,
      promptsSent: this.promptsSent,
      promptsUsed: counts.used,
      promptsDismissed: counts.dismissed,
      escalations: this.escalations,
      handovers: this.handovers,
      recoveryMs: this.recoveryMs.slice(),
    };
  }
}

/** Used and dismissed counts of a prompt list. */
export function countFeedback(prompts: readonly PromptRecord[]): { used: number; dismissed: number } {
  let used = 0;
  let dismissed = 0;
  for (const p of prompts) {
    if (p.feedback === 'used') used++;
    else if (p.feedback === 'dismissed') dismissed++;
  }
  return { used, dismissed };
}

/** The summary with later feedback (acks that came after the end, or on another instance) applied. */
export function withFeedback(summary: PostCallSummary, feedback: ReadonlyMap<string, PromptFeedback>): PostCallSummary {
  if (feedback.size === 0) return summary;
  const prompts = summary.prompts.map((p) => ({ ...p, feedback: feedback.get(p.promptId) ?? p.feedback }));
  const counts = countFeedback(prompts);
  return { ...summary, prompts, promptsUsed: counts.used, promptsDismissed: counts.dismissed };
}
