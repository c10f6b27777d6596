/**
 * Read pacing for gateway sockets (`GATEWAY_READ_PACING_MS`, issue 13).
 *
 * Why: a gateway sends one small message per 20 ms per call, and Node reads
 * each on its own: an `epoll` wake-up, a `read`, the ACK the kernel sends for
 * it, libuv and the stream machinery per message. Measured alone (no
 * parsing, `scripts/ingest-cost.ts net --read-only`) that is 0.6–0.9 ms of
 * CPU per call-second on a 2-core VM, most of what receiving costs; reading
 * each socket every 100 ms took a bare server that parses and decodes every
 * message from 0.93 to 0.54 at 300 calls (`net --read-pacing-ms 100`;
 * docs/performance.md, "Reading gateway sockets in batches").
 *
 * How: after a message of a live call, the socket's handle stops reading
 * (`readStop`) unless the frame that completes the call's next window is
 * near; it starts again after `intervalMs`, or `leadMs` before that frame is
 * due on the call's audio clock, whichever comes first. Frames meanwhile
 * wait in the kernel and are read together. The frame that ends a window —
 * the one a prompt can come from — is read as it arrives, so alert latency
 * does not wait for the interval; the frames before it arrive up to
 * `intervalMs` late to the server, which its lag figures count from the
 * earliest arrival (CallSession's lag anchor).
 *
 * The handle is Node's private TCP wrap (`socket._handle`): pacing is used
 * only where it has `readStart`/`readStop` and a `reading` flag, on plain
 * TCP sockets, and never fights Node's own flow control — a handle Node has
 * stopped (`reading` false: a paused socket's full buffer) is left to Node,
 * and Node sees a paced handle as reading, so it does not restart it.
 */
import type { Socket } from 'node:net';

/** The parts of Node's stream handle pacing uses. */
interface PacedHandle {
  readStart(): number;
  readStop(): number;
  reading: boolean;
}

export interface ReadPacerOptions {
  /** Longest a stopped socket stays stopped, ms. */
  intervalMs: number;
  /**
   * Reading resumes this long before the audio that completes a call's next
   * window is due, and does not stop while it is nearer, ms: more than one
   * 20 ms frame, so that the frame is read as it arrives. @defaultValue 30
   */
  leadMs?: number;
  /** Wall clock, ms (performance.now by default). */
  now?: () => number;
}

/** One socket's pacing, for the socket handler. */
export interface PacedSocket {
  /**
   * After a message: stops reading until the interval has passed or the
   * frame that completes the call's next window is `leadMs` from due.
   * `windowEndDueMs`: when that frame is due to arrive (the pacer's clock,
   * `performance.now()` by default); undefined: not streaming, keep reading.
   */
  afterMessage(windowEndDueMs: number | undefined): void;
  /** Stops pacing (socket closing): reading resumes now if it was stopped. */
  release(): void;
}

const UNPACED: PacedSocket = { afterMessage: () => undefined, release: () => undefined };

function pacedHandle(socket: Socket): PacedHandle | undefined {
  if ((socket as { encrypted?: boolean }).encrypted === true) return undefined;
  const handle = (socket as unknown as { _handle?: Partial<PacedHandle> | null })._handle;
  if (handle === null || handle === undefined) return undefined;
  if (typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function' || typeof handle.reading !== 'boolean') return undefined;
  return handle as PacedHandle;
}

export class ReadPacer {
  private readonly intervalMs: number;
  private readonly leadMs: number;
  private readonly now: () => number;
  /** Stopped handles → when they read again (ms, `now`) and their socket. */
  private readonly stopped = new Map<PacedHandle, { at: number; socket: Socket }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(options: ReadPacerOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`ReadPacer: intervalMs must be > 0, got ${options.intervalMs}`);
    this.intervalMs = options.intervalMs;
    this.leadMs = options.leadMs ?? 30;
    this.now = options.now ?? (() => performance.now());
    // Resumes are due at arbitrary times; a 5-ms sweep is late by less than a frame.
    this.tickMs = Math.min(5, this.intervalMs);
  }

  private pauses = 0;
  /** After `close()`: nothing is stopped any more. */
  private closed = false;

  /** Times a socket stopped reading, since the start (`undertone_gateway_read_pauses_total`). */
  get pausesTotal(): number {
    return this.pauses;
  }

  /** Stopped sockets now (for tests). */
  get stoppedCount(): number {
    return this.stopped.size;
  }

  /** Paces `socket` (a gateway's upgraded TCP socket); a socket it cannot pace is read as usual. */
  attach(socket: Socket): PacedSocket {
    const handle = pacedHandle(socket);
    if (handle === undefined) return UNPACED;
    let released = false;
    return {
      afterMessage: (windowEndDueMs) => {
        if (released || this.closed) return;
        const now = this.now();
        const resumeAt = windowEndDueMs === undefined ? now : windowEndDueMs - this.leadMs;
        if (this.stopped.has(handle)) {
          // Stopped by an earlier message of the same read; a later one finds the
          // window end near, or the stream ahead of real time: read on at once.
          if (resumeAt <= now) this.resume(handle, socket);
          return;
        }
        if (resumeAt <= now) return;
        // Node stopped it (backpressure on a paused socket): its own flow control decides.
        if (!handle.reading || socket.destroyed) return;
        handle.readStop();
        this.pauses += 1;
        this.stopped.set(handle, { at: Math.min(now + this.intervalMs, resumeAt), socket });
        this.arm();
      },
      release: () => {
        if (released) return;
        released = true;
        if (this.stopped.has(handle)) this.resume(handle, socket);
      },
    };
  }

  /** Resumes every socket and pauses none from now on (shutdown). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const [handle, { socket }] of this.stopped) this.resume(handle, socket);
  }

  private resume(handle: PacedHandle, socket: Socket): void {
    this.stopped.delete(handle);
    // `reading` false: Node stopped it meanwhile and restarts it itself.
    if (handle.reading && !socket.destroyed) handle.readStart();
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.sweep(), this.tickMs);
    this.timer.unref();
  }

  private sweep(): void {
    const now = this.now();
    for (const [handle, { at, socket }] of this.stopped) if (at <= now) this.resume(handle, socket);
    if (this.stopped.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
