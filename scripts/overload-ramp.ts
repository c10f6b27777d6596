/**
 * Overload, seen from outside: ramps real-time Twilio calls (100 ms chunks,
 * the calm-then-angry fixture looped) against a running `undertone serve`
 * until `--calls` were started, scraping /metrics every 2 s, and prints one
 * JSON line per scrape and a summary: calls refused with 1013, calls that
 * streamed to their end, the server's CPU seconds (from /proc/<pid>/stat).
 * Not a benchmark (see `npm run bench`): it shows the overload guard at work.
 *
 *   AUTH=off PORT=18931 ROUTING_QUEUE=ramp-$$ LOG_LEVEL=warn MAX_CALLS=2000 \
 *     CONNECTIONS_PER_IP_PER_MINUTE=0 node --import tsx src/main.ts serve &
 *   npx tsx scripts/overload-ramp.ts --url http://127.0.0.1:18931 --pid <server pid> [--calls 300] [--seconds 50]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readWav } from '../src/audio/wav.js';
import { streamTwilioCall } from '../src/gateway-sim/twilio-stream-client.js';

const { values } = parseArgs({
  options: { url: { type: 'string' }, pid: { type: 'string' }, calls: { type: 'string', default: '300' }, seconds: { type: 'string', default: '50' } },
});
if (values.url === undefined || values.pid === undefined) throw new Error('usage: overload-ramp --url http://host:port --pid <server pid> [--calls N] [--seconds S]');
const base = values.url;
const pid = values.pid;
const maxCalls = Number(values.calls);
const seconds = Number(values.seconds);
const one = readWav(readFileSync(new URL('../audio-fixtures/demo/calm-then-angry.wav', import.meta.url))).muLaw!;
const audio = new Uint8Array(one.length * 3);
for (let i = 0; i < 3; i++) audio.set(one, i * one.length);
const wsUrl = `${base.replace(/^http/, 'ws')}/v1/streams/twilio`;

function cpuS(): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const WANTED = ['undertone_active_calls', 'undertone_overloaded', 'undertone_audio_lag_max_seconds', 'undertone_refusals_total{reason="overloaded"}', 'undertone_audio_lag_seconds_count'];
async function scrape(): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) for (const w of WANTED) if (line.startsWith(`${w} `)) out[w] = Number(line.slice(w.length + 1));
  return out;
}

const started = Date.now();
const calls: Promise<void>[] = [];
let refused = 0;
let otherClose = 0;
let completed = 0;
const perStep = Math.ceil(maxCalls / ((seconds - 10) / 2));
const cpu0 = cpuS();
const timer = setInterval(() => {
  const t = Math.round((Date.now() - started) / 1000);
  for (let i = 0; i < perStep && calls.length < maxCalls && t < seconds - 10; i++) {
    // Every call ends by the end of the run.
    const bytes = Math.max(8000, Math.min(audio.length, Math.floor(((seconds * 1000 - (Date.now() - started)) / 1000) * 8000)));
    calls.push(
      streamTwilioCall({ url: wsUrl, mulaw: audio.subarray(0, bytes), chunkBytes: 800, agentId: `ramp-${calls.length}` }).then(
        (r) => {
          if (r.closedByServer?.code === 1013) refused++;
          else if (r.closedByServer) otherClose++;
          else completed++;
        },
        () => void otherClose++,
      ),
    );
  }
  void scrape().then((m) => console.log(JSON.stringify({ t, started: calls.length, ...m })), () => undefined);
}, 2000);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(timer);
await Promise.allSettled(calls);
console.log(JSON.stringify({ summary: true, calls: calls.length, refused1013: refused, otherClose, completed, serverCpuS: Number((cpuS() - cpu0).toFixed(2)), ...(await scrape()) }));
