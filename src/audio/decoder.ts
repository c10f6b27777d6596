/**
 * Per-call wire decoder: encoded payloads in, 8 kHz float samples out.
 *
 * One decoder per call and track: L16 payloads may split a sample across two
 * messages (an odd byte count), and the resampler keeps filter state, so
 * the decoder is stateful and must not be shared.
 */
import type { AudioFormat } from '../ingest/call-event.js';
import { AudioFormatError } from '../shared/errors.js';
import { PIPELINE_SAMPLE_RATE } from '../features/types.js';
import { A_LAW_TO_FLOAT, MU_LAW_TO_FLOAT } from './g711.js';
import { createResampler, outputsAfter } from './resample.js';

/**
 * Decodes one payload to float samples in [-1, 1] at 8 kHz; it may be empty.
 * The result is valid until the next call: the G.711 decoders reuse their
 * output array while payload sizes repeat (a 20 ms media frame is always 160
 * bytes), so copy it to keep it.
 */
export type AudioDecoder = (payload: Uint8Array) => Float32Array;

function g711Decoder(table: Float32Array): (payload: Uint8Array) => Float32Array {
  let out = new Float32Array(0);
  return (payload) => {
    const n = payload.length;
    if (out.length !== n) out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = table[payload[i]!]!;
    return out;
  };
}

/** Signed 16-bit little-endian PCM; an odd trailing byte is carried into the next payload. */
function l16Decoder(): (payload: Uint8Array) => Float32Array {
  let carry = -1;
  return (payload) => {
    const total = payload.length + (carry >= 0 ? 1 : 0);
    const count = total >> 1;
    const out = new Float32Array(count);
    let i = 0;
    let n = 0;
    if (carry >= 0 && payload.length > 0) {
      out[n++] = (((payload[0]! << 8) | carry) << 16) >> 16;
      i = 1;
      carry = -1;
    }
    for (; i + 1 < payload.length; i += 2) {
      out[n++] = (((payload[i + 1]! << 8) | payload[i]!) << 16) >> 16;
    }
    if (i < payload.length) carry = payload[i]!;
    for (let k = 0; k < n; k++) out[k] = out[k]! / 32768;
    return out;
  };
}

/**
 * The pipeline samples a decoder of `format` has given after `wireBytes`
 * bytes of its stream, before flooring (an L16 byte is half a sample), for
 * formats where that is a function of the byte count alone: 8 kHz, and the
 * rates that are whole multiples of it (16, 24, 32, 48 kHz: the resampler's
 * lag is fixed, see `outputsAfter`). Undefined for the rest. Lets a DSP
 * worker hold audio undecoded and still know when it would complete a window.
 */
export function pipelineSamplesAfter(format: AudioFormat): ((wireBytes: number) => number) | undefined {
  const bytesPerSample = format.encoding === 'l16' ? 2 : 1;
  if (format.sampleRate === PIPELINE_SAMPLE_RATE) return (wireBytes) => wireBytes / bytesPerSample;
  const outputs = outputsAfter(format.sampleRate, PIPELINE_SAMPLE_RATE);
  return outputs === undefined ? undefined : (wireBytes) => outputs(Math.floor(wireBytes / bytesPerSample));
}

/**
 * Creates the decoder for one call's audio format: `pcmu` and `pcma`
 * (G.711) and `l16` (little-endian, any rate; 16 kHz is low-passed and
 * decimated to 8 kHz). Throws `AudioFormatError` for an unknown encoding or
 * a non-positive rate.
 */
export function createDecoder(format: AudioFormat): AudioDecoder {
  const { encoding, sampleRate } = format;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new AudioFormatError(`invalid sample rate ${String(sampleRate)}`);
  }
  let decode: (payload: Uint8Array) => Float32Array;
  switch (encoding) {
    case 'pcmu':
      decode = g711Decoder(MU_LAW_TO_FLOAT);
      break;
    case 'pcma':
      decode = g711Decoder(A_LAW_TO_FLOAT);
      break;
    case 'l16':
      decode = l16Decoder();
      break;
    default:
      throw new AudioFormatError(`unsupported audio encoding ${String(encoding)}`);
  }
  if (sampleRate === PIPELINE_SAMPLE_RATE) return decode;
  const resampler = createResampler(sampleRate, PIPELINE_SAMPLE_RATE);
  return (payload) => resampler.process(decode(payload));
}
