/**
 * Prometheus metrics (prom-client) on a registry of their own, one per app,
 * passed in as a dependency (tests build several apps in one process; the
 * global registry would make them collide). Served at `GET /metrics` by
 * src/observability/metrics-route.ts.
 *
 * Labels never carry call, agent or stream ids: the cardinality stays fixed
 * and the endpoint holds no personal data.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AudioLag } from './audio-lag.js';
import { STAGES, type StageClock } from './stage-clock.js';

/** Why a connection, call or message was refused; the `reason` label of `undertone_refusals_total`. */
export type RefusalReason =
  | 'auth_missing'
  | 'auth_invalid'
  | 'auth_expired'
  | 'auth_forbidden'
  | 'max_calls'
  | 'connection_rate'
  | 'message_too_big'
  | 'start_timeout'
  | 'idle_timeout'
  | 'slow_consumer'
  | 'shutting_down'
  | 'overloaded'
  | 'over_capacity';

/** Policy events a routing worker handled after their call had ended; the `type` label of `undertone_expired_events_total`. */
export type ExpiredEventType = 'prompt' | 'priority' | 'recovered' | 'handover';

/** Why a policy event did not reach Redis; the `reason` label of `undertone_dropped_events_total`. */
export type DropReason = 'buffer_full' | 'rejected' | 'closed';

/** Gauges read when Prometheus scrapes; set by whoever owns the value. */
export interface MetricSources {
  /** Live (and flushing) calls. */
  activeCalls?: () => number;
  /** Events waiting in the publisher's retry buffer. */
  publishBuffered?: () => number;
  /** Routing-queue job counts by state (waiting, active, …). */
  queueCounts?: () => Promise<Record<string, number>>;
  /**
   * Per-stage time sums exported as `undertone_stage_seconds_total{stage}`:
   * one clock or several (e.g. one per DSP worker), summed at each scrape.
   */
  stageClock?: StageClock | readonly StageClock[];
  /** 1 while the overload guard refuses new calls (`undertone_overloaded`). */
  overloaded?: () => boolean;
  /** The load shedder's admission limit (`undertone_admission_limit_calls`; 0 while unlimited). */
  admissionLimit?: () => number;
  /** Batches posted to the DSP worker threads so far (`undertone_dsp_batches_total`; absent without workers). */
  dspBatches?: () => number;
  /** Open calls per live DSP worker thread (`undertone_dsp_worker_calls{worker}`; absent without workers). */
  dspWorkerCalls?: () => { worker: number; calls: number }[];
  /** Times a gateway socket stopped reading until its next paced read (`undertone_gateway_read_pauses_total`; absent without pacing). */
  gatewayReadPauses?: () => number;
}

/** A tally the hot path bumps with `n += 1`; summed into its counter at each scrape. */
export interface MessageTally {
  n: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly refusals: Counter<'reason'>;
  readonly droppedEvents: Counter<'reason'>;
  readonly publishFailures: Counter;
  readonly audioMessages: Counter<'source'>;
  readonly inferenceSeconds: Histogram;
  /** Window lag: `undertone_audio_lag_seconds` and `undertone_audio_lag_max_seconds`; fed by `CallPipeline.onWindowLag`. */
  readonly audioLag: AudioLag;
  /** Prompts and priority changes a routing worker met after their call had ended (delivered marked `stale`, never as live). */
  readonly expiredEvents: Counter<'type'>;
  /** Live calls closed by the load shedder (`undertone_shed_calls_total`). */
  readonly shedCalls: Counter;
  /** Agent messages sent to local sockets ahead of the routing queue (`undertone_agent_local_messages_total`). */
  readonly agentLocalMessages: Counter<'type'>;
  private readonly sources: MetricSources = {};
  private readonly audioTallies = new Map<string, MessageTally>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'undertone_' });
    this.refusals = new Counter({
      name: 'undertone_refusals_total',
      help: 'Connections, calls and messages refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.droppedEvents = new Counter({
      name: 'undertone_dropped_events_total',
      help: 'Policy events that never reached the routing queue, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.publishFailures = new Counter({
      name: 'undertone_publish_failures_total',
      help: 'Publish attempts that failed (the call kept being scored)',
      registers,
    });
    const audioTallies = this.audioTallies;
    this.audioMessages = new Counter({
      name: 'undertone_audio_messages_total',
      help: 'Gateway audio messages taken (rate() = frames per second)',
      labelNames: ['source'],
      registers,
      // Counted in plain tallies (audioMessageTally), added up here: a
      // prom-client inc() per message was ~1 % of a loaded main thread.
      collect() {
        this.reset();
        for (const [source, tally] of audioTallies) if (tally.n > 0) this.inc({ source }, tally.n);
      },
    });
    this.inferenceSeconds = new Histogram({
      name: 'undertone_inference_seconds',
      help: 'Model inference time per scored batch of windows',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.expiredEvents = new Counter({
      name: 'undertone_expired_events_total',
      help: 'Prompts and priority changes handled after their call had ended (sent to the agent marked stale; routing not told)',
      labelNames: ['type'],
      registers,
    });
    this.audioLag = new AudioLag();
    this.audioLag.register(this.registry);
    const sources = this.sources;
    new Counter({
      name: 'undertone_stage_seconds_total',
      help: 'Time spent in each stage of the per-call chain, summed over every call (synchronous work: about CPU time)',
      labelNames: ['stage'],
      registers,
      collect() {
        const clocks = sources.stageClock === undefined ? [] : Array.isArray(sources.stageClock) ? sources.stageClock : [sources.stageClock as StageClock];
        this.reset();
        STAGES.forEach((stage, i) => {
          let ms = 0;
          for (const clock of clocks) ms += clock.ms[i] ?? 0;
          this.inc({ stage }, ms / 1000);
        });
      },
    });
    this.shedCalls = new Counter({
      name: 'undertone_shed_calls_total',
      help: 'Live calls closed (1013) because the instance could not score all its calls in time',
      registers,
    });
    this.agentLocalMessages = new Counter({
      name: 'undertone_agent_local_messages_total',
      help: 'Prompts and priority changes sent to agent sockets on the instance that decided them, ahead of the routing queue (AGENT_LOCAL_DELIVERY)',
      labelNames: ['type'],
      registers,
    });
    new Gauge({
      name: 'undertone_admission_limit_calls',
      help: 'Live calls this instance admits since it last had to shed calls (its measured capacity); 0 while it has not had to',
      registers,
      collect() {
        const limit = sources.admissionLimit?.();
        this.set(limit !== undefined && Number.isFinite(limit) ? limit : 0);
      },
    });
    new Gauge({
      name: 'undertone_overloaded',
      help: '1 while this instance refuses new calls because it cannot keep up (window lag or event-loop delay), else 0',
      registers,
      collect() {
        if (sources.overloaded) this.set(sources.overloaded() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'undertone_active_calls',
      help: 'Live calls on this instance',
      registers,
      collect() {
        if (sources.activeCalls) this.set(sources.activeCalls());
      },
    });
    new Gauge({
      name: 'undertone_publish_buffer_events',
      help: 'Policy events waiting in the publish retry buffer for Redis',
      registers,
      collect() {
        if (sources.publishBuffered) this.set(sources.publishBuffered());
      },
    });
    new Gauge({
      name: 'undertone_queue_jobs',
      help: 'Routing-queue jobs by state (from Redis; absent while Redis is away)',
      labelNames: ['state'],
      registers,
      async collect() {
        if (!sources.queueCounts) return;
        try {
          const counts = await sources.queueCounts();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        } catch {
          // Redis away: no queue figures this scrape, the rest still reported.
          this.reset();
        }
      },
    });
  }

  /** A counter whose total is read from a source at each scrape, registered once. */
  private sourceCounter(name: string, help: string, total: () => number): void {
    if (this.registry.getSingleMetric(name) !== undefined) return;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(total());
      },
    });
  }

  /** Registers where a scraped gauge reads its value; later calls replace earlier ones. */
  setSources(sources: MetricSources): void {
    Object.assign(this.sources, sources);
    // Only a server with DSP workers has the series (a 0 would read as "no batches" with inline DSP).
    if (sources.dspBatches !== undefined) {
      this.sourceCounter(
        'undertone_dsp_batches_total',
        'Batches posted to the DSP worker threads, one message each (rate() against undertone_audio_messages_total: payloads per batch)',
        () => this.sources.dspBatches?.() ?? 0,
      );
    }
    // Only a paced server has it (0 would read as "paced, never paused").
    if (sources.gatewayReadPauses !== undefined) {
      this.sourceCounter(
        'undertone_gateway_read_pauses_total',
        'Times a gateway socket stopped reading until its next paced read (GATEWAY_READ_PACING_MS); rate() against undertone_audio_messages_total: how many messages each read takes',
        () => this.sources.gatewayReadPauses?.() ?? 0,
      );
    }
    if (sources.dspWorkerCalls !== undefined && this.registry.getSingleMetric('undertone_dsp_worker_calls') === undefined) {
      const all = this.sources;
      new Gauge({
        name: 'undertone_dsp_worker_calls',
        help: 'Open calls pinned to each live DSP worker thread (worker = its index, as in the thread name dsp-<index>); DSP_PACK_CALLS fills one before the next',
        labelNames: ['worker'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const { worker, calls } of all.dspWorkerCalls?.() ?? []) this.set({ worker: String(worker) }, calls);
        },
      });
    }
  }

  /**
   * The tally of gateway audio messages of one source (`twilio`, `l16`, …):
   * bump `n` per message; `undertone_audio_messages_total{source}` reads it
   * at each scrape. Every caller of one source shares the tally.
   */
  audioMessageTally(source: string): MessageTally {
    let tally = this.audioTallies.get(source);
    if (tally === undefined) {
      tally = { n: 0 };
      this.audioTallies.set(source, tally);
    }
    return tally;
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  dropped(reason: DropReason): void {
    this.droppedEvents.inc({ reason });
  }

  expired(type: ExpiredEventType): void {
    this.expiredEvents.inc({ type });
  }
}
