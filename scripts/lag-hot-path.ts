/**
 * Cost of what every scored window of every call pays for the lag metrics and
 * the overload guard (`onWindowLag` as buildApp wires it: AudioLag.observe +
 * OverloadGuard.observeLag), against a no-op. CPU ns per window from
 * `process.cpuUsage`; run with `--trace-gc` and count Scavenge lines to see
 * that it allocates nothing the no-op does not.
 *
 *   npx tsx scripts/lag-hot-path.ts [--noop] [--windows 10000000]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { OverloadGuard } from '../src/calls/overload-guard.js';
import { Metrics } from '../src/observability/metrics.js';

const { values } = parseArgs({ options: { noop: { type: 'boolean', default: false }, windows: { type: 'string', default: '10000000' } } });
const n = Number(values.windows);
const lag = new Metrics({ defaultMetrics: false }).audioLag;
const guard = new OverloadGuard({ lagMs: 1000, eventLoopMs: 500, logger: pino({ level: 'silent' }), tickMs: 1_000_000_000 });
let kept = 0;
const onWindowLag = values.noop
  ? (ms: number): void => {
      if (ms > kept) kept = ms;
    }
  : (ms: number): void => {
      lag.observe(ms);
      guard.observeLag(ms);
    };
for (let i = 0; i < 100_000; i++) onWindowLag((i % 997) * 0.37); // warm-up (JIT)
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) onWindowLag((i % 997) * 0.37);
const c = process.cpuUsage(c0);
guard.stop();
console.log(JSON.stringify({ mode: values.noop ? 'noop' : 'lag+guard', windows: n, cpu_ns_per_window: Number((((c.user + c.system) * 1000) / n).toFixed(1)) }));
