/**
 * What a compiled kernel would buy: the feature stream's per-sample front
 * end (src/features/front-end.ts, ≈ 12 % of the stream's CPU) run as the
 * stream runs it, in 160-sample blocks, against the same recurrences in C
 * (scripts/native/front-end.c, compiled here with the machine's gcc at -O2
 * and at -O3 -march=native) fed the same coefficients. Prints CPU ns per
 * sample and ms per call-second (8 kHz) for each, and whether the last
 * outputs (band, low-pass, envelope) agree bit for bit:
 *
 *   npx tsx scripts/front-end-cost.ts [--seconds 2000]
 *
 * The front end is eight chained biquads per sample: a chain of dependent
 * multiply-adds, which neither V8 nor gcc can vectorise, so this measures
 * how far compiled scalar code gets on the kind of arithmetic most of the
 * stream does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FeatureFrontEnd } from '../src/features/front-end.js';
import { DC_POLE } from '../src/features/pitch-input.js';

const { values: v } = parseArgs({ options: { seconds: { type: 'string', default: '2000' } } });
const seconds = Number(v.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be > 0, got ${v.seconds}`);

const BLOCK = 160;
const input = new Float32Array(BLOCK).map((_, i) => 0.1 * Math.sin(i * 0.3) + 0.05 * Math.sin(i * 1.7));

function runJs(s: number): { nsPerSample: number; checksum: number } {
  const fe = new FeatureFrontEnd(8000);
  const band = new Float32Array(1024);
  const low = new Float32Array(1024);
  const env = new Float32Array(1024);
  const samples = Math.round(s * 8000);
  const c0 = process.cpuUsage();
  for (let n = 0; n < samples; n += BLOCK) {
    fe.process(input, 0, BLOCK, band, low, env, 0, 512);
    fe.flushDenormals();
  }
  const c = process.cpuUsage(c0);
  return { nsPerSample: ((c.user + c.system) * 1000) / samples, checksum: band[159]! + low[159]! + env[159]! };
}

function coefficients(): number[] {
  const fe = new FeatureFrontEnd(8000);
  return [...fe.band.coef, ...fe.pitch.lp.coef, ...fe.pitch.envLp.coef];
}

const rows: { build: string; nsPerSample: number; checksum: number }[] = [];
runJs(Math.min(50, seconds)); // warm-up: let V8 optimise the loop first
rows.push({ build: 'JS (V8, as served)', ...runJs(seconds) });

const source = new URL('./native/front-end.c', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'front-end-'));
try {
  for (const [build, flags] of [
    ['C, gcc -O2', ['-O2']],
    ['C, gcc -O3 -march=native', ['-O3', '-march=native']],
  ] as const) {
    const bin = join(dir, build.replace(/\W+/g, '_'));
    try {
      execFileSync('gcc', [...flags, '-o', bin, source, '-lm'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      console.log(`${build}: not built (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    const out = execFileSync(bin, [String(seconds), String(DC_POLE), ...coefficients().map(String)], { encoding: 'utf8' });
    const r = JSON.parse(out) as { ns_per_sample: number; checksum: number };
    rows.push({ build, nsPerSample: r.ns_per_sample, checksum: r.checksum });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const js = rows[0]!;
for (const r of rows) {
  const msPerCallS = (r.nsPerSample * 8000) / 1e6;
  const same = r.checksum === js.checksum ? 'same output' : `output differs (${r.checksum} vs ${js.checksum})`;
  console.log(`${r.build.padEnd(26)} ${r.nsPerSample.toFixed(2).padStart(6)} ns/sample  ${msPerCallS.toFixed(3)} ms per call-second  ×${(js.nsPerSample / r.nsPerSample).toFixed(2)}  ${same}`);
}
console.log(JSON.stringify({ seconds, builds: rows.map((r) => ({ build: r.build, ns_per_sample: Number(r.nsPerSample.toFixed(3)) })) }));
