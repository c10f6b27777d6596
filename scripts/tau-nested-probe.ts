/**
 * Probe (issue 8, sixth round): does a longer smoothing time constant help
 * on held-out corpora, or only on the calls it was chosen on? Reads the
 * calibration cache (DIR/validation-scores.json, written by
 * calibrate-policy.ts) and, for each set of time constants, replays the
 * absolute-head grid through the real tracker and policy. Prints the choice
 * made on all corpora and the nested figure (each corpus judged with the
 * setting chosen on the other three), as calls detected in time and
 * false-alarm calls.
 *
 *   npx tsx scripts/tau-nested-probe.ts [--loco-dir models/training/.work/loco] [--per-kind]
 *
 * `--per-kind`: each kind of false alarm within its own share as well
 * (calibrate-policy's `targets` objective); without it, the pooled allowance
 * only. No demo requirement here (calibrate-policy's `--require-demo`).
 */
import { parseArgs } from 'node:util';
import { absoluteHeadGrid, chooseAndNest, countsLine, loadValidationCalls, replayGrid } from './lib/validation-probe.js';

const { values } = parseArgs({
  options: {
    'loco-dir': { type: 'string', default: 'models/training/.work/loco' },
    'per-kind': { type: 'boolean', default: false },
  },
});
const calls = loadValidationCalls(values['loco-dir']!);
const perKind = values['per-kind'] === true;
const ENTERS = [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

for (const taus of [[2000], [3000], [4000], [6000], [500, 1000, 2000], [500, 1000, 2000, 3000], [500, 1000, 2000, 3000, 4000, 6000]]) {
  const label = `tau ${taus.join(', ')}`;
  const choice = chooseAndNest(replayGrid(calls, absoluteHeadGrid(taus, ENTERS), label), perKind);
  process.stdout.write(`${label}: all ${countsLine(choice.all)} | nested ${countsLine(choice.nested)}\n`);
}
