import { describe, expect, it } from 'vitest';
import {
  A_LAW_TO_INT16,
  MU_LAW_TO_FLOAT,
  MU_LAW_TO_INT16,
  aLawToFloat,
  floatToALaw,
  floatToMuLaw,
  linearToALaw,
  linearToMuLaw,
  muLawToFloat,
  muLawToInt16,
} from '../../src/audio/g711.js';

describe('G.711 mu-law', () => {
  it('decodes the reference values', () => {
    expect(MU_LAW_TO_INT16[0xff]).toBe(0);
    expect(MU_LAW_TO_INT16[0x7f]).toBe(0);
    expect(MU_LAW_TO_INT16[0x00]).toBe(-32124);
    expect(MU_LAW_TO_INT16[0x80]).toBe(32124);
    expect(MU_LAW_TO_INT16[0xfe]).toBe(8);
    expect(MU_LAW_TO_FLOAT[0x80]).toBeCloseTo(32124 / 32768, 6);
  });

  it('encodes the reference values', () => {
    expect(linearToMuLaw(0)).toBe(0xff);
    expect(linearToMuLaw(32767)).toBe(0x80);
    expect(linearToMuLaw(-32768)).toBe(0x00);
    expect(linearToMuLaw(1e9)).toBe(0x80);
  });

  it('round-trips every code (the two zeros map to one)', () => {
    for (let b = 0; b < 256; b++) {
      const back = linearToMuLaw(MU_LAW_TO_INT16[b]!);
      expect(MU_LAW_TO_INT16[back]).toBe(MU_LAW_TO_INT16[b]);
      if (b !== 0x7f) expect(back).toBe(b);
    }
  });

  it('encodes to the nearest level (quantisation error within half a step)', () => {
    for (let v = -32000; v <= 32000; v += 37) {
      const decoded = MU_LAW_TO_INT16[linearToMuLaw(v)]!;
      // Step size at magnitude m is about m/16 (4 mantissa bits) and at least 8.
      expect(Math.abs(decoded - v)).toBeLessThanOrEqual(Math.max(8, Math.abs(v) / 16) + 1);
    }
  });

  it('converts arrays both ways', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const f = muLawToFloat(bytes);
    const i16 = muLawToInt16(bytes);
    expect(f[5]).toBeCloseTo(i16[5]! / 32768, 7);
    const again = floatToMuLaw(f);
    expect(Array.from(muLawToInt16(again))).toEqual(Array.from(i16));
  });
});

describe('G.711 A-law', () => {
  it('decodes the reference values', () => {
    expect(A_LAW_TO_INT16[0xd5]).toBe(8);
    expect(A_LAW_TO_INT16[0x55]).toBe(-8);
    expect(Math.abs(aLawToFloat(Uint8Array.of(0xd5))[0]!)).toBeLessThan(0.001);
    expect(A_LAW_TO_INT16[0xaa]).toBe(32256);
    expect(A_LAW_TO_INT16[0x2a]).toBe(-32256);
  });

  it('encodes the reference values', () => {
    expect(linearToALaw(0)).toBe(0xd5);
    expect(linearToALaw(-1)).toBe(0x55);
    expect(linearToALaw(32767)).toBe(0xaa);
    expect(linearToALaw(-32768)).toBe(0x2a);
  });

  it('round-trips every code', () => {
    for (let b = 0; b < 256; b++) expect(linearToALaw(A_LAW_TO_INT16[b]!)).toBe(b);
  });

  it('round-trips floats to within a quantisation step', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => 0.9 * Math.sin(i / 7));
    const y = aLawToFloat(floatToALaw(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(Math.max(16 / 32768, Math.abs(x[i]!) / 16));
  });
});
