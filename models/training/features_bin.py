"""Reader for the features.bin file written by `undertone train-features`.

Layout (all little-endian):

    bytes 0..7   b"UTFEAT01"
    uint32       H, the byte length of the JSON header that follows
    H bytes      JSON header (UTF-8, space-padded so the matrices start 4-byte aligned)
    float32      X    [rows, len(featureNames)]   feature values, FEATURE_NAMES order
    float32      META [rows, len(metaNames)]      per-window metadata (clip index, ...)

The header carries `featureNames`, `metaNames`, `rows`, `clips` (one object per
manifest clip: path, corpus, speaker, label, arousal, durationS), `options`.
"""
import json
import struct

import numpy as np

MAGIC = b"UTFEAT01"


def read_features(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a features.bin file (bad magic {data[:8]!r})")
    (hlen,) = struct.unpack_from("<I", data, 8)
    header = json.loads(data[12 : 12 + hlen].decode("utf-8"))
    off = 12 + hlen
    rows = int(header["rows"])
    nf = len(header["featureNames"])
    nm = len(header["metaNames"])
    x = np.frombuffer(data, dtype="<f4", count=rows * nf, offset=off).reshape(rows, nf)
    off += rows * nf * 4
    meta = np.frombuffer(data, dtype="<f4", count=rows * nm, offset=off).reshape(rows, nm)
    return header, np.array(x, dtype=np.float32), np.array(meta, dtype=np.float32)


def write_features(path, header, x, meta):
    """Used by tests and the dummy generator; the TS writer is the real producer."""
    header = dict(header)
    header["rows"] = int(x.shape[0])
    hj = json.dumps(header).encode("utf-8")
    pad = (4 - (12 + len(hj)) % 4) % 4
    hj += b" " * pad
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(hj)))
        f.write(hj)
        f.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
        f.write(np.ascontiguousarray(meta, dtype="<f4").tobytes())
