import { describe, expect, it } from 'vitest';
import type { AgentMessage, AgentSink } from '../../src/delivery/agent-messages.js';
import { createAgentHub } from '../../src/delivery/agent-hub.js';
import { captureLogger, silentLogger } from '../queue/helpers.js';

class CollectingSink implements AgentSink {
  readonly received: string[] = [];
  send(text: string): void {
    this.received.push(text);
  }
  get messages(): AgentMessage[] {
    return this.received.map((t) => JSON.parse(t) as AgentMessage);
  }
}

const priority = (callId: string, tier: 1 | 2 | 3 | 4 = 2): AgentMessage => ({
  type: 'priority',
  callId,
  tier,
  previousTier: 1,
  reason: 'agitation 0.71 ≥ 0.55 for 1.5 s',
  at: '2025-03-01T10:00:00.000Z',
});

describe('agent hub', () => {
  it('delivers to every socket of the agent and only to that agent', () => {
    const hub = createAgentHub({ logger: silentLogger() });
    const a1 = new CollectingSink();
    const a2 = new CollectingSink();
    const b = new CollectingSink();
    hub.register('agent-a', a1);
    hub.register('agent-a', a2);
    hub.register('agent-b', b);
    expect(hub.deliver('agent-a', priority('c1'))).toBe(2);
    expect(a1.messages).toEqual([priority('c1')]);
    expect(a2.messages).toEqual([priority('c1')]);
    expect(b.received).toEqual([]);
    expect(hub.connectedAgents()).toEqual(new Map([['agent-a', 2], ['agent-b', 1]]));
  });

  it('unregisters a socket (idempotently) and forgets agents with none left', () => {
    const hub = createAgentHub({ logger: silentLogger() });
    const sink = new CollectingSink();
    const unregister = hub.register('agent-a', sink);
    unregister();
    unregister();
    expect(hub.connectedAgents().size).toBe(0);
    expect(hub.deliver('agent-a', priority('c1'))).toBe(0);
    expect(sink.received).toEqual([]);
  });

  it('drops a socket whose send throws, logs it, and still serves the others', () => {
    const { logger, records } = captureLogger();
    const hub = createAgentHub({ logger });
    const good = new CollectingSink();
    hub.register('agent-a', { send: () => { throw new Error('EPIPE'); } });
    hub.register('agent-a', good);
    expect(hub.deliver('agent-a', priority('c1'))).toBe(1);
    expect(hub.connectedAgents().get('agent-a')).toBe(1);
    expect(good.messages).toHaveLength(1);
    expect(records.find((r) => r.msg === 'agent socket send failed; socket dropped')).toMatchObject({ agentId: 'agent-a', level: 40 });
  });

  it('keeps messages for an offline agent and delivers them in order on connect', () => {
    const hub = createAgentHub({ logger: silentLogger() });
    expect(hub.deliver('agent-a', priority('c1', 2))).toBe(0);
    expect(hub.deliver('agent-a', priority('c1', 3))).toBe(0);
    expect(hub.pendingCount('agent-a')).toBe(2);
    const sink = new CollectingSink();
    hub.register('agent-a', sink);
    expect(sink.messages.map((m) => m.tier)).toEqual([2, 3]);
    expect(hub.pendingCount('agent-a')).toBe(0);
    // Delivered once: a second socket does not get them again.
    const second = new CollectingSink();
    hub.register('agent-a', second);
    expect(second.received).toEqual([]);
  });

  it('bounds the offline buffer per agent (oldest dropped) and expires it after the TTL', () => {
    let now = 1_000_000;
    const hub = createAgentHub({ logger: silentLogger(), maxPendingPerAgent: 3, pendingTtlMs: 60_000, now: () => now });
    for (let i = 1; i <= 5; i++) hub.deliver('agent-a', priority(`c${i}`));
    expect(hub.pendingCount('agent-a')).toBe(3);
    now += 30_000;
    hub.deliver('agent-a', priority('c6'));
    now += 45_000; // c3..c5 are now 75 s old, c6 45 s.
    const sink = new CollectingSink();
    hub.register('agent-a', sink);
    expect(sink.messages.map((m) => m.callId)).toEqual(['c6']);
  });

  it('bounds the number of offline agents tracked, evicting the longest idle', () => {
    const hub = createAgentHub({ logger: silentLogger(), maxPendingAgents: 2 });
    hub.deliver('agent-a', priority('c1'));
    hub.deliver('agent-b', priority('c2'));
    hub.deliver('agent-c', priority('c3'));
    expect([hub.pendingCount('agent-a'), hub.pendingCount('agent-b'), hub.pendingCount('agent-c')]).toEqual([0, 1, 1]);
  });

  it('keeps the rest of the backlog if the reconnecting socket fails midway', () => {
    const hub = createAgentHub({ logger: silentLogger() });
    hub.deliver('agent-a', priority('c1'));
    hub.deliver('agent-a', priority('c2'));
    let calls = 0;
    hub.register('agent-a', {
      send: () => {
        if (++calls === 2) throw new Error('closed');
      },
    });
    expect(hub.pendingCount('agent-a')).toBe(1);
    const sink = new CollectingSink();
    hub.register('agent-a', sink);
    expect(sink.messages.map((m) => m.callId)).toEqual(['c2']);
  });
});
