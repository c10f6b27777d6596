#!/usr/bin/env bash
# Retrains the emotion model: `npm run train` (or: bash models/training/train.sh [options]).
#
#   MANIFEST=path/to/manifest.csv   clip manifest (default ../shared/corpora/manifest.csv)
#   ROOT=DIR                        folder the manifest's paths are relative to (default: its folder)
#   AUGMENT=N                       augmented passes per call in extraction (default 0)
#   SPEED=LIST                      speed-perturbation passes, comma-separated factors (default 0.9,1.1;
#                                   empty for none); only the agitation head learns from them
#   PYTHON=/usr/bin/python3         interpreter with numpy, torch, onnx (Debian packages)
#   Extra arguments go to train.py (e.g. --quick, --config mlp64, --seeds 3).
#
# Step 1 streams every clip through the live path (mu-law decode → caller
# feature stream), each speaker's clips as one call, into
# models/training/.work/features.bin. Step 2 validates (leave-one-corpus-out,
# speaker-independent), trains and writes models/emotion.onnx + models/emotion.json.
# Operators retrain on their own licensed recordings with the same command and
# a manifest of the same columns (path, corpus, speaker, label, arousal, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."

MANIFEST="${MANIFEST:-../shared/corpora/manifest.csv}"
AUGMENT="${AUGMENT:-0}"
SPEED="${SPEED-0.9,1.1}"
PYTHON="${PYTHON:-/usr/bin/python3}"
WORK=models/training/.work
FEATURES="$WORK/features.bin"

if ! "$PYTHON" -c 'import numpy, torch, onnx' 2>/dev/null; then
  echo "train: $PYTHON lacks numpy, torch or onnx. On Debian/Ubuntu:" >&2
  echo "  apt-get install python3-torch python3-sklearn python3-onnx" >&2
  exit 1
fi
if [ ! -f "$MANIFEST" ]; then
  echo "train: manifest $MANIFEST not found (set MANIFEST=...)" >&2
  exit 1
fi

mkdir -p "$WORK"
extract=(npx tsx src/main.ts train-features --manifest "$MANIFEST" --out "$FEATURES" --augment "$AUGMENT")
if [ -n "$SPEED" ]; then extract+=(--speed "$SPEED"); fi
if [ -n "${ROOT:-}" ]; then extract+=(--root "$ROOT"); fi
echo "train: ${extract[*]}" >&2
"${extract[@]}"

train=("$PYTHON" models/training/train.py --features "$FEATURES" --out-model models/emotion.onnx --out-card models/emotion.json "$@")
echo "train: ${train[*]}" >&2
"${train[@]}" --command "MANIFEST=$MANIFEST AUGMENT=$AUGMENT SPEED=$SPEED npm run train${*:+ -- $*}"
