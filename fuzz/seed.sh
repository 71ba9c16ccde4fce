#!/bin/sh
# Copies every asset model into fuzz/corpus/parse (gitignored) as the seed
# corpus. Usage: fuzz/seed.sh [ASSETS_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
assets=${1:-${MOTE_ASSETS:-$here/../../shared/assets}}
mkdir -p "$here/corpus/parse"
find "$assets" -name '*.tflite' | while read -r f; do
  cp "$f" "$here/corpus/parse/$(echo "$f" | sed "s|^$assets/||; s|/|_|g")"
done
ls "$here/corpus/parse" | wc -l
