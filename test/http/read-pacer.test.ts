/**
 * Read pacing on real TCP sockets: a paced socket's small messages wait in
 * the kernel and are read together, nothing is lost or reordered, the
 * message due at a window end is read as it arrives, and releasing (or
 * closing) a stopped socket reads on at once.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadPacer } from '../../src/http/limits/read-pacer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5);
}

interface Pair {
  server: Server;
  client: Socket;
  accepted: Socket;
}

async function socketPair(): Promise<Pair> {
  let resolveAccepted!: (s: Socket) => void;
  const acceptedP = new Promise<Socket>((r) => (resolveAccepted = r));
  const server = createServer((s) => resolveAccepted(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((r) => client.once('connect', () => r()));
  return { server, client, accepted: await acceptedP };
}

describe('ReadPacer', () => {
  const open: Pair[] = [];
  const pacers: ReadPacer[] = [];
  afterEach(async () => {
    for (const p of pacers.splice(0)) p.close();
    for (const { server, client, accepted } of open.splice(0)) {
      client.destroy();
      accepted.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  /** A connected socket pair whose accepted side is paced by a new pacer; both closed after the test. */
  async function pacedPair(options: ConstructorParameters<typeof ReadPacer>[0]) {
    const pair = await socketPair();
    open.push(pair);
    const pacer = new ReadPacer(options);
    pacers.push(pacer);
    return { ...pair, pacer, paced: pacer.attach(pair.accepted) };
  }

  it('reads a paced socket every intervalMs: 20-ms messages arrive in few reads, all of them, in order', async () => {
    const pair = await pacedPair({ intervalMs: 100 });
    const { pacer, paced } = pair;
    let reads = 0;
    let received = '';
    pair.accepted.on('data', (chunk: Buffer) => {
      reads++;
      received += chunk.toString('latin1');
      // No window end in sight: stop until the interval has passed.
      paced.afterMessage(performance.now() + 10_000);
    });
    let sent = '';
    for (let i = 0; i < 50; i++) {
      const msg = `m${String(i).padStart(3, '0')};`;
      pair.client.write(msg);
      sent += msg;
      await sleep(20);
    }
    await sleep(250);
    expect(received).toBe(sent);
    // ≈ 1.1 s of messages every 20 ms, read at most every 100 ms (+ the first read).
    expect(reads).toBeLessThanOrEqual(16);
    expect(reads).toBeGreaterThanOrEqual(5);
  });

  it('reads unpaced when told nothing is due (undefined) or the due time is within leadMs', async () => {
    const pair = await pacedPair({ intervalMs: 100, leadMs: 30 });
    const { pacer, paced } = pair;
    let reads = 0;
    let turn = 0;
    pair.accepted.on('data', () => {
      reads++;
      paced.afterMessage(turn++ % 2 === 0 ? undefined : performance.now() + 20);
    });
    for (let i = 0; i < 20; i++) {
      pair.client.write('x');
      await sleep(15);
    }
    await sleep(50);
    expect(reads).toBeGreaterThanOrEqual(18);
    expect(pacer.stoppedCount).toBe(0);
  });

  it('resumes leadMs before the due time, so the message that ends a window is read as it arrives', async () => {
    const pair = await pacedPair({ intervalMs: 200, leadMs: 30 });
    const { pacer, paced } = pair;
    const dueAt = performance.now() + 150;
    const arrivals: { text: string; atMs: number }[] = [];
    pair.accepted.on('data', (chunk: Buffer) => {
      arrivals.push({ text: chunk.toString('latin1'), atMs: performance.now() });
      if (arrivals.length === 1) paced.afterMessage(dueAt);
    });
    pair.client.write('first;');
    await sleep(60);
    // Stopped now (due in ≈ 90 ms, the interval 200): this one waits in the kernel …
    pair.client.write('held;');
    await sleep(dueAt - performance.now());
    // … this one is due: reading resumed 30 ms before it.
    const sentAt = performance.now();
    pair.client.write('window-end;');
    await sleep(60);
    const all = arrivals.map((a) => a.text).join('');
    expect(all).toBe('first;held;window-end;');
    const last = arrivals.find((a) => a.text.includes('window-end'))!;
    expect(last.atMs - sentAt).toBeLessThan(25);
    // The held message was read when reading resumed (≈ 120 ms), not when it was sent (≈ 60 ms).
    const held = arrivals.find((a) => a.text.includes('held'))!;
    expect(held.atMs - arrivals[0]!.atMs).toBeGreaterThanOrEqual(100);
  });

  it('release() reads a stopped socket at once; a peer that closes meanwhile is seen', async () => {
    const pair = await pacedPair({ intervalMs: 200 });
    const { pacer, paced } = pair;
    const chunks: string[] = [];
    pair.accepted.on('data', (chunk: Buffer) => {
      chunks.push(chunk.toString('latin1'));
      paced.afterMessage(performance.now() + 10_000);
    });
    const ended = new Promise<number>((r) => pair.accepted.once('end', () => r(performance.now())));
    pair.client.write('a;');
    await sleep(30);
    expect(pacer.stoppedCount).toBe(1);
    pair.client.end('b;');
    await sleep(30);
    expect(chunks.join('')).toBe('a;');
    const releasedAt = performance.now();
    paced.release();
    const endAt = await ended;
    expect(chunks.join('')).toBe('a;b;');
    expect(endAt - releasedAt).toBeLessThan(50);
    expect(pacer.stoppedCount).toBe(0);
  });

  it('reads on at once when a later message of the same read finds nothing due (a stream ahead of real time)', async () => {
    const pair = await pacedPair({ intervalMs: 500 });
    const { pacer, paced } = pair;
    const arrivals: number[] = [];
    pair.accepted.on('data', () => arrivals.push(performance.now()));
    paced.afterMessage(performance.now() + 10_000);
    expect(pacer.stoppedCount).toBe(1);
    paced.afterMessage(undefined);
    expect(pacer.stoppedCount).toBe(0);
    const sentAt = performance.now();
    pair.client.write('now;');
    await waitUntil(() => arrivals.length > 0);
    expect(arrivals[0]! - sentAt).toBeLessThan(100);
    expect(pacer.pausesTotal).toBe(1);
  });

  it('leaves a stream without a TCP handle unpaced', () => {
    const pacer = new ReadPacer({ intervalMs: 100 });
    pacers.push(pacer);
    const paced = pacer.attach(new PassThrough() as unknown as Socket);
    paced.afterMessage(performance.now() + 10_000);
    expect(pacer.stoppedCount).toBe(0);
  });

  it('refuses a non-positive interval', () => {
    expect(() => new ReadPacer({ intervalMs: 0 })).toThrow(RangeError);
  });
});
