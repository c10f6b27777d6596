/**
 * `undertone report [--since DATE] [--json] [--svg FILE]`: reads the kept
 * post-call summaries (Redis, `REDIS_URL`, namespace `ROUTING_QUEUE`) and
 * shows per tier reached and per prompt used/dismissed the count of calls,
 * mean survey scores and recovery times, and per script how often it was
 * sent, used and dismissed — so a team sees whether the prompts help. Writes
 * the same as a picture (SVG). Summaries live `SUMMARY_TTL_S` (7 days by default).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectRedis } from '../queue/redis-connection.js';
import { createSummaryStore } from '../calls/summary-store.js';
import { loadConfig, type Config } from '../config/config.js';
import { computeCallOutcomes, formatCallOutcomes, type CallOutcomes } from '../report/call-outcomes.js';
import { renderCallOutcomesSvg } from '../report/call-outcomes-svg.js';
import { ConfigError } from '../shared/errors.js';

const USAGE = `usage: undertone report [options]

  --since DATE   only calls that ended at or after DATE (ISO-8601, e.g. 2026-11-01 or 2026-11-01T08:00:00Z)
  --json         print the numbers as one JSON object instead of tables
  --svg FILE     where to write the picture (default report-output/call-outcomes.svg)
  -h, --help

Reads the post-call summaries kept in Redis (REDIS_URL) for the routing queue
ROUTING_QUEUE; they are kept SUMMARY_TTL_S seconds (default 7 days).
`;

export interface ReportOptions {
  redisUrl: string;
  /** Key namespace: the routing queue name. */
  namespace: string;
  /** `REDIS_PREFIX` the service ran with (default none). */
  redisPrefix?: string;
  /** `REDIS_CLUSTER`: `redisUrl` is a seed node of a cluster (default false). */
  redisCluster?: boolean;
  since: Date | null;
  svgPath: string;
}

/** Reads the kept summaries, computes the outcomes and writes the SVG. */
export async function buildReport(options: ReportOptions): Promise<CallOutcomes> {
  const redis = connectRedis({ redisUrl: options.redisUrl, redisCluster: options.redisCluster ?? false }, { maxRetriesPerRequest: 2, lazyConnect: true });
  redis.on('error', () => undefined); // surfaced by the failing command
  try {
    await redis.connect();
    // The TTL only matters for writes; the report reads.
    const store = createSummaryStore({ redis, namespace: options.namespace, redisPrefix: options.redisPrefix ?? '', ttlS: 1 });
    const kept = await store.list(options.since ? { sinceMs: options.since.getTime() } : {});
    const outcomes = computeCallOutcomes(kept, options.since);
    await mkdir(dirname(options.svgPath), { recursive: true });
    await writeFile(options.svgPath, renderCallOutcomesSvg(outcomes));
    return outcomes;
  } finally {
    redis.disconnect();
  }
}

/** CLI entry: 0 on success, 2 for bad arguments or configuration, 1 when Redis cannot be read. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      since: { type: 'string' },
      json: { type: 'boolean' },
      svg: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let since: Date | null = null;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values.since) || Number.isNaN(since.getTime())) {
      process.stderr.write(`undertone report: --since must be an ISO-8601 date like 2026-11-01, got '${values.since}'\n`);
      return 2;
    }
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`undertone report: invalid configuration\n${err.problems.map((p) => `  - ${p}\n`).join('')}`);
      return 2;
    }
    throw err;
  }
  const svgPath = resolve(values.svg ?? 'report-output/call-outcomes.svg');
  let outcomes: CallOutcomes;
  try {
    outcomes = await buildReport({ redisUrl: config.redisUrl, namespace: config.routingQueue, redisPrefix: config.redisPrefix, redisCluster: config.redisCluster, since, svgPath });
  } catch (err) {
    process.stderr.write(`undertone report: could not read summaries from ${config.redisUrl}: ${(err as Error).message}\n`);
    return 1;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(outcomes)}\n`);
  else process.stdout.write(`${formatCallOutcomes(outcomes)}\npicture: ${svgPath}\n`);
  return 0;
}
