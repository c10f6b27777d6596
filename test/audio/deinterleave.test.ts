import { describe, expect, it } from 'vitest';
import { StereoSplitter } from '../../src/audio/deinterleave.js';

describe('StereoSplitter', () => {
  it('splits L16 stereo frames into left and right byte streams', () => {
    const s = new StereoSplitter(2);
    // frames: L=0x0201 R=0x0403, L=0x0605 R=0x0807
    const [l, r] = s.push(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect([...l]).toEqual([1, 2, 5, 6]);
    expect([...r]).toEqual([3, 4, 7, 8]);
    expect(s.pendingBytes).toBe(0);
  });

  it('carries a partial frame across messages without shifting channels', () => {
    const s = new StereoSplitter(2);
    const bytes = Uint8Array.from({ length: 24 }, (_, i) => i);
    const lefts: number[] = [];
    const rights: number[] = [];
    for (const [a, b] of [[0, 3], [3, 10], [10, 11], [11, 24]] as const) {
      const [l, r] = s.push(bytes.subarray(a, b));
      lefts.push(...l);
      rights.push(...r);
    }
    expect(lefts).toEqual([0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21]);
    expect(rights).toEqual([2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23]);
  });

  it('splits one-byte samples (G.711 stereo)', () => {
    const [l, r] = new StereoSplitter(1).push(Uint8Array.from([10, 20, 11, 21, 12]));
    expect([...l]).toEqual([10, 11]);
    expect([...r]).toEqual([20, 21]);
  });
});
