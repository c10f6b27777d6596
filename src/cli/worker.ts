/**
 * `undertone worker` (`npm run worker`): a routing worker as a process of its
 * own. It consumes ROUTING_QUEUE, tells the routing system and posts agent
 * messages to the agents' Redis inboxes; the servers (any instance) deliver
 * them to the sockets. Run servers with RUN_WORKER=false to keep routing
 * work off them, and as many of these as the queue needs.
 *
 * SIGTERM/SIGINT: stop taking jobs, finish the active ones, exit 0.
 */
import { readCommandConfig } from './command-config.js';
import { runUntilSignal } from './run-until-signal.js';
import { createLogger } from '../shared/logger.js';
import { startRoutingWorker } from './serve.js';

const USAGE = `usage: undertone worker

Runs a routing worker only (no HTTP server, no model). Configuration from the
environment: REDIS_URL, ROUTING_QUEUE, LOG_LEVEL, AGENT_PENDING_TTL_S.
`;

export async function run(argv: string[]): Promise<number> {
  const config = readCommandConfig('worker', argv, USAGE);
  if (typeof config === 'number') return config;
  const logger = createLogger(config);
  const worker = await startRoutingWorker(config, logger);
  logger.info({ queue: config.routingQueue }, 'routing worker running');
  // Whatever a job or Redis does, the process is gone shortly after SHUTDOWN_GRACE_MS.
  return runUntilSignal(logger, { stoppingMessage: 'routing worker stopping', deadlineMs: config.shutdownGraceMs, close: () => worker.close() });
}
