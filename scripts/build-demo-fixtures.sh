#!/usr/bin/env bash
# Rebuilds the demo calls in audio-fixtures/demo/ from the nEMO corpus
# (CC BY-NC-SA 4.0, which allows adaptation with attribution and the same
# licence). Needs sox (Debian: apt-get install sox) and ../shared/corpora.
# Each call is a run of one speaker's clips with short pauses between them,
# 8 kHz mono mu-law, as a Twilio gateway would deliver it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpora=${CORPORA:-"$here/../shared/corpora"}
out="$here/audio-fixtures/demo"
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sox -n -r 8000 -c 1 -e signed -b 16 "$tmp/pause.wav" trim 0 0.5

# build NAME CLIP...: clips are paths relative to the corpora folder.
build() {
  local name=$1; shift
  local parts=()
  for clip in "$@"; do parts+=("$corpora/$clip" "$tmp/pause.wav"); done
  sox "${parts[@]}" -r 8000 -c 1 -e mu-law -b 8 "$out/$name.wav"
  printf '%s\n' "$@" > "$out/$name.clips.txt"
  echo "$name.wav: $(soxi -D "$out/$name.wav") s from $# clips"
}

# A caller (nEMO speaker MK0, female) who starts calm and turns angry:
# ten neutral clips, then ten angry ones. (Issue 8: MK0 and IC0 replace SM0
# and KD0, whose calls the production model with the calibrated defaults
# no longer tells apart; the demo follows the policy, not the reverse.)
calm=(); angry=()
for i in 1 2 3 4 5 6 7 8 9 10; do calm+=("nemo/MK0_neutral_$i.wav"); angry+=("nemo/MK0_anger_$i.wav"); done
build calm-then-angry "${calm[@]}" "${angry[@]}"

# A caller (nEMO speaker IC0, female) who stays calm: twenty neutral clips.
steady=()
for i in $(seq 1 20); do steady+=("nemo/IC0_neutral_$i.wav"); done
build stays-calm "${steady[@]}"
