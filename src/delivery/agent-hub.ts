import type { Logger } from 'pino';
import type { AgentHub, AgentMessage, AgentSink } from './agent-messages.js';

export interface AgentHubOptions {
  logger: Logger;
  /**
   * Undelivered messages kept per offline agent (oldest dropped first). A
   * softphone that reconnects (page reload, network blip) gets them on
   * `register`. @defaultValue 20
   */
  maxPendingPerAgent?: number;
  /** How long an undelivered message stays worth delivering, ms (wall clock). @defaultValue 120000 */
  pendingTtlMs?: number;
  /** Offline agents with pending messages tracked at once; the longest-idle is evicted beyond it. @defaultValue 10000 */
  maxPendingAgents?: number;
  /** Wall clock in ms, for the TTL. @defaultValue `Date.now` */
  now?: () => number;
}

/** The hub with a view of its offline buffer, for the API and tests. */
export interface BufferingAgentHub extends AgentHub {
  /** Messages waiting for an agent to connect (expired ones excluded). */
  pendingCount(agentId: string): number;
}

interface Pending {
  text: string;
  expiresAt: number;
}

/**
 * This instance's agent sockets. An agent may have several (softphone and
 * a second screen): every one gets each message. A sink whose `send` throws
 * is dropped (and logged); the others still get the message.
 *
 * When an agent has no socket, `deliver` returns 0 and the message is kept
 * (bounded per agent, with a TTL) and sent, in order, to the next socket the
 * agent registers. Pending messages are in memory: they do not survive a
 * restart and are only seen by this instance (the job itself is complete).
 */
export function createAgentHub(options: AgentHubOptions): BufferingAgentHub {
  const log = options.logger.child({ component: 'agent-hub' });
  const maxPerAgent = options.maxPendingPerAgent ?? 20;
  const ttlMs = options.pendingTtlMs ?? 120_000;
  const maxAgents = options.maxPendingAgents ?? 10_000;
  const now = options.now ?? Date.now;

  const sinks = new Map<string, Set<AgentSink>>();
  // Insertion order = least recently buffered first, for eviction.
  const pending = new Map<string, Pending[]>();

  function remove(agentId: string, sink: AgentSink): void {
    const set = sinks.get(agentId);
    if (!set) return;
    set.delete(sink);
    if (set.size === 0) sinks.delete(agentId);
  }

  function trySend(agentId: string, sink: AgentSink, text: string): boolean {
    try {
      sink.send(text);
      return true;
    } catch (err) {
      remove(agentId, sink);
      log.warn({ err, agentId }, 'agent socket send failed; socket dropped');
      return false;
    }
  }

  function live(agentId: string): Pending[] {
    const list = pending.get(agentId);
    if (!list) return [];
    const t = now();
    const alive = list.filter((p) => p.expiresAt > t);
    if (alive.length !== list.length) {
      log.debug({ agentId, expired: list.length - alive.length }, 'undelivered agent messages expired');
    }
    if (alive.length === 0) pending.delete(agentId);
    else pending.set(agentId, alive);
    return alive;
  }

  function keep(agentId: string, text: string): void {
    const list = live(agentId);
    list.push({ text, expiresAt: now() + ttlMs });
    if (list.length > maxPerAgent) {
      list.splice(0, list.length - maxPerAgent);
      log.warn({ agentId, kept: maxPerAgent }, 'agent offline: oldest undelivered message dropped');
    }
    // Re-insert to mark this agent as most recently buffered.
    pending.delete(agentId);
    pending.set(agentId, list);
    while (pending.size > maxAgents) {
      const oldest = pending.keys().next().value as string;
      pending.delete(oldest);
      log.warn({ agentId: oldest }, 'too many offline agents: undelivered messages evicted');
    }
  }

  return {
    register(agentId: string, sink: AgentSink): () => void {
      let set = sinks.get(agentId);
      if (!set) sinks.set(agentId, (set = new Set()));
      set.add(sink);
      const backlog = live(agentId);
      if (backlog.length > 0) {
        pending.delete(agentId);
        let sent = 0;
        for (const p of backlog) {
          if (!trySend(agentId, sink, p.text)) break;
          sent++;
        }
        // If the new socket failed midway, keep the rest for the next one.
        if (sent < backlog.length) pending.set(agentId, backlog.slice(sent));
        log.info({ agentId, sent }, 'delivered messages kept while the agent was offline');
      }
      let registered = true;
      return () => {
        if (!registered) return;
        registered = false;
        remove(agentId, sink);
      };
    },

    deliver(agentId: string, message: AgentMessage): number {
      const text = JSON.stringify(message);
      let delivered = 0;
      const set = sinks.get(agentId);
      if (set) {
        // Copy: a failing sink is removed from the set while we iterate.
        for (const sink of [...set]) if (trySend(agentId, sink, text)) delivered++;
      }
      if (delivered === 0) {
        keep(agentId, text);
        log.info({ agentId, callId: message.callId, type: message.type }, 'agent offline: message kept for reconnect');
      }
      return delivered;
    },

    connectedAgents(): ReadonlyMap<string, number> {
      const counts = new Map<string, number>();
      for (const [agentId, set] of sinks) counts.set(agentId, set.size);
      return counts;
    },

    pendingCount(agentId: string): number {
      return live(agentId).length;
    },
  };
}
