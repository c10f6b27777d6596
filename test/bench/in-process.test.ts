import { describe, expect, it } from 'vitest';
import { runInProcess, stageFigures } from '../../src/bench/in-process.js';
import { MODEL_CARD_PATH, MODEL_PATH, loadFixtureMuLaw } from '../integration/helpers.js';

describe('in-process bench', () => {
  it('scales synchronous stages by the CPU the process got, and takes the model from the inference time', () => {
    const f = stageFigures({ decode: 100, features: 400, model: 9000, policy: 20 }, { cpuMs: 300, wallMs: 600, callS: 10, windows: 200, inferenceMs: 0.05 });
    expect(f.wall).toEqual({ decode: 10, features: 40, model: 900, policy: 2 });
    expect(f.cpu).toEqual({ decode: 5, features: 20, model: 1, policy: 1, other: 3 }); // 300 − (50 + 200 + 10 + 10) = 30 ms over 10 call-s
  });

  it('runs calls through CallSession with the StageClock and reports every stage', async () => {
    const f = await runInProcess({
      mulaw: await loadFixtureMuLaw('calm-then-angry'),
      calls: 2,
      seconds: 4,
      memoryCalls: 3,
      inferences: 20,
      modelPath: MODEL_PATH,
      cardPath: MODEL_CARD_PATH,
      policyFile: 'config/policy.yaml',
    });
    expect(f.mode).toBe('in-process');
    expect(f.windows_scored).toBeGreaterThan(0);
    expect(f.cpu_ms_per_call_second).toBeGreaterThan(0);
    expect(Object.keys(f.stage_wall_ms_per_call_second).sort()).toEqual(['decode', 'features', 'model', 'pitch', 'policy', 'publish']);
    expect(f.stage_wall_ms_per_call_second['features']).toBeGreaterThan(0);
    expect(f.stage_wall_ms_per_call_second['pitch']).toBeGreaterThan(0);
    expect(f.stage_cpu_ms_per_call_second).toHaveProperty('other');
    expect(f.inference_ms_p50).toBeGreaterThan(0);
  }, 60_000);
});
