/**
 * Overload check: how one gateway streaming as fast as it can affects
 * everyone else. Starts the service (AUTH=off, a private queue), streams the
 * demo call unpaced in a loop from `--flooders` clients (each its own
 * process running `undertone replay --speed max`, so the client's own work
 * does not share the server's event loop), and meanwhile
 * times `GET /healthz` every 50 ms; prints p50/p90/p99 and how many audio
 * messages the server took per second.
 *
 *   npx tsx scripts/flood-probe.ts [--seconds 10] [--flooders 1] [--ingest-max-bytes-per-s N]
 *
 * `--ingest-max-bytes-per-s 1073741824` effectively switches pacing off, for
 * the comparison.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCallAudioAsMuLaw } from '../src/audio/load-call-audio.js';
import { startService } from '../src/cli/serve.js';
import { loadConfig } from '../src/config/config.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { Metrics } from '../src/observability/metrics.js';
import { createLogger } from '../src/shared/logger.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    flooders: { type: 'string', default: '1' },
    'ingest-max-bytes-per-s': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const config = loadConfig({
  ...process.env,
  AUTH: 'off',
  PORT: '0',
  LOG_LEVEL: 'error',
  ROUTING_QUEUE: `flood-probe-${randomUUID().slice(0, 8)}`,
  ...(values['ingest-max-bytes-per-s'] ? { INGEST_MAX_BYTES_PER_S: values['ingest-max-bytes-per-s'] } : {}),
});
const metrics = new Metrics({ defaultMetrics: false });
const service = await startService(config, { logger: createLogger(config), metrics });
const wsUrl = `${service.url.replace(/^http/, 'ws')}/v1/streams/twilio`;
const mulaw = await loadCallAudioAsMuLaw(resolve('audio-fixtures/demo/calm-then-angry.wav'));

void mulaw;
const flooders: ChildProcess[] = Array.from({ length: Number(values.flooders) }, () =>
  spawn(
    'bash',
    ['-c', `while true; do node --import tsx src/main.ts replay --url ${wsUrl} --agent flood --speed max audio-fixtures/demo/calm-then-angry.wav >/dev/null 2>&1; done`],
    { stdio: 'ignore', detached: true },
  ),
);
// Let the flooders start up (tsx, model-free replay) before measuring.
await new Promise((r) => setTimeout(r, 4000));

const latencies: number[] = [];
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  const start = performance.now();
  await fetch(`${service.url}/healthz`);
  latencies.push(performance.now() - start);
  await new Promise((r) => setTimeout(r, 50));
}
const elapsedS = (performance.now() - t0) / 1000;
const text = await metrics.registry.metrics();
const messages = Number(/^undertone_audio_messages_total\{source="twilio"\} (\S+)$/m.exec(text)?.[1] ?? 0);
for (const f of flooders) if (f.pid) process.kill(-f.pid, 'SIGTERM');
latencies.sort((a, b) => a - b);
const q = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
process.stdout.write(
  `pacing ${config.ingestMaxBytesPerS} B/s, ${values.flooders} flooder(s): /healthz p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms over ${latencies.length} requests; ` +
    `${(messages / elapsedS).toFixed(0)} audio messages/s taken (${(messages / elapsedS / 50).toFixed(1)}× real time)\n`,
);
await service.close();
process.exit(0);
