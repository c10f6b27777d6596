import { describe, expect, it } from 'vitest';
import { decodeFeaturesFile, encodeFeaturesFile } from '../../src/eval/features-file.js';

describe('features.bin', () => {
  it('round-trips header and matrices with 4-byte-aligned data', () => {
    const header = { featureNames: ['a', 'b', 'c'], metaNames: ['clip', 'aug'], rows: 2, clips: [{ path: 'é.wav' }], options: { seed: 1 } };
    const x = Float32Array.from([1, 2, 3, 4.5, -5, 6]);
    const meta = Float32Array.from([0, 0, 1, 2]);
    const buf = encodeFeaturesFile(header, x, meta);
    expect(buf.toString('latin1', 0, 8)).toBe('UTFEAT01');
    expect((12 + buf.readUInt32LE(8)) % 4).toBe(0);
    const back = decodeFeaturesFile(buf);
    expect(back.header.featureNames).toEqual(['a', 'b', 'c']);
    expect(back.header.clips[0]).toEqual({ path: 'é.wav' });
    expect([...back.x]).toEqual([...x]);
    expect([...back.meta]).toEqual([...meta]);
    expect(() => encodeFeaturesFile({ ...header, rows: 3 }, x, meta)).toThrow(/expected 3×3/);
  });
});
