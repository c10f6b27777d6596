/**
 * Queue inspection for operators: bull-board at `/admin/queues` (jobs per
 * state, payloads, failures with their errors, retry and clean buttons).
 *
 * AUTH HOOK: the board can retry and delete jobs, so in production it must
 * sit behind authentication. `authorize` runs on every request under
 * `/admin/queues` before bull-board sees it; the auth issue plugs its check
 * in there (reply 401/403 to refuse). Until then it is open to whoever can
 * reach the port, like the rest of the API.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const ADMIN_QUEUES_PATH = '/admin/queues';

export interface AdminQueuesOptions {
  queues: readonly Queue[];
  /** Runs before every board request; send a reply (e.g. 401) to refuse. */
  authorize?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export async function registerAdminQueues(app: FastifyInstance, options: AdminQueuesOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({ queues: options.queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  await app.register(
    async (scope) => {
      if (options.authorize) scope.addHook('onRequest', options.authorize);
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: ADMIN_QUEUES_PATH },
  );
}
