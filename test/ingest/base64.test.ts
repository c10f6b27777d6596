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
    ['a space in a whole group', '/// ////'],
    ['a tab in a whole group', '////\t///'],
    ['padding in the middle of a group', 'AA=A'],
    ['padding then data', 'A=A='],
    ['url-safe character among standard ones', 'ab-d'],
    ['underscore at the end', 'abc_'],
    ['non-ascii in a whole group', 'AAAé'],
    ['a NUL character', 'AA\u0000A'],
  ])('rejects %s (%j) that Buffer.from would accept', (_name, text) => {
    expect(isStrictBase64(text)).toBe(false);
    expect(decodeStrictBase64(text)).toBeUndefined();
  });
});

describe('strict base64 against the canonical-form regex it replaced', () => {
  // The definition, kept here as the oracle: whole 4-character groups of the
  // standard alphabet, at most two '=' at the end.
  const CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const JUNK = ['=', '-', '_', ' ', '\n', '\r', '\t', 'é', '\u0000', '.', '*', '~', '"'];

  it('agrees on thousands of valid strings with one or two characters damaged', () => {
    // A seeded generator, so a failure is reproducible.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: rand(30) }, () => rand(256));
      const chars = [...Buffer.from(bytes).toString('base64')];
      for (let k = 1 + rand(2); k > 0 && chars.length > 0; k--) {
        const at = rand(chars.length);
        const what = rand(3);
        const c = rand(2) === 0 ? JUNK[rand(JUNK.length)]! : ALPHABET[rand(ALPHABET.length)]!;
        if (what === 0) chars[at] = c; // replace
        else if (what === 1) chars.splice(at, 0, c); // insert
        else chars.splice(at, 1); // delete
      }
      const text = chars.join('');
      const canonical = CANONICAL.test(text);
      expect(isStrictBase64(text), JSON.stringify(text)).toBe(canonical);
      if (canonical) expect(Buffer.from(decodeStrictBase64(text)!)).toEqual(Buffer.from(text, 'base64'));
      else rejected++;
    }
    // The damage really produced invalid input, often.
    expect(rejected).toBeGreaterThan(1000);
  });
});
