import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MU_LAW_TO_FLOAT } from '../../src/audio/g711.js';
import { encodeMuLawWav, readWav, writeMuLawWav, writePcm16Wav } from '../../src/audio/wav.js';
import { AudioFormatError } from '../../src/shared/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpora = path.resolve(repoRoot, '../shared/corpora');
const clip = path.join(corpora, 'baved/0/0-m-21-0-1-105.wav');
const haveCorpora = existsSync(clip);

/** Builds a WAV by hand: fmt fields, extra chunks, data. */
function buildWav(opts: {
  tag: number;
  channels: number;
  rate: number;
  bits: number;
  data: Uint8Array;
  extensible?: boolean;
  extraChunk?: boolean;
}): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number): void => void parts.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  const u16 = (v: number): void => void parts.push(v & 0xff, (v >> 8) & 0xff);
  const cc = (s: string): void => void parts.push(...[...s].map((c) => c.charCodeAt(0)));
  cc('RIFF');
  u32(0);
  cc('WAVE');
  if (opts.extraChunk) {
    cc('LIST');
    u32(3);
    parts.push(1, 2, 3, 0); // odd size + pad byte
  }
  cc('fmt ');
  u32(opts.extensible ? 40 : 16);
  u16(opts.extensible ? 0xfffe : opts.tag);
  u16(opts.channels);
  u32(opts.rate);
  const block = (opts.bits / 8) * opts.channels;
  u32(opts.rate * block);
  u16(block);
  u16(opts.bits);
  if (opts.extensible) {
    u16(22);
    u16(opts.bits);
    u32(opts.channels === 1 ? 4 : 3);
    u16(opts.tag);
    parts.push(0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71);
  }
  cc('data');
  u32(opts.data.length);
  const out = Uint8Array.from([...parts, ...opts.data]);
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  return out;
}

describe('readWav', () => {
  it.skipIf(!haveCorpora)('reads a corpus clip (8 kHz mu-law, fact chunk) — skipped when ../shared/corpora is absent', async () => {
    const wav = readWav(await readFile(clip));
    expect(wav.sampleRate).toBe(8000);
    expect(wav.encoding).toBe('pcmu');
    expect(wav.channels).toBe(1);
    expect(wav.muLaw).toBeDefined();
    // manifest: 1.834 s
    expect(wav.samples.length / wav.sampleRate).toBeCloseTo(1.834, 2);
    expect(wav.muLaw!.length).toBe(wav.samples.length);
    for (let i = 0; i < 100; i++) expect(wav.samples[i]).toBe(MU_LAW_TO_FLOAT[wav.muLaw![i]!]);
    let peak = 0;
    for (const v of wav.samples) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeGreaterThan(0.01);
    expect(peak).toBeLessThanOrEqual(1);
  });

  it('round-trips mu-law through write/read', () => {
    const bytes = Uint8Array.from({ length: 801 }, (_, i) => (i * 37) & 0xff);
    const wav = readWav(encodeMuLawWav(bytes, 8000));
    expect(wav.encoding).toBe('pcmu');
    expect(Array.from(wav.muLaw!)).toEqual(Array.from(bytes));
    const x = Float32Array.from({ length: 400 }, (_, i) => 0.5 * Math.sin(i / 5));
    const back = readWav(writeMuLawWav(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(back.samples[i]! - x[i]!)).toBeLessThan(0.02);
  });

  it('round-trips 16-bit PCM at any rate, clipping out-of-range values', () => {
    const x = Float32Array.from({ length: 333 }, (_, i) => 0.7 * Math.sin(i / 3));
    x[10] = 1.5;
    const wav = readWav(writePcm16Wav(x, 22050));
    expect(wav.sampleRate).toBe(22050);
    expect(wav.encoding).toBe('pcm');
    expect(wav.bitsPerSample).toBe(16);
    expect(wav.muLaw).toBeUndefined();
    expect(wav.samples.length).toBe(333);
    expect(wav.samples[10]).toBeCloseTo(32767 / 32768, 6);
    for (let i = 0; i < x.length; i++) if (i !== 10) expect(Math.abs(wav.samples[i]! - x[i]!)).toBeLessThan(1 / 32768 + 1e-7);
  });

  it('takes channel 0 of stereo, skips unknown chunks, reads A-law and EXTENSIBLE', () => {
    const stereo = new Uint8Array(8);
    const dv = new DataView(stereo.buffer);
    dv.setInt16(0, 16384, true);
    dv.setInt16(2, -100, true);
    dv.setInt16(4, -16384, true);
    dv.setInt16(6, 100, true);
    const a = readWav(buildWav({ tag: 1, channels: 2, rate: 16000, bits: 16, data: stereo, extraChunk: true }));
    expect(a.channels).toBe(2);
    expect(Array.from(a.samples)).toEqual([0.5, -0.5]);
    const b = readWav(buildWav({ tag: 1, channels: 2, rate: 16000, bits: 16, data: stereo, extensible: true }));
    expect(Array.from(b.samples)).toEqual([0.5, -0.5]);
    const c = readWav(buildWav({ tag: 6, channels: 1, rate: 8000, bits: 8, data: Uint8Array.of(0xd5, 0xaa) }));
    expect(c.encoding).toBe('pcma');
    expect(c.samples[1]).toBeCloseTo(32256 / 32768, 6);
    const d = readWav(buildWav({ tag: 7, channels: 2, rate: 8000, bits: 8, data: Uint8Array.of(0x80, 0xff, 0x00, 0xff), extensible: true }));
    expect(Array.from(d.muLaw!)).toEqual([0x80, 0x00]);
  });

  it('reads a data chunk that claims more than the file holds up to the last whole frame', () => {
    const full = buildWav({ tag: 1, channels: 1, rate: 8000, bits: 16, data: new Uint8Array(10) });
    const cut = full.subarray(0, full.length - 3);
    expect(readWav(cut).samples.length).toBe(3);
  });

  it('rejects what it cannot read with AudioFormatError', () => {
    expect(() => readWav(new TextEncoder().encode('hello world, not audio'))).toThrow(AudioFormatError);
    expect(() => readWav(new Uint8Array(4))).toThrow(AudioFormatError);
    expect(() => readWav(buildWav({ tag: 0x55, channels: 1, rate: 8000, bits: 16, data: new Uint8Array(4) }))).toThrow(/format tag/);
    expect(() => readWav(buildWav({ tag: 1, channels: 1, rate: 8000, bits: 12, data: new Uint8Array(4) }))).toThrow(AudioFormatError);
    const noData = buildWav({ tag: 1, channels: 1, rate: 8000, bits: 16, data: new Uint8Array(0) }).subarray(0, 36);
    expect(() => readWav(noData)).toThrow(/no data chunk/);
    try {
      readWav(new Uint8Array(2));
    } catch (e) {
      expect((e as AudioFormatError).code).toBe('UT_ERR_AUDIO_FORMAT');
    }
  });
});
