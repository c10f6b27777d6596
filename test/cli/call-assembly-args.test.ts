import { describe, expect, it } from 'vitest';
import { readCallAssemblyArgs } from '../../src/cli/call-assembly-args.js';

describe('readCallAssemblyArgs (eval and train-features)', () => {
  it('reads the flags with their defaults', () => {
    expect(readCallAssemblyArgs({ manifest: 'm.csv', seed: '1', pause: '0.6' })).toEqual({
      manifest: 'm.csv',
      root: undefined,
      seed: 1,
      pauseS: 0.6,
      jobs: undefined,
    });
    expect(readCallAssemblyArgs({ manifest: 'm.csv', root: 'r', seed: '7', pause: '0', jobs: '2' })).toMatchObject({ root: 'r', seed: 7, pauseS: 0, jobs: 2 });
  });

  it('names the bad flag instead of running with NaN', () => {
    expect(readCallAssemblyArgs({})).toBe('--manifest is required');
    expect(readCallAssemblyArgs({ manifest: 'm', pause: 'abc' })).toMatch(/^--pause must be/);
    expect(readCallAssemblyArgs({ manifest: 'm', seed: '1.5' })).toMatch(/^--seed must be/);
    expect(readCallAssemblyArgs({ manifest: 'm', jobs: '0' })).toMatch(/^--jobs must be/);
  });
});
