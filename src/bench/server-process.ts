/**
 * The server under test as a child process of the bench: its own free port,
 * its own ROUTING_QUEUE, auth on with a JWT secret made up for the run. The
 * child is killed on every way out: normal end, error, SIGINT/SIGTERM, exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface SpawnServerOptions {
  /** Project root (where src/ and dist/ are). */
  root: string;
  /** Extra environment for the server (merged over process.env). */
  env: Record<string, string>;
  /** `tsx` runs src/main.ts; `dist` runs the build; `auto` (default) the build when it is newer than every source. */
  mode?: 'auto' | 'tsx' | 'dist';
  /** Wait for /healthz at most this long, ms (default 60 000). */
  startTimeoutMs?: number;
}

export interface SpawnedServer {
  url: string;
  pid: number;
  /** How it was started (`tsx` or `dist`). */
  mode: 'tsx' | 'dist';
  /** Last lines the server printed (for error messages). */
  tail(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. Idempotent. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function chooseMode(root: string, mode: SpawnServerOptions['mode']): 'tsx' | 'dist' {
  const built = join(root, 'dist/src/main.js');
  if (mode === 'dist' || mode === 'tsx') return mode;
  // A stale build would measure old code: use it only when no source is newer.
  return existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(root, 'src')) ? 'dist' : 'tsx';
}

const live = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<unknown>>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.stderr.write(`\nbench: ${signal}: server stopped, cleaning up\n`);
      // Best effort, bounded: a second Ctrl-C is not needed to get out.
      const timer = setTimeout(() => process.exit(130), 3000);
      void Promise.allSettled([...cleanups].map((fn) => fn())).then(() => {
        clearTimeout(timer);
        process.exit(130);
      });
    });
  }
}

/**
 * Runs `fn` (e.g. removing the run's queue from Redis) if the bench is
 * interrupted by SIGINT/SIGTERM; returns the function that unregisters it.
 */
export function onInterrupt(fn: () => Promise<unknown>): () => void {
  installExitHooks();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export async function spawnServer(options: SpawnServerOptions): Promise<SpawnedServer> {
  const mode = chooseMode(options.root, options.mode);
  const port = await freePort();
  // --expose-gc: the memory probe (GET /admin/memory?gc=1) collects garbage first, so memory per call counts live objects.
  // BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`): Node refuses --cpu-prof in NODE_OPTIONS, so a profile of the server needs its own way in.
  const extra = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
  const args = ['--expose-gc', ...extra, ...(mode === 'dist' ? ['dist/src/main.js', 'serve'] : ['--import', 'tsx', 'src/main.ts', 'serve'])];
  installExitHooks();
  const child = spawn(process.execPath, args, {
    cwd: options.root,
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(line);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // BENCH_SERVER_LOG=FILE: the server's whole log too (pino lines), to see what it decided under load.
  const logFile = process.env['BENCH_SERVER_LOG'];
  if (logFile) {
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
    live.delete(child);
  });
  let stopping: Promise<void> | undefined;
  const server: SpawnedServer = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    mode,
    tail: () => lines.join('\n'),
    stop() {
      stopping ??= (async () => {
        if (!exitedEarly) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exitedEarly) throw new Error(`UT_ERR_BENCH_SERVER: the server exited during start-up:\n${server.tail()}`);
    try {
      const res = await fetch(`${server.url}/readyz`);
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`UT_ERR_BENCH_SERVER: the server was not ready within ${options.startTimeoutMs ?? 60_000} ms:\n${server.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
