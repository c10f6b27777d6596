import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/audio/decoder.js';
import { A_LAW_TO_FLOAT, MU_LAW_TO_FLOAT, floatToALaw, floatToMuLaw } from '../../src/audio/g711.js';
import { resampleAll } from '../../src/audio/resample.js';
import { sine } from '../../src/audio/synth.js';
import { AudioFormatError } from '../../src/shared/errors.js';

function l16Bytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  const dv = new DataView(out.buffer);
  x.forEach((v, i) => dv.setInt16(i * 2, Math.round(v * 32767), true));
  return out;
}

describe('createDecoder', () => {
  it('decodes pcmu with the mu-law table', () => {
    const bytes = floatToMuLaw(sine(440, 0.02, 0.5));
    const y = createDecoder({ encoding: 'pcmu', sampleRate: 8000 })(bytes);
    expect(y.length).toBe(160);
    expect(Array.from(y)).toEqual(Array.from(bytes, (b) => MU_LAW_TO_FLOAT[b]!));
  });

  it('decodes pcma with the A-law table', () => {
    const bytes = floatToALaw(sine(440, 0.02, 0.5));
    const y = createDecoder({ encoding: 'pcma', sampleRate: 8000 })(bytes);
    expect(Array.from(y)).toEqual(Array.from(bytes, (b) => A_LAW_TO_FLOAT[b]!));
  });

  it('decodes l16 little-endian at 8 kHz', () => {
    const d = createDecoder({ encoding: 'l16', sampleRate: 8000 });
    const y = d(Uint8Array.of(0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f));
    expect(Array.from(y)).toEqual([0.5, -0.5, 32767 / 32768]);
  });

  it('carries an odd trailing byte into the next l16 payload', () => {
    const x = sine(300, 0.05, 0.6);
    const bytes = l16Bytes(x);
    const whole = createDecoder({ encoding: 'l16', sampleRate: 8000 })(bytes);
    const d = createDecoder({ encoding: 'l16', sampleRate: 8000 });
    const parts: number[] = [];
    // Odd sizes split samples across payloads.
    let at = 0;
    const sizes = [1, 3, 5, 2, 7, 1, 1, 0, 13];
    let k = 0;
    while (at < bytes.length) {
      const size = sizes[k++ % sizes.length]!;
      parts.push(...d(bytes.subarray(at, at + size)));
      at += size;
    }
    expect(parts.length).toBe(x.length);
    expect(Float32Array.from(parts)).toEqual(whole);
    expect(d(new Uint8Array(0)).length).toBe(0);
  });

  it('decodes l16 at 16 kHz to 8 kHz through the anti-alias resampler, chunking-invariant', () => {
    const x = sine(1000, 0.5, 0.5, 16000);
    const bytes = l16Bytes(x);
    const d = createDecoder({ encoding: 'l16', sampleRate: 16000 });
    const parts: number[] = [];
    for (let i = 0; i < bytes.length; i += 641) parts.push(...d(bytes.subarray(i, i + 641)));
    const reference = resampleAll(Float32Array.from(x, (v) => Math.round(v * 32767) / 32768), 16000);
    // Streaming output lags by the filter half-length; what came out matches.
    expect(parts.length).toBeGreaterThan(3900);
    for (let i = 0; i < parts.length; i++) expect(parts[i]).toBeCloseTo(reference[i]!, 6);
  });

  it('rejects unknown encodings and bad rates with AudioFormatError', () => {
    expect(() => createDecoder({ encoding: 'opus' as never, sampleRate: 8000 })).toThrow(AudioFormatError);
    expect(() => createDecoder({ encoding: 'pcmu', sampleRate: 0 })).toThrow(AudioFormatError);
  });
});
