/** `npm run simulate` as an operator runs it, on the demo fixtures. */
import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/simulate.js';
import { DEFAULT_POLICY_OPTIONS } from '../../src/policy/options.js';
import { MODEL_CARD_PATH, MODEL_PATH } from '../integration/helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../audio-fixtures/demo/${name}.wav`, import.meta.url));

async function simulate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  vi.stubEnv('MODEL_PATH', MODEL_PATH);
  vi.stubEnv('MODEL_CARD_PATH', MODEL_CARD_PATH);
  try {
    return { code: await run(args), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe('simulate', () => {
  it('runs the demo calls with a candidate policy and reports events with reasons (JSON)', async () => {
    // A touchy candidate policy: tier 2 at 0.5, so the angry half of the demo call surely escalates.
    const dir = mkdtempSync(join(tmpdir(), 'ut-sim-'));
    cpSync('config/playbooks', join(dir, 'playbooks'), { recursive: true });
    const policy = join(dir, 'touchy.yaml');
    writeFileSync(policy, 'escalation:\n  enterThresholds: { 2: 0.5 }\n  exitThresholds: { 2: 0.35 }\n');
    const { code, out, err } = await simulate(['--policy', policy, '--json', '--customer-name', 'Sam', fixture('calm-then-angry'), fixture('stays-calm')]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out) as {
      policyFile: string;
      calls: { file: string; audioMs: number; events: { type: string; reason: string; audioMs: number; text?: string }[]; msAtTier: Record<string, number> }[];
      total: { calls: number; prompts: number; priorities: number; handovers: number; audioMs: number };
    };
    expect(result.policyFile).toBe(policy);
    expect(result.calls).toHaveLength(2);
    const angry = result.calls[0]!;
    expect(angry.audioMs).toBeGreaterThan(30_000);
    const first = angry.events.find((e) => e.type === 'priority');
    const dwellS = (DEFAULT_POLICY_OPTIONS.enterDwellMs / 1000).toFixed(1);
    expect(first?.reason).toMatch(new RegExp(`^tier 1 → 2: agitation 0\\.\\d\\d above 0\\.50 for ${dwellS.replace('.', '\\.')} s`));
    expect(angry.events.find((e) => e.type === 'prompt')?.text).toMatch(/\bSam\b/);
    // Time at tier covers the whole call from its start.
    const t = angry.msAtTier;
    expect((t['1'] ?? 0) + (t['2'] ?? 0) + (t['3'] ?? 0) + (t['4'] ?? 0)).toBe(angry.audioMs);
    expect(result.total.calls).toBe(2);
    expect(result.total.prompts).toBe(result.calls.reduce((n, c) => n + c.events.filter((e) => e.type === 'prompt').length, 0));
    expect(result.total.audioMs).toBe(angry.audioMs + result.calls[1]!.audioMs);
    // A touchier tier 2 answers clear anger at least as fast as the shipped one.
    expect((JSON.parse(out) as { stepResponseMs: number }).stepResponseMs).toBeLessThanOrEqual(4000);
  });

  it('prints text per call and in total with the shipped policy', async () => {
    const { code, out } = await simulate([fixture('calm-then-angry')]);
    expect(code).toBe(0);
    expect(out).toContain('━━ ');
    expect(out).toMatch(/calm-then-angry\.wav \(\d\d\.\d s of caller audio\)/);
    expect(out).toMatch(/━━ total: 1 calls, \d\d\.\d s of audio/);
    // The shipped policy's chain answers clear anger within the calibration's limit.
    expect(out).toMatch(/step response: a head that jumps from calm to 0\.95 is flagged \d\.\d s after the anger starts \(within the 4\.5-s limit/);
  });

  it('refuses an invalid policy file listing every problem, and bad arguments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-sim-'));
    const policy = join(dir, 'bad.yaml');
    writeFileSync(policy, 'prompts: { maxPerMinute: 0 }\nbot: { handoverAtTier: 9 }\n');
    const bad = await simulate(['--policy', policy, fixture('stays-calm')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('prompts.maxPerMinute: must be a whole number ≥ 1 (got 0)');
    expect(bad.err).toContain('bot.handoverAtTier: must be 2, 3 or 4 (got 9)');
    expect((await simulate([])).code).toBe(2);
    expect((await simulate(['--meta', 'novalue', fixture('stays-calm')])).err).toMatch(/--meta must be KEY=VALUE/);
  });
});
