/**
 * Queue inspection for operators: bull-board at `/admin/queues` (jobs per
 * state, payloads, failures with their errors, retry and clean buttons).
 *
 * The board can retry and delete jobs: the central auth hook
 * (src/http/auth/access-rules.ts) lets only admin tokens under `/admin/*`.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const ADMIN_QUEUES_PATH = '/admin/queues';

export interface AdminQueuesOptions {
  queues: readonly Queue[];
}

export async function registerAdminQueues(app: FastifyInstance, options: AdminQueuesOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({ queues: options.queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  await app.register(
    async (scope) => {
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: ADMIN_QUEUES_PATH },
  );
}
