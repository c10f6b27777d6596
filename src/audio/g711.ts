/**
 * ITU-T G.711 mu-law and A-law codecs, by lookup table.
 *
 * Decoding is a table read per byte (256-entry tables built once at module
 * load). Encoding follows the reference algorithm of G.191 (Sun's g711.c),
 * so `decode(encode(x))` is the nearest G.711 level to `x`.
 */

const MU_BIAS = 0x84;
const MU_CLIP = 32635;

function muLawByteToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MU_BIAS) << exponent) - MU_BIAS;
  return sign !== 0 ? -magnitude : magnitude;
}

function aLawByteToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = (mantissa << 4) + 8;
  if (exponent !== 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  // G.711 A-law: sign bit set means positive.
  return sign !== 0 ? magnitude : -magnitude;
}

/** mu-law byte → linear 16-bit sample. */
export const MU_LAW_TO_INT16: Int16Array = (() => {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = muLawByteToLinear(i);
  return t;
})();

/** A-law byte → linear 16-bit sample. */
export const A_LAW_TO_INT16: Int16Array = (() => {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = aLawByteToLinear(i);
  return t;
})();

/** mu-law byte → float sample in [-1, 1] (int16 / 32768). */
export const MU_LAW_TO_FLOAT: Float32Array = Float32Array.from(MU_LAW_TO_INT16, (v) => v / 32768);

/** A-law byte → float sample in [-1, 1] (int16 / 32768). */
export const A_LAW_TO_FLOAT: Float32Array = Float32Array.from(A_LAW_TO_INT16, (v) => v / 32768);

/** Decodes mu-law bytes to 16-bit linear samples. `out` is allocated when not given. */
export function muLawToInt16(bytes: Uint8Array, out = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = MU_LAW_TO_INT16[bytes[i]!]!;
  return out;
}

/** Decodes mu-law bytes to float samples in [-1, 1]. `out` is allocated when not given. */
export function muLawToFloat(bytes: Uint8Array, out = new Float32Array(bytes.length)): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[i] = MU_LAW_TO_FLOAT[bytes[i]!]!;
  return out;
}

/** Decodes A-law bytes to 16-bit linear samples. `out` is allocated when not given. */
export function aLawToInt16(bytes: Uint8Array, out = new Int16Array(bytes.length)): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = A_LAW_TO_INT16[bytes[i]!]!;
  return out;
}

/** Decodes A-law bytes to float samples in [-1, 1]. `out` is allocated when not given. */
export function aLawToFloat(bytes: Uint8Array, out = new Float32Array(bytes.length)): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[i] = A_LAW_TO_FLOAT[bytes[i]!]!;
  return out;
}

/** Encodes one 16-bit linear sample (clamped to the int16 range) to a mu-law byte. */
export function linearToMuLaw(sample: number): number {
  let s = Math.round(sample);
  if (s > 32767) s = 32767;
  else if (s < -32768) s = -32768;
  const sign = s < 0 ? 0x80 : 0;
  let magnitude = sign !== 0 ? -s : s;
  if (magnitude > MU_CLIP) magnitude = MU_CLIP;
  magnitude += MU_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Encodes one 16-bit linear sample (clamped to the int16 range) to an A-law byte. */
export function linearToALaw(sample: number): number {
  let s = Math.round(sample);
  if (s > 32767) s = 32767;
  else if (s < -32768) s = -32768;
  // A-law works on 13-bit magnitudes; the sign bit is set for positive values.
  const sign = s >= 0 ? 0x80 : 0;
  let magnitude = s >= 0 ? s : -s - 1;
  magnitude >>= 3;
  let byte: number;
  if (magnitude < 32) {
    byte = magnitude >> 1;
  } else {
    let exponent = 1;
    while (magnitude >= 64 << (exponent - 1) && exponent < 7) exponent++;
    const mantissa = (magnitude >> exponent) & 0x0f;
    byte = (exponent << 4) | mantissa;
  }
  return (byte | sign) ^ 0x55;
}

/** Encodes float samples in [-1, 1] to mu-law bytes (values beyond ±1 clip). */
export function floatToMuLaw(samples: Float32Array, out = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = linearToMuLaw(samples[i]! * 32768);
  return out;
}

/** Encodes float samples in [-1, 1] to A-law bytes (values beyond ±1 clip). */
export function floatToALaw(samples: Float32Array, out = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = linearToALaw(samples[i]! * 32768);
  return out;
}
