/**
 * One call pinned to a DSP worker, as the main thread sees it: pushes go to
 * its worker host's batch for this turn; the host hands back each batch's
 * results in order. Keeps the call's audio clock on the main thread so
 * `samplesSeen` (the lag anchor, `audioMs`) is known as soon as a payload
 * arrives, not one worker round trip later.
 */
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import type { AudioFormat } from '../ingest/call-event.js';
import { windowEndsUpTo, type DspCall, type DspCallSink, type DspWindow } from './dsp-engine.js';

/** What a call needs from its host. */
export interface CallHost {
  enqueueAudio(call: WorkerCall, payload: Uint8Array): void;
  enqueueClose(call: WorkerCall): void;
  /** The call is done (drained or aborted): it no longer counts on the host. */
  retire(call: WorkerCall): void;
}

export class WorkerCall implements DspCall {
  /** Wire bytes per sample (2 for L16, else 1). */
  readonly bytesPerSample: number;
  private readonly wireRate: number;
  private bytesPushed = 0;
  /** Payloads posted (or about to be) whose results have not come back. */
  inFlight = 0;
  /** Pipeline samples the worker reported, and the wire samples it had then. */
  private reportedSamples = 0;
  private reportedWireSamples = 0;
  private finishing = false;
  private done = false;
  private resolveDone!: () => void;
  private readonly drained = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(
    /** The call's number on the pool (messages name calls by it). */
    readonly id: number,
    readonly callId: string,
    readonly format: AudioFormat,
    private readonly sink: DspCallSink,
    private readonly host: CallHost,
  ) {
    this.bytesPerSample = format.encoding === 'l16' ? 2 : 1;
    this.wireRate = format.sampleRate;
  }

  /** Wire samples (whole ones) pushed so far. */
  get wireSamples(): number {
    return Math.floor(this.bytesPushed / this.bytesPerSample);
  }

  get bytes(): number {
    return this.bytesPushed;
  }

  get samplesSeen(): number {
    const wire = this.wireSamples;
    // 8 kHz formats decode one pipeline sample per wire sample: exact, now.
    if (this.wireRate === PIPELINE_SAMPLE_RATE) return wire;
    if (this.inFlight === 0) return this.reportedSamples;
    return this.reportedSamples + Math.floor(((wire - this.reportedWireSamples) * PIPELINE_SAMPLE_RATE) / this.wireRate);
  }

  get pendingWindows(): number {
    if (this.done || this.inFlight === 0) return 0;
    return windowEndsUpTo(this.samplesSeen) - windowEndsUpTo(this.reportedSamples);
  }

  /** Whether results for this call are still wanted. */
  get open(): boolean {
    return !this.done;
  }

  push(payload: Uint8Array): void {
    if (this.finishing) throw new Error('DspCall: push after finish');
    if (this.done) return;
    this.bytesPushed += payload.length;
    this.inFlight += 1;
    this.host.enqueueAudio(this, payload);
  }

  finish(): Promise<void> {
    if (!this.finishing) {
      this.finishing = true;
      this.host.enqueueClose(this);
      if (this.inFlight === 0) this.end();
    }
    return this.drained;
  }

  abort(): void {
    if (this.done) return;
    if (!this.finishing) this.host.enqueueClose(this);
    this.finishing = true;
    this.end();
  }

  /**
   * A batch's results for this call: `payloads` of its payloads came back,
   * the worker had then `samples` pipeline samples from `wireBytes` bytes.
   */
  delivered(payloads: number, wireBytes: number, samples: number | undefined, windows: DspWindow[]): void {
    this.inFlight -= payloads;
    if (this.done) return;
    if (samples !== undefined) {
      this.reportedSamples = samples;
      this.reportedWireSamples = Math.floor(wireBytes / this.bytesPerSample);
    }
    this.sink.onScored(windows);
    if (this.finishing && this.inFlight === 0) this.end();
  }

  /**
   * Windows of the batch in flight, scored ahead of the rest of it: to the
   * sink now. The batch's `delivered` still settles the payloads.
   */
  deliveredEarly(windows: DspWindow[]): void {
    if (this.done) return;
    this.sink.onScored(windows);
  }

  /** The call's DSP failed in the worker, or the worker died. */
  failed(error: unknown, what: string): void {
    if (this.done) return;
    this.abort();
    this.sink.onError(error, what);
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.host.retire(this);
    this.resolveDone();
  }
}
