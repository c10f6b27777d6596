import { describe, expect, it } from 'vitest';
import { toAgentMessage, type AgentMessage } from '../../src/delivery/agent-messages.js';
import { withLocalAgentDelivery } from '../../src/delivery/local-agent-delivery.js';
import type { PolicyEvent } from '../../src/policy/types.js';
import { routingJobId, toJobData, validateJobData } from '../../src/queue/job-schema.js';
import type { EventPublisher, PublishContext } from '../../src/queue/publisher.js';
import { priorityEvent, promptEvent, silentLogger } from '../queue/helpers.js';

const AT = new Date('2026-12-01T08:00:00.000Z');

/** Records the order of sends and publishes. */
function harness(sockets = 1, sendThrows = false) {
  const log: string[] = [];
  const sent: { agentId: string; message: AgentMessage }[] = [];
  const inner: EventPublisher = {
    publish: async (event: PolicyEvent) => {
      log.push(`publish ${event.seq}`);
    },
    publishSummary: async () => {
      log.push('summary');
    },
    close: async () => undefined,
  };
  const hub = {
    sendLocal(agentId: string, message: AgentMessage): number {
      if (sendThrows) throw new Error('socket gone');
      log.push(`send ${message.seq}`);
      sent.push({ agentId, message });
      return sockets;
    },
  };
  const counted: string[] = [];
  const publisher = withLocalAgentDelivery(inner, { hub, logger: silentLogger(), onSent: (type) => counted.push(type), now: () => AT });
  return { publisher, log, sent, counted };
}

describe('local agent delivery', () => {
  const ctx: PublishContext = { agentId: 'agent-7', streamId: 'MZ1' };

  it('sends each event to the local sockets before publishing it, as the routing worker would post it', async () => {
    const { publisher, log, sent, counted } = harness();
    const change = priorityEvent({ seq: 1 });
    const prompt = promptEvent({ seq: 2 });
    await publisher.publish(change, ctx);
    await publisher.publish(prompt, ctx);
    expect(log).toEqual(['send 1', 'publish 1', 'send 2', 'publish 2']);
    // The worker builds its message from the validated job under the job's id: the same message.
    for (const [i, event] of [change, prompt].entries()) {
      const data = validateJobData(event.type, JSON.parse(JSON.stringify(toJobData(event, ctx, AT))));
      expect(sent[i]).toEqual({ agentId: 'agent-7', message: toAgentMessage(data, routingJobId(event.callId, event.seq, event.type, 'MZ1')) });
    }
    expect(counted).toEqual(['priority', 'prompt']);
  });

  it('sends an event decided after its stream ended marked stale, never as live', async () => {
    const { publisher, sent } = harness();
    const streamEndedAt = '2026-12-01T07:59:58.500Z';
    await publisher.publish(promptEvent({ seq: 3 }), { ...ctx, streamEndedAt });
    await publisher.publish(priorityEvent({ seq: 4 }), { ...ctx, streamEndedAt });
    for (const { message } of sent) expect(message).toMatchObject({ stale: true, callEndedAt: streamEndedAt });
    await publisher.publish(promptEvent({ seq: 5 }), ctx);
    expect(sent[2]!.message).not.toHaveProperty('stale');
    expect(sent[2]!.message).not.toHaveProperty('callEndedAt');
  });

  it('leaves a call with no agent, or an agent with no socket here, to the queue', async () => {
    const none = harness();
    await none.publisher.publish(promptEvent(), { agentId: undefined, streamId: 'MZ1' });
    expect(none.log).toEqual(['publish 2']);
    const elsewhere = harness(0);
    await elsewhere.publisher.publish(promptEvent(), ctx);
    expect(elsewhere.log).toEqual(['send 2', 'publish 2']);
    expect(elsewhere.counted).toEqual([]);
  });

  it('still publishes when the local send fails, and passes summaries through', async () => {
    const broken = harness(1, true);
    await broken.publisher.publish(promptEvent(), ctx);
    expect(broken.log).toEqual(['publish 2']);
    await broken.publisher.publishSummary?.({} as never, { seq: 3 });
    expect(broken.log).toEqual(['publish 2', 'summary']);
  });
});
