import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { loadEmotionModel } from '../model/emotion-model.js';
import { DEFAULT_POLICY_FILE, loadPolicyFile, policyFactoryFrom, PolicyFileError } from '../policy/policy-file.js';
import { TIER_NAMES, type PolicyEvent, type Tier, type TierTimes } from '../policy/types.js';
import { createLogger } from '../shared/logger.js';
import { countEvents, emptyCounts, simulateCall, type SimulatedCall } from './simulate-run.js';
import { CLEAR_ANGER_LEVEL, MAX_STEP_RESPONSE_MS, stepResponseMs } from '../eval/step-response.js';

const HELP = `usage: npm run simulate -- [--policy FILE] [--json] [options] CALL.wav...

Runs recorded calls through the same chain as live calls (decode, features,
model, caller norm, escalation policy) with a candidate policy file, on the
calls' own audio clock and as fast as the CPU allows, and prints per call and
in total the prompts, tier changes and hand-overs the policy would have
produced, with their reasons and audio times, and the policy's step
response: how long after a clear anger onset it flags the call with a
perfect model (the shipped defaults keep it within 4.5 s; the target is
6 s). Nothing is published.

  --policy FILE        policy file, YAML or JSON (default: POLICY_FILE or ${DEFAULT_POLICY_FILE})
  --json               one JSON document on stdout instead of text
  --language L         call language (metadata 'language'), e.g. en-US, zh-CN
  --customer-tier T    metadata 'customerTier', e.g. vip
  --customer-name N    metadata 'customerName' (fills {customerName} in scripts)
  --agent ID           agent on the call (default sim-agent)
  --bot                a voicebot/IVR call: no agent, metadata botSession=true
  --meta KEY=VALUE     any other call metadata (repeatable)

Model files come from MODEL_PATH / MODEL_CARD_PATH (defaults models/emotion.*).
Exit code 0 on success, 1 when a call cannot be read, 2 on bad arguments or
an invalid policy file (every problem is listed).
`;

const secs = (ms: number): string => `${(ms / 1000).toFixed(1).padStart(6)} s`;

function eventLine(e: PolicyEvent): string {
  switch (e.type) {
    case 'prompt':
      return `${secs(e.audioMs)}  ✎ prompt      tier ${e.tier} ${e.scriptId} — ${e.reason}\n             “${e.text}”`;
    case 'priority':
      return `${secs(e.audioMs)}  ▲ priority    tier ${e.previousTier} → ${e.tier} (${TIER_NAMES[e.tier]}), priority ${e.previousPriority} → ${e.priority}${e.supervisorAlert ? ', supervisor alert' : ''} — ${e.reason}`;
    case 'recovered':
      return `${secs(e.audioMs)}  ▼ recovered   tier ${e.previousTier} → ${e.tier}, recovery ${(e.recoveryMs / 1000).toFixed(1)} s — ${e.reason}`;
    case 'handover':
      return `${secs(e.audioMs)}  ⇒ handover    to ${e.queue} (${e.target}), tier ${e.previousTier} → ${e.tier} — ${e.reason}`;
  }
}

const tierTimes = (t: TierTimes): string =>
  ([1, 2, 3, 4] as Tier[]).map((tier) => `tier ${tier} ${(t[tier] / 1000).toFixed(1)} s`).join(', ');

function printCall(c: SimulatedCall): void {
  const out = process.stdout;
  out.write(`\n━━ ${c.file} (${(c.audioMs / 1000).toFixed(1)} s of caller audio) ━━\n`);
  if (c.events.length === 0) out.write('        (no events: the call stayed routine)\n');
  for (const e of c.events) out.write(`${eventLine(e)}\n`);
  const k = c.counts;
  out.write(
    `  → ${k.prompts} prompts, ${k.priorities} priority raises, ${k.recoveries} recoveries, ${k.handovers} hand-overs; ` +
      `ends at tier ${c.finalTier}; ${tierTimes(c.msAtTier)}; peak window agitation ${c.peakWindowAgitation.toFixed(2)}\n`,
  );
}

function parseMeta(pairs: readonly string[], problems: string[]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) problems.push(`--meta must be KEY=VALUE, got '${pair}'`);
    else meta[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return meta;
}

/** What the step response says about a candidate policy, in words. */
function stepLine(ms: number): string {
  const what = `a head that jumps from calm to ${CLEAR_ANGER_LEVEL}`;
  if (ms === Number.POSITIVE_INFINITY) return `step response: ${what} is never flagged`;
  if (ms === Number.NEGATIVE_INFINITY) return `step response: the calm level alone raises an alert`;
  const verdict = ms <= MAX_STEP_RESPONSE_MS ? 'within' : 'over';
  return `step response: ${what} is flagged ${(ms / 1000).toFixed(1)} s after the anger starts (${verdict} the ${MAX_STEP_RESPONSE_MS / 1000}-s limit the shipped defaults keep, for the 6-s target)`;
}

/** `undertone simulate`: try a policy file on recorded calls before deploying it. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
      language: { type: 'string' },
      'customer-tier': { type: 'string' },
      'customer-name': { type: 'string' },
      agent: { type: 'string' },
      bot: { type: 'boolean', default: false },
      meta: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const problems: string[] = [];
  if (positionals.length === 0) problems.push('give at least one CALL.wav');
  const metadata = parseMeta(values.meta, problems);
  if (values.language !== undefined) metadata.language = values.language;
  if (values['customer-tier'] !== undefined) metadata.customerTier = values['customer-tier'];
  if (values['customer-name'] !== undefined) metadata.customerName = values['customer-name'];
  if (values.bot) metadata.botSession = 'true';
  if (values.bot && values.agent !== undefined) problems.push('--bot and --agent exclude each other');
  if (problems.length > 0) {
    process.stderr.write(`simulate: ${problems.join('; ')}\n\n${HELP}`);
    return 2;
  }

  const config = loadConfig(process.env);
  const policyPath = values.policy ?? config.policyFile;
  let policy;
  try {
    policy = loadPolicyFile(policyPath);
  } catch (error) {
    if (error instanceof PolicyFileError) {
      process.stderr.write(`simulate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: 'warn' });
  const model = await loadEmotionModel({ modelPath: config.modelPath, cardPath: config.modelCardPath, logger });
  const factory = policyFactoryFrom(policy);
  // The candidate's own latency on unmistakable anger (src/eval/step-response.ts), with this model's calm prior.
  const stepMs = model.agitationTracker ? stepResponseMs({ policy: policy.options, tracker: {} }, model.agitationTracker) : null;
  const calls: SimulatedCall[] = [];
  try {
    for (const [i, file] of positionals.entries()) {
      const call = await simulateCall(file, i, {
        model,
        policyFactory: factory,
        logger,
        metadata,
        agentId: values.bot ? undefined : (values.agent ?? 'sim-agent'),
      });
      calls.push(call);
      if (!values.json) printCall(call);
    }
  } catch (error) {
    process.stderr.write(`simulate: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await model.close();
  }

  const total = emptyCounts();
  for (const c of calls) {
    total.calls += 1;
    countEvents(c.events, total);
  }
  const audioMs = calls.reduce((s, c) => s + c.audioMs, 0);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ policyFile: policy.file, metadata, calls, total: { ...total, audioMs }, stepResponseMs: stepMs }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `\n━━ total: ${total.calls} calls, ${(audioMs / 1000).toFixed(1)} s of audio (policy ${policy.file}) ━━\n` +
        `  ${total.prompts} prompts, ${total.priorities} priority raises, ${total.recoveries} recoveries, ${total.handovers} hand-overs` +
        ` (${((total.prompts * 3_600_000) / Math.max(audioMs, 1)).toFixed(1)} prompts per hour of audio)\n` +
        (stepMs === null ? '' : `  ${stepLine(stepMs)}\n`),
    );
  }
  return 0;
}
