import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** A Redis the demo can use, and how to let it go. */
export interface DemoRedis {
  url: string;
  /** True when the demo started its own private redis-server. */
  private: boolean;
  stop(): Promise<void>;
}

/** Whether a Redis at `url` answers PING within `connectTimeoutMs` (default 1000). */
export async function answers(url: string, connectTimeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: connectTimeoutMs, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A loopback TCP port free at the time of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Uses the Redis at `url` when it answers; otherwise starts a private,
 * non-persistent `redis-server` on a free loopback port when one is on the
 * PATH, and stops it afterwards. Throws with directions when neither works.
 */
export async function ensureRedis(url: string): Promise<DemoRedis> {
  if (await answers(url)) return { url, private: false, stop: async () => undefined };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      `no Redis answers at ${url}, and redis-server is not on the PATH.\n` +
        `  Start one (Debian: apt-get install redis-server; or docker compose up redis) or set REDIS_URL.`,
    );
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answers(privateUrl)); i++) await sleep(100);
  if (!(await answers(privateUrl))) {
    child.kill();
    throw new Error(`started redis-server on port ${port}, but it does not answer`);
  }
  return {
    url: privateUrl,
    private: true,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    },
  };
}
