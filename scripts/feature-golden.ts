/**
 * Writes test/fixtures/feature-golden.json.gz: the windows and per-frame
 * pitch decisions of the feature extractor on fixed audio (see
 * test/features/golden-run.ts). It was generated from the extractor
 * before the per-frame cost work of issue 13 (commit 94c37a2), so that the
 * optimised extractor could be held to the same output, and regenerated for
 * ut-features-4 (issue 8: two F0 contour-shape features, pitch ceiling
 * 500 → 650 Hz, which changes voicing and F0 on high-pitched frames and the
 * aperiodicity of frames whose deepest dip now lies at a lag of 12–15),
 * and for ut-features-5 (issue 13: YIN on every 2nd frame, F0 held on the
 * frame between, jitter over every 2nd frame: pitch and voicing change on
 * odd frames, and with them the windows).
 * Regenerate only when the features are meant to change (and the model is
 * retrained on them).
 *
 *   npx tsx scripts/feature-golden.ts           (write the fixture)
 *   npx tsx scripts/feature-golden.ts --check   (print today's largest differences from it)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { compareGolden } from '../test/features/golden-compare.js';
import { decodeGolden, encodeGolden, goldenInputs, GOLDEN_PATH, runGolden } from '../test/features/golden-run.js';

const inputs = await goldenInputs();
// 160 samples = the 20 ms media frames of a live call.
const records = inputs.map((input) => runGolden(input, 160));
if (process.argv.includes('--check')) {
  const golden = decodeGolden(readFileSync(GOLDEN_PATH));
  let failed = false;
  for (const r of records) {
    const g = golden.find((x) => x.name === r.name);
    if (g === undefined) throw new Error(`no golden record ${r.name}`);
    const d = compareGolden(g, r);
    failed ||= d.problems.length > 0;
    process.stdout.write(
      `${r.name}: max rel value Δ ${d.maxValueDiff.toExponential(2)}, F0 Δ ${d.maxF0DiffHz.toExponential(2)} Hz, ` +
        `aperiodicity Δ ${d.maxAperiodicityDiff.toExponential(2)}, energy Δ ${d.maxEnergyDiffDb.toExponential(2)} dB` +
        `${d.problems.length > 0 ? `\n  ${d.problems.join('\n  ')}` : ''}\n`,
    );
  }
  process.exitCode = failed ? 1 : 0;
} else {
  const file = encodeGolden(records);
  writeFileSync(GOLDEN_PATH, file);
  for (const r of records) {
    process.stdout.write(`${r.name}: ${r.samples} samples, ${r.windowPositions.length} windows, ${r.frameFlags.length} frames\n`);
  }
  process.stdout.write(`wrote ${GOLDEN_PATH} (${file.length} bytes)\n`);
}
