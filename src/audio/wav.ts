/**
 * RIFF/WAVE reading and writing for corpus clips, fixtures and replays.
 *
 * Reads PCM (8/16/24/32-bit integer), IEEE float (32/64-bit), A-law and
 * mu-law, plain or WAVE_FORMAT_EXTENSIBLE, any channel count (channel 0 is
 * kept: on a call that is the caller) and any rate. Unknown chunks are
 * skipped. Writes mono mu-law and 16-bit PCM.
 */
import { AudioFormatError } from '../shared/errors.js';
import { A_LAW_TO_FLOAT, MU_LAW_TO_FLOAT, floatToMuLaw } from './g711.js';

/** How the samples were stored in the file. */
export type WavEncoding = 'pcm' | 'float' | 'pcma' | 'pcmu';

export interface WavAudio {
  sampleRate: number;
  encoding: WavEncoding;
  /** Bits per stored sample (8 for G.711). */
  bitsPerSample: number;
  /** Channels in the file; `samples` holds channel 0 only. */
  channels: number;
  /** Channel 0 as floats in [-1, 1]. */
  samples: Float32Array;
  /** Channel 0's raw bytes when the file is mu-law (the exact wire bytes of a call), else undefined. */
  muLaw: Uint8Array | undefined;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourCc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );
}

interface FmtChunk {
  formatTag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function parseFmt(view: DataView, offset: number, size: number): FmtChunk {
  if (size < 16) throw new AudioFormatError(`fmt chunk too short (${size} bytes)`);
  let formatTag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    // cbSize(2) validBits(2) channelMask(4) then the SubFormat GUID, whose
    // first two bytes are the ordinary format tag.
    if (size < 40) throw new AudioFormatError('WAVE_FORMAT_EXTENSIBLE fmt chunk too short');
    formatTag = view.getUint16(offset + 24, true);
  }
  if (channels < 1) throw new AudioFormatError('WAV declares zero channels');
  if (sampleRate < 1) throw new AudioFormatError('WAV declares a zero sample rate');
  return { formatTag, channels, sampleRate, blockAlign, bitsPerSample };
}

function encodingOf(fmt: FmtChunk): WavEncoding {
  switch (fmt.formatTag) {
    case WAVE_FORMAT_PCM:
      if ([8, 16, 24, 32].includes(fmt.bitsPerSample)) return 'pcm';
      break;
    case WAVE_FORMAT_IEEE_FLOAT:
      if (fmt.bitsPerSample === 32 || fmt.bitsPerSample === 64) return 'float';
      break;
    case WAVE_FORMAT_ALAW:
      if (fmt.bitsPerSample === 8) return 'pcma';
      break;
    case WAVE_FORMAT_MULAW:
      if (fmt.bitsPerSample === 8) return 'pcmu';
      break;
    default:
      throw new AudioFormatError(`unsupported WAV format tag 0x${fmt.formatTag.toString(16)}`);
  }
  throw new AudioFormatError(
    `unsupported bits per sample ${fmt.bitsPerSample} for WAV format tag ${fmt.formatTag}`,
  );
}

function readSample(view: DataView, at: number, encoding: WavEncoding, bits: number): number {
  if (encoding === 'pcm') {
    switch (bits) {
      case 8:
        return (view.getUint8(at) - 128) / 128;
      case 16:
        return view.getInt16(at, true) / 32768;
      case 24: {
        const v = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
        return v / 8388608;
      }
      default:
        return view.getInt32(at, true) / 2147483648;
    }
  }
  if (encoding === 'float') return bits === 32 ? view.getFloat32(at, true) : view.getFloat64(at, true);
  const byte = view.getUint8(at);
  return encoding === 'pcmu' ? MU_LAW_TO_FLOAT[byte]! : A_LAW_TO_FLOAT[byte]!;
}

/**
 * Reads a WAV file held in memory. Throws `AudioFormatError` when it is not
 * RIFF/WAVE, lacks a fmt or data chunk, or uses an unsupported format. A data
 * chunk that claims more bytes than the file holds (streaming writers leave
 * 0 or 0xFFFFFFFF there) is read up to the last whole frame present.
 */
export function readWav(buffer: Uint8Array): WavAudio {
  if (buffer.length < 12) throw new AudioFormatError('file too short to be a WAV file');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (fourCc(view, 0) !== 'RIFF' || fourCc(view, 8) !== 'WAVE') {
    throw new AudioFormatError('not a RIFF/WAVE file');
  }
  let fmt: FmtChunk | undefined;
  let dataOffset = -1;
  let dataSize = 0;
  let offset = 12;
  while (offset + 8 <= buffer.length) {
    const id = fourCc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + size > buffer.length) throw new AudioFormatError('fmt chunk truncated');
      fmt = parseFmt(view, body, size);
    } else if (id === 'data') {
      dataOffset = body;
      dataSize = Math.min(size, buffer.length - body);
      break;
    }
    // Chunks are padded to an even size.
    offset = body + size + (size & 1);
  }
  if (fmt === undefined) throw new AudioFormatError('WAV has no fmt chunk before its data');
  if (dataOffset < 0) throw new AudioFormatError('WAV has no data chunk');
  const encoding = encodingOf(fmt);
  const bytesPerSample = fmt.bitsPerSample / 8;
  const blockAlign = Math.max(fmt.blockAlign, bytesPerSample * fmt.channels);
  const frames = Math.floor(dataSize / blockAlign);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    samples[i] = readSample(view, dataOffset + i * blockAlign, encoding, fmt.bitsPerSample);
  }
  let muLaw: Uint8Array | undefined;
  if (encoding === 'pcmu') {
    muLaw = new Uint8Array(frames);
    for (let i = 0; i < frames; i++) muLaw[i] = buffer[dataOffset + i * blockAlign]!;
  }
  return {
    sampleRate: fmt.sampleRate,
    encoding,
    bitsPerSample: fmt.bitsPerSample,
    channels: fmt.channels,
    samples,
    muLaw,
  };
}

function writeHeader(
  view: DataView,
  formatTag: number,
  sampleRate: number,
  bitsPerSample: number,
  dataBytes: number,
  frames: number,
): number {
  const bytesPerSample = bitsPerSample / 8;
  const nonPcm = formatTag !== WAVE_FORMAT_PCM;
  // Non-PCM formats carry cbSize in fmt and a fact chunk (sample count).
  const fmtSize = nonPcm ? 18 : 16;
  const factBytes = nonPcm ? 12 : 0;
  const setCc = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  setCc(0, 'RIFF');
  view.setUint32(4, 4 + 8 + fmtSize + factBytes + 8 + dataBytes + (dataBytes & 1), true);
  setCc(8, 'WAVE');
  setCc(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, formatTag, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * bytesPerSample, true);
  view.setUint16(32, bytesPerSample, true);
  view.setUint16(34, bitsPerSample, true);
  let at = 36;
  if (nonPcm) {
    view.setUint16(at, 0, true);
    at += 2;
    setCc(at, 'fact');
    view.setUint32(at + 4, 4, true);
    view.setUint32(at + 8, frames, true);
    at += 12;
  }
  setCc(at, 'data');
  view.setUint32(at + 4, dataBytes, true);
  return at + 8;
}

/** Writes mono mu-law bytes (already encoded) as a WAV file (format tag 7). */
export function encodeMuLawWav(muLaw: Uint8Array, sampleRate = 8000): Uint8Array {
  const headerBytes = 8 + 4 + 8 + 18 + 12 + 8;
  const out = new Uint8Array(headerBytes + muLaw.length + (muLaw.length & 1));
  const view = new DataView(out.buffer);
  const at = writeHeader(view, WAVE_FORMAT_MULAW, sampleRate, 8, muLaw.length, muLaw.length);
  out.set(muLaw, at);
  return out;
}

/** Encodes mono float samples to mu-law and writes them as a WAV file. */
export function writeMuLawWav(samples: Float32Array, sampleRate = 8000): Uint8Array {
  return encodeMuLawWav(floatToMuLaw(samples), sampleRate);
}

/** Writes mono float samples (clipped to [-1, 1]) as a 16-bit PCM WAV file. */
export function writePcm16Wav(samples: Float32Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  let at = writeHeader(view, WAVE_FORMAT_PCM, sampleRate, 16, dataBytes, samples.length);
  for (let i = 0; i < samples.length; i++, at += 2) {
    const v = Math.round(samples[i]! * 32768);
    view.setInt16(at, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
  }
  return out;
}
