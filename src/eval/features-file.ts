/**
 * The features.bin file train-features writes and models/training/train.py
 * reads (features_bin.py there is the reader). Little-endian:
 *
 *   "UTFEAT01" | uint32 header bytes H | H bytes JSON header (space-padded so
 *   the matrices start 4-byte aligned) | float32 X [rows × featureNames] |
 *   float32 META [rows × metaNames]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const FEATURES_MAGIC = 'UTFEAT01';

export interface FeaturesHeader {
  featureNames: readonly string[];
  metaNames: readonly string[];
  rows: number;
  clips: readonly Record<string, unknown>[];
  options: Record<string, unknown>;
}

/** Encodes header + matrices into one buffer. */
export function encodeFeaturesFile(header: FeaturesHeader, x: Float32Array, meta: Float32Array): Buffer {
  const nf = header.featureNames.length;
  const nm = header.metaNames.length;
  if (x.length !== header.rows * nf) throw new Error(`feature matrix has ${x.length} values, expected ${header.rows}×${nf}`);
  if (meta.length !== header.rows * nm) throw new Error(`meta matrix has ${meta.length} values, expected ${header.rows}×${nm}`);
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = Buffer.alloc(12);
  head.write(FEATURES_MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const le = (a: Float32Array): Buffer => {
    const b = Buffer.alloc(a.length * 4);
    for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i]!, i * 4);
    return b;
  };
  return Buffer.concat([head, json, le(x), le(meta)]);
}

/** Decodes a features file (tests and tools; training reads it in Python). */
export function decodeFeaturesFile(buf: Buffer): { header: FeaturesHeader; x: Float32Array; meta: Float32Array } {
  if (buf.toString('latin1', 0, 8) !== FEATURES_MAGIC) throw new Error('not a features.bin file');
  const h = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + h)) as FeaturesHeader;
  const nf = header.featureNames.length;
  const nm = header.metaNames.length;
  const read = (offset: number, count: number): Float32Array => {
    const a = new Float32Array(count);
    for (let i = 0; i < count; i++) a[i] = buf.readFloatLE(offset + i * 4);
    return a;
  };
  const x = read(12 + h, header.rows * nf);
  const meta = read(12 + h + header.rows * nf * 4, header.rows * nm);
  return { header, x, meta };
}

export async function writeFeaturesFile(file: string, header: FeaturesHeader, x: Float32Array, meta: Float32Array): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, encodeFeaturesFile(header, x, meta));
}
