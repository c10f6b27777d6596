/**
 * A private, non-persistent redis-server on a free loopback port, started
 * by the test itself so it can be stopped, restarted on the same port, or
 * made to refuse writes without disturbing anyone else's Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { answers as redisAnswers, freePort } from '../../src/cli/ensure-redis.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing persisted). */
  start(): Promise<void>;
  /** Runs one command on a short-lived connection (e.g. CONFIG SET maxmemory 1). */
  command(...args: string[]): Promise<unknown>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await redisAnswers(url, 500)); i++) await sleep(50);
    if (!(await redisAnswers(url, 500))) throw new Error(`private redis-server on ${port} does not answer`);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise((resolve) => {
      c.once('exit', resolve);
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async command(...args) {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      try {
        return await client.call(args[0]!, ...args.slice(1));
      } finally {
        client.disconnect();
      }
    },
  };
}
