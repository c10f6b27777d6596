/**
 * An example of a contact centre's own service reading Undertone's routing
 * events straight from the queue, without taking jobs from Undertone's
 * worker: BullMQ's QueueEvents stream says which job completed; the job is
 * read (it is kept for an hour) and checked against the published schema.
 * README "Consuming the queue directly" shows the same in short; a test runs
 * this one against a real queue.
 *
 *   npx tsx scripts/example-routing-consumer.ts [queue-name]   # prints each event as it completes
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Job, Queue, QueueEvents } from 'bullmq';

const schema = JSON.parse(readFileSync(new URL('../schemas/call-routing-job.v1.schema.json', import.meta.url), 'utf8')) as object;

/** What the consumer hands on: a v1 payload that passed the published schema. */
export type RoutingEvent = { type: 'prompt' | 'priority' | 'recovered' | 'handover' | 'summary'; callId: string; [key: string]: unknown };

export interface RoutingConsumer {
  /** Resolves once the consumer listens. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function consumeRoutingEvents(
  queueName: string,
  redisUrl: string,
  onEvent: (event: RoutingEvent) => void,
  onInvalid: (jobId: string, problems: string) => void = () => undefined,
): RoutingConsumer {
  const connection = { url: redisUrl };
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  events.on('completed', ({ jobId }) => {
    void Job.fromId(queue, jobId).then((job) => {
      if (!job) return; // already past the retention window
      if (validate(job.data)) onEvent(job.data as RoutingEvent);
      else onInvalid(jobId, JSON.stringify(validate.errors));
    });
  });
  return {
    ready: events.waitUntilReady().then(() => undefined),
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const consumer = consumeRoutingEvents(process.argv[2] ?? 'call-routing', process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', (e) =>
    process.stdout.write(`${JSON.stringify(e)}\n`),
  );
  process.once('SIGINT', () => void consumer.close());
}
