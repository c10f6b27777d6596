import { describe, expect, it } from 'vitest';
import { decodeStrictBase64, isStrictBase64 } from '../../src/ingest/base64.js';

describe('strict base64', () => {
  it('decodes canonical padded base64, byte for byte', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = Buffer.from(bytes).toString('base64');
      expect(isStrictBase64(text)).toBe(true);
      expect([...decodeStrictBase64(text)!]).toEqual([...bytes]);
    }
  });

  it.each([
    ['missing padding', '//8'],
    ['too much padding', '/w==='],
    ['padding in the middle', '/w==/w=='],
    ['url-safe alphabet', '-_-_'],
    ['whitespace', '//// ////'],
    ['newline', '////\n////'],
    ['non-ascii', '////é///'],
    ['lone char', 'A'],
    ['three pads', 'A==='],
  ])('rejects %s (%j) that Buffer.from would accept', (_name, text) => {
    expect(isStrictBase64(text)).toBe(false);
    expect(decodeStrictBase64(text)).toBeUndefined();
  });
});
